package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/shopspring/decimal"
)

// The documentation forms of the clinical record: one form for every kind
// of pumpledger.Kinds() that is Clinical, its fields read off the kind's
// payload (their JSON names, as `KIND add --file` takes them), the form
// turned into that JSON and read by the kind's own Parse: the same checks
// and the same sentences as the command line. A document is uploaded, its
// bytes sniffed as the command line sniffs a file; the file-path form of
// document, which the command line reads from its disk, is never taken
// from the web (it would read the server's files).

// maxRecordBody bounds a form: one document and the fields around it.
const maxRecordBody = pumpledger.MaxAttachmentBytes + 1<<20

// The fields whose kind of input the payload's Go type does not say.
var (
	dateFields = map[string]bool{"onset": true, "from": true, "to": true, "date": true, "reassess_by": true}
	textFields = map[string]bool{"details": true, "function": true, "adverse_events": true, "finding": true}
	enumFields = map[string][]string{"priority": pumpledger.Priorities, "unit": pumpledger.AuthorizationUnits,
		"status": pumpledger.AuthorizationState, "outcome": pumpledger.TherapyOutcomes,
		"cognition": pumpledger.CognitionFindings, "psychiatric": pumpledger.PsychiatricFinding,
		"relationship": pumpledger.Relationships}
	hints = map[string]string{"codes": "HCPCS codes, separated by commas: J2278", "code": "ICD-10-CM: G89.4",
		"refill": "the refill entry's id, from the patient's history", "relief_percent": "0 to 100",
		"pain_score": "0 to 10", "ck_u_l": "creatine kinase, U/L, when drawn", "payer": "a payer profile of the catalog",
		"document": "PDF, PNG or JPEG, at most 20 MB"}
)

var (
	typeInstant    = reflect.TypeFor[pumpledger.Instant]()
	typeDecimal    = reflect.TypeFor[decimal.Decimal]()
	typeNullDec    = reflect.TypeFor[decimal.NullDecimal]()
	typeAttachment = reflect.TypeFor[*pumpledger.Attachment]()
)

// formField is one field of a kind's form.
type formField struct {
	Name, Label, Input, Hint string // Input: text, date, datetime-local, number, decimal, list, textarea, select, yesno, file
	Options                  []string
	Value                    string
	Error                    string
}

// ID is the field's element id.
func (f formField) ID() string { return "f-" + f.Name }

// fieldsOf lists the form fields of a clinical kind, in its payload's order.
func fieldsOf(spec pumpledger.KindSpec) []formField {
	return structFields(reflect.TypeOf(spec.Payload()).Elem(), "", "")
}

// structFields lists a payload's fields; an object inside it (a coverage's
// subscriber and the subscriber's address) is its fields, named by their
// path ("subscriber.address.city"), so the form stays flat.
func structFields(t reflect.Type, path, labelPrefix string) []formField {
	var out []formField
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if key == "" || key == "-" || key == "id" && path == "" {
			continue
		}
		name := path + key
		if st := sf.Type; st.Kind() == reflect.Pointer && st.Elem().Kind() == reflect.Struct && st != typeAttachment && st.Elem() != typeInstant {
			out = append(out, structFields(st.Elem(), name+".", labelPrefix+label(key)+": ")...)
			continue
		}
		f := formField{Name: name, Label: labelPrefix + label(key), Input: "text", Hint: hints[key]}
		if path != "" {
			f.Hint = "" // a nested field's hint would be its parent's namesake's
		}
		switch {
		case sf.Type == typeAttachment:
			f.Input = "file"
		case sf.Type == typeInstant:
			f.Input = "datetime-local"
		case sf.Type == typeDecimal || sf.Type == typeNullDec:
			f.Input = "decimal"
		case sf.Type.Kind() == reflect.Int || sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Int:
			f.Input = "number"
		case sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Bool:
			f.Input, f.Options = "yesno", []string{"yes", "no"}
		case sf.Type.Kind() == reflect.Slice:
			f.Input = "list"
		case enumFields[key] != nil:
			f.Input, f.Options = "select", enumFields[key]
		case dateFields[key] || key == "birth_date":
			f.Input = "date"
		case textFields[key]:
			f.Input = "textarea"
		}
		out = append(out, f)
	}
	return out
}

func label(name string) string {
	switch name {
	case "mrn":
		return "MRN"
	case "ck_u_l":
		return "CK (U/L)"
	case "member_id":
		return "Member ID"
	}
	s := strings.ReplaceAll(name, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// clinicalKind is the kind the path names, if it is one of the record's.
func clinicalKind(r *http.Request) (pumpledger.KindSpec, bool) {
	spec, ok := pumpledger.KindOf(pumpledger.Kind(r.PathValue("kind")))
	return spec, ok && spec.Clinical
}

func clinicalKinds() []pumpledger.Kind {
	var out []pumpledger.Kind
	for _, k := range pumpledger.Kinds() {
		if k.Clinical {
			out = append(out, k.Kind)
		}
	}
	return out
}

type recordData struct {
	base
	Kind     pumpledger.Kind
	Kinds    []pumpledger.Kind
	ID       string // the entry's id: a form sent twice records once
	Fields   []formField
	Recorded string // the entry just recorded
	MRN      string
	Warnings []string
	Existing bool
	Reattach bool // a document was sent with a refused form: a browser does not keep it
}

func (s *Server) recordPage(w http.ResponseWriter, r *http.Request) {
	spec, ok := clinicalKind(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	d := s.recordForm0(r, spec)
	for i := range d.Fields {
		if d.Fields[i].Name == "mrn" {
			d.Fields[i].Value = r.URL.Query().Get("mrn")
		}
	}
	// After a save (POST, then redirect here): what was recorded, with its
	// warnings, read back from the ledger.
	if id := r.URL.Query().Get("recorded"); id != "" {
		e, err := s.db.Entry(id)
		if err == nil && e.Kind == spec.Kind {
			var p struct{ MRN string }
			json.Unmarshal(e.Payload, &p)
			if err := s.viewed(r, p.MRN, "recorded "+string(e.Kind)); err != nil {
				d.Error = pumpledger.ErrorMessage(errShown(err))
			} else {
				d.Recorded, d.MRN, d.Warnings = e.ID, p.MRN, e.Warnings
			}
		}
	}
	s.show(w, http.StatusOK, "document.html", d)
}

func (s *Server) recordForm0(r *http.Request, spec pumpledger.KindSpec) recordData {
	fields := fieldsOf(spec)
	// A payer is one of the catalog's profiles: offered as a choice, not
	// typed. Without the catalog the field stays text, and the parser
	// names the profiles when one is wrong.
	if cat, err := s.db.Catalog(r.Context()); err == nil && len(cat.PayerIDs()) > 0 {
		for i := range fields {
			if fields[i].Name == "payer" {
				fields[i].Input, fields[i].Options = "select", cat.PayerIDs()
			}
		}
	}
	return recordData{base: s.base(r, "Record "+string(spec.Kind)), Kind: spec.Kind, Kinds: clinicalKinds(),
		ID: uuid.NewString(), Fields: fields}
}

// recordForm records the form's entry; a refusal shows the form again, as
// typed, the sentence beside the field it names.
func (s *Server) recordForm(w http.ResponseWriter, r *http.Request) {
	spec, ok := clinicalKind(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	d := s.recordForm0(r, spec)
	refuse := func(err error) {
		msg, field := pumpledger.ErrorMessage(errShown(err)), fieldOf(err)
		// The field named, else the nearest field it is inside of
		// (document.sha256: the document's; subscriber: its first field).
		at := -1
		for i := range d.Fields {
			if name := d.Fields[i].Name; name == field {
				at = i
				break
			} else if at < 0 && (strings.HasPrefix(field, name+".") || strings.HasPrefix(name, field+".")) {
				at = i
			}
		}
		shown := at >= 0
		if shown {
			d.Fields[at].Error = msg
		}
		if !shown {
			d.Error = msg
		}
		if r.MultipartForm != nil && len(r.MultipartForm.File["document"]) > 0 && field != "document" {
			d.Reattach = true
		}
		s.show(w, httpStatus(err), "document.html", d)
	}
	if r.ContentLength > maxRecordBody {
		refuse(docTooBig(r.ContentLength))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRecordBody)
	// Held in memory whole (the limit is below maxMemory): a patient's
	// document is never spooled to a temporary file.
	if err := r.ParseMultipartForm(maxRecordBody + 1); err != nil {
		if tooBig(err) {
			refuse(docTooBig(r.ContentLength))
			return
		}
		refuse(pumpledger.Invalid("form", "The form could not be read; send it again from this page."))
		return
	}
	defer r.MultipartForm.RemoveAll()
	if id := r.PostForm.Get("id"); id != "" {
		d.ID = id
	}
	in := map[string]any{"id": d.ID}
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.Input == "file" {
			continue
		}
		f.Value = strings.TrimSpace(r.PostForm.Get(f.Name))
		if f.Value != "" {
			setPath(in, f.Name, jsonValue(*f))
		}
	}
	body, _ := json.Marshal(in)
	v, err := pumpledger.ParseInput(spec.Kind, bytes.NewReader(body))
	if err != nil {
		refuse(err)
		return
	}
	if err := attachUpload(r, v); err != nil {
		refuse(err)
		return
	}
	res, err := s.db.RecordClinical(r.Context(), v)
	if err != nil {
		refuse(s.savedAlready(err, d.ID))
		return
	}
	http.Redirect(w, r, "/record/"+string(spec.Kind)+"?recorded="+urlQuery(res.Entry.ID), http.StatusSeeOther)
}

func docTooBig(n int64) error {
	return pumpledger.Invalid("document", "document is %d bytes, more than the %d MB a document may be; scan it at a lower resolution or split it.", n, pumpledger.MaxAttachmentBytes>>20)
}

// setPath sets in's field at a dotted path, making the objects on the way:
// a nested field given makes its object; none given leaves it out.
func setPath(in map[string]any, path string, v any) {
	for {
		head, rest, nested := strings.Cut(path, ".")
		if !nested {
			in[head] = v
			return
		}
		next, ok := in[head].(map[string]any)
		if !ok {
			next = map[string]any{}
			in[head] = next
		}
		in, path = next, rest
	}
}

// jsonValue is what a form field's text is in the kind's JSON input.
func jsonValue(f formField) any {
	switch f.Input {
	case "number":
		if n, err := strconv.Atoi(f.Value); err == nil {
			return n
		}
	case "yesno":
		switch f.Value {
		case "yes":
			return true
		case "no":
			return false
		}
	case "list":
		var out []string
		for _, s := range strings.Split(f.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	case "datetime-local":
		// A browser gives the clinic's wall-clock time without its offset;
		// the server's zone is the clinic's.
		if t, err := time.ParseInLocation("2006-01-02T15:04", f.Value, time.Local); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	return f.Value // as typed: the parser says what is wrong with it
}

// attachUpload puts the uploaded document, if any, into the parsed payload
// v, sniffed as the command line sniffs a document's file.
func attachUpload(r *http.Request, v any) error {
	file, hdr, err := r.FormFile("document")
	if errors.Is(err, http.ErrMissingFile) {
		return nil
	} else if err != nil {
		return pumpledger.Invalid("document", "The document could not be read; attach it again.")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, pumpledger.MaxAttachmentBytes+1))
	if err != nil {
		return pumpledger.Invalid("document", "The document could not be read; attach it again.")
	}
	if len(data) == 0 && hdr.Filename == "" {
		return nil // the field left empty
	}
	name := strings.TrimSpace(filepath.Base(strings.ReplaceAll(hdr.Filename, `\`, "/")))
	if err := pumpledger.CheckText("document", name, false); err != nil {
		return err
	}
	if len(data) > pumpledger.MaxAttachmentBytes {
		return docTooBig(hdr.Size)
	}
	if _, err := pumpledger.SniffDocument("document", name, data); err != nil {
		return err
	}
	pv := reflect.ValueOf(v).Elem()
	for i := range pv.NumField() {
		if pv.Field(i).Type() == typeAttachment {
			pv.Field(i).Set(reflect.ValueOf(&pumpledger.Attachment{Name: name, Content: data}))
			return nil
		}
	}
	return pumpledger.Invalid("document", "A %T cites no document; leave the document out.", v)
}
