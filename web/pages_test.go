package web

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

// multipartBody is a form of fields and files (name: [filename, content])
// as a browser sends it, and its content type.
func multipartBody(t testing.TB, fields map[string]string, files map[string][2]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for k, f := range files {
		w, err := mw.CreateFormFile(k, f[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// viewsOf is the access log's records of mrn.
func viewsOf(t *testing.T, f *fixture, mrn string) []ledger.Access {
	t.Helper()
	recs, err := f.db.AccessLog().List(mrn)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Each view of a patient's data, on a page or through the API, is in the
// access log: who, which patient, what, from where; the process log
// names no patient.
func TestViewsLogged(t *testing.T) {
	f := newFixture(t, false)
	var logBuf bytes.Buffer
	f.srv = New(Config{Ledger: f.db, UsersPath: UsersPath(f.path), Now: f.clock.now, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	nurse := f.login("nurse1")
	for _, target := range []string{"/history?mrn=MRN-1", "/api/chart?mrn=MRN-1", "/api/history?mrn=MRN-1"} {
		if w := f.do("GET", target, nurse, nil); w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
	}
	recs := viewsOf(t, f, "MRN-1")
	if len(recs) != 3 {
		t.Fatalf("%d views logged, want 3: %+v", len(recs), recs)
	}
	for i, what := range []string{"history", "api chart", "api history"} {
		r := recs[i]
		if r.User != "nurse1" || r.Role != "nurse" || r.What != what || r.From != "192.0.2.1" || !r.At.Equal(f.clock.now()) {
			t.Errorf("view %d: %+v, want nurse1 viewing %s from 192.0.2.1", i, r, what)
		}
	}
	biller := f.login("biller1")
	f.do("GET", "/bill?from=2026-03-01&to=2026-03-31", biller, nil)
	if all := viewsOf(t, f, ""); len(all) != 4 || all[3].User != "biller1" || all[3].What != "bill 2026-03-01..2026-03-31" {
		t.Errorf("the bill's view: %+v", all)
	}
	if strings.Contains(logBuf.String(), "MRN-1") || strings.Contains(logBuf.String(), "Test Patient") {
		t.Errorf("the process log names a patient:\n%s", logBuf.String())
	}
	// The auditor and the admin read the log on a page.
	for _, who := range []string{"auditor1", "admin1"} {
		w := f.do("GET", "/access?mrn=MRN-1", f.login(who), nil)
		if w.Code != http.StatusOK || strings.Count(w.Body.String(), ">nurse1</td>") != 3 || !strings.Contains(w.Body.String(), "Verified: ") {
			t.Errorf("%s's access page: %d\n%s", who, w.Code, w.Body)
		}
	}
}

// A view that cannot be logged is not shown: an access log altered at its
// end refuses to be extended, and the history is not sent.
func TestViewNotLoggedNotShown(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	if w := f.do("GET", "/history?mrn=MRN-1", nurse, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Test Patient") {
		t.Fatalf("history: %d", w.Code)
	}
	b, err := bolt.Open(ledger.AccessPath(f.path), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("access_checkpoints")).Delete([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	})
	b.Close()
	for _, target := range []string{"/history?mrn=MRN-1", "/api/history?mrn=MRN-1", "/api/chart?mrn=MRN-1"} {
		w := f.do("GET", target, nurse, nil)
		if w.Code == http.StatusOK || strings.Contains(w.Body.String(), "Test Patient") || strings.Contains(w.Body.String(), "synchromed") {
			t.Errorf("%s with the access log altered: %d, the data shown:\n%s", target, w.Code, w.Body)
		}
	}
	w := f.do("GET", "/audit", f.login("auditor1"), nil)
	if !strings.Contains(w.Body.String(), "access log") || !strings.Contains(w.Body.String(), "was altered") && !strings.Contains(w.Body.String(), "fails") {
		t.Errorf("the audit page does not say the access log fails:\n%s", w.Body)
	}
}

// An auditor's pages hold no form that records, and a recording request
// from one is refused: nothing is written.
func TestAuditorRecordsNothing(t *testing.T) {
	f := newFixture(t, false)
	auditor := f.login("auditor1")
	size, _ := f.db.Size()
	for _, page := range []string{"/audit", "/history?mrn=MRN-1", "/bill?from=2026-03-01&to=2026-03-31", "/access", "/"} {
		w := f.do("GET", page, auditor, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", page, w.Code)
		}
		if n := strings.Count(w.Body.String(), `method="post"`); n != 1 || !strings.Contains(w.Body.String(), `action="/logout"`) {
			t.Errorf("%s: %d POST forms, want only the sign-out", page, n)
		}
		if strings.Contains(w.Body.String(), "/record/") {
			t.Errorf("%s links to a documentation form", page)
		}
	}
	body, ct := multipartBody(t, map[string]string{"mrn": "MRN-1", "code": "G89.4", "description": "x", "clinician": "y"}, nil)
	if w := f.do("POST", "/record/diagnosis", auditor, body, "Content-Type", ct); w.Code != http.StatusForbidden {
		t.Errorf("an auditor's diagnosis: %d, want 403", w.Code)
	}
	if w := f.do("POST", "/api/refill", auditor, []byte(refillJSON)); w.Code != http.StatusForbidden {
		t.Errorf("an auditor's refill: %d, want 403", w.Code)
	}
	if n, _ := f.db.Size(); n != size {
		t.Errorf("the ledger grew from %d to %d entries", size, n)
	}
	// The checkpoint to download is the ledger's signed one.
	w := f.do("GET", "/audit/checkpoint", auditor, nil)
	cp, _ := f.db.Checkpoint()
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") || !strings.Contains(w.Header().Get("Content-Disposition"), "attachment") || w.Body.String() != string(cp.Note) {
		t.Errorf("checkpoint download: %d %q %q\n%s", w.Code, w.Header().Get("Content-Type"), w.Header().Get("Content-Disposition"), w.Body)
	}
}

// The documentation form: one for each kind of the clinical record, its
// fields the kind's; a refusal is the command line's sentence beside the
// field it names; a document is an upload, sniffed, and never a path.
func TestDocumentForms(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	for _, k := range clinicalKinds() {
		w := f.do("GET", "/record/"+string(k)+"?mrn=MRN-1", nurse, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="f-mrn" name="mrn" value="MRN-1"`) || !strings.Contains(w.Body.String(), `type="file"`) {
			t.Errorf("form of %s: %d\n%s", k, w.Code, w.Body)
		}
		for _, fl := range fieldsOf(mustKind(t, k)) {
			if !strings.Contains(w.Body.String(), `<label for="f-`+fl.Name+`">`) {
				t.Errorf("form of %s: field %s has no label", k, fl.Name)
			}
		}
	}
	// A coverage's payer is chosen among the catalog's profiles, not typed.
	if w := f.do("GET", "/record/coverage?mrn=MRN-1", nurse, nil); !strings.Contains(w.Body.String(), `<select id="f-payer" name="payer"`) || !strings.Contains(w.Body.String(), `<option>medicare-part-b</option>`) {
		t.Errorf("the coverage form's payer is not a choice of the catalog's profiles:\n%s", w.Body)
	}
	if w := f.do("GET", "/record/refill", nurse, nil); w.Code != http.StatusNotFound {
		t.Errorf("a form for a refill here: %d, want 404", w.Code)
	}
	pdf := "%PDF-1.4\n% signed consent\n%%EOF\n"
	diag := map[string]string{"mrn": "MRN-1", "code": "G89.4", "description": "chronic pain", "clinician": "Dr A"}
	without := func(m map[string]string, k string) map[string]string {
		out := map[string]string{}
		for a, b := range m {
			if a != k {
				out[a] = b
			}
		}
		return out
	}
	for _, c := range []struct {
		name   string
		kind   pumpledger.Kind
		fields map[string]string
		files  map[string][2]string
		field  string // the field refused, "" when recorded
		says   string
	}{
		{"code missing", "diagnosis", without(diag, "code"), nil, "code", ""},
		{"code not ICD-10", "diagnosis", map[string]string{"mrn": "MRN-1", "code": "pain", "description": "x", "clinician": "y"}, nil, "code", ""},
		{"no such patient", "diagnosis", map[string]string{"mrn": "MRN-9", "code": "G89.4", "description": "x", "clinician": "y"}, nil, "page", "Unknown patient MRN-9"},
		{"not a document", "consent", map[string]string{"mrn": "MRN-1", "date": "2026-02-01", "signed_by": "the patient"}, map[string][2]string{"document": {"consent.pdf", "MZ\x90\x00 an executable"}}, "document", "is not a PDF, PNG or JPEG"},
		{"a diagnosis", "diagnosis", diag, nil, "", ""},
		// A path typed where the file goes is not read: the server's files
		// are not the user's.
		{"a path for the document", "diagnosis", map[string]string{"mrn": "MRN-1", "code": "G89.5", "description": "x", "clinician": "y", "document": "/etc/passwd"}, nil, "", ""},
		{"a consent with its form", "consent", map[string]string{"mrn": "MRN-1", "date": "2026-02-01", "signed_by": "the patient"}, map[string][2]string{"document": {"consent.pdf", pdf}}, "", ""},
		{"a trial", "trial", map[string]string{"mrn": "MRN-1", "date": "2026-01-10", "drug": "ziconotide", "route": "intrathecal bolus", "dose": "2.4 mcg/day", "relief_percent": "60", "successful": "yes"}, nil, "", ""},
		{"an assessment", "assessment", map[string]string{"mrn": "MRN-1", "at": "2026-02-27T10:30", "clinician": "Dr A", "pain_score": "4", "cognition": "normal", "psychiatric": "none", "ck_u_l": "120"}, nil, "", ""},
		// A dependent's coverage: the subscriber's fields, nested in the
		// input, are flat on the form.
		{"a spouse's coverage", "coverage", map[string]string{"mrn": "MRN-1", "payer": "commercial", "member_id": "M77", "plan": "PPO", "from": "2026-01-01", "relationship": "spouse",
			"subscriber.name": "Sam Doe", "subscriber.birth_date": "1958-02-03", "subscriber.address.line1": "1 Elm St", "subscriber.address.city": "Columbus", "subscriber.address.state": "OH", "subscriber.address.postal_code": "43215"}, nil, "", ""},
		{"a spouse's coverage without the subscriber", "coverage", map[string]string{"mrn": "MRN-1", "payer": "commercial", "member_id": "M78", "plan": "PPO", "from": "2026-01-01", "relationship": "spouse"}, nil, "subscriber.name", "subscriber"},
		{"an authorization", "authorization", map[string]string{"mrn": "MRN-1", "payer": "medicare-part-b", "number": "A1", "codes": "J2278, 95990", "drug": "ziconotide", "amount": "100", "unit": "mcg", "from": "2026-01-01", "to": "2026-12-31", "status": "approved"}, nil, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			size, _ := f.db.Size()
			body, ct := multipartBody(t, c.fields, c.files)
			w := f.do("POST", "/record/"+string(c.kind), nurse, body, "Content-Type", ct)
			if c.field != "" {
				b := w.Body.String()
				if w.Code < 400 || !strings.Contains(b, `id="`+map[bool]string{true: "page", false: "f-" + c.field}[c.field == "page"]+`-error"`) || !strings.Contains(b, c.says) {
					t.Errorf("%d, want the refusal beside %s:\n%s", w.Code, c.field, b)
				}
				if n, _ := f.db.Size(); n != size {
					t.Errorf("a refused form wrote")
				}
				return
			}
			if w.Code != http.StatusSeeOther {
				t.Fatalf("%d, want recorded:\n%s", w.Code, w.Body)
			}
			loc := w.Header().Get("Location")
			id := loc[strings.Index(loc, "recorded=")+len("recorded="):]
			e, err := f.db.Entry(id)
			if err != nil || e.Kind != c.kind || e.RecordedBy != "nurse1" {
				t.Fatalf("entry %s: %+v %v", id, e, err)
			}
			got := string(e.Payload)
			if c.kind == "coverage" && !strings.Contains(got, `"subscriber":{"name":"Sam Doe","birth_date":"1958-02-03","address":{"line1":"1 Elm St","city":"Columbus","state":"OH","postal_code":"43215"}}`) {
				t.Errorf("the subscriber as recorded: %s", got)
			}
			if c.files != nil {
				if !strings.Contains(got, pumpledger.SumSHA256([]byte(pdf))) || !strings.Contains(got, `"application/pdf"`) {
					t.Errorf("the document is not cited: %s", got)
				}
			} else if strings.Contains(got, "document") || strings.Contains(got, "passwd") {
				t.Errorf("a document was read from a path: %s", got)
			}
			page := f.do("GET", loc, nurse, nil)
			if !strings.Contains(page.Body.String(), "Recorded "+string(c.kind)+" for patient MRN-1") {
				t.Errorf("after saving: %s", page.Body)
			}
		})
	}
	// The form sent again, changed, after it was saved (Back, then
	// Send): one plain sentence, not the command line's advice.
	again := map[string]string{"id": "00000000-0000-4000-8000-0000000000d7", "mrn": "MRN-1", "code": "G89.28", "description": "chronic pain", "clinician": "Dr A"}
	body, ct := multipartBody(t, again, nil)
	if w := f.do("POST", "/record/diagnosis", nurse, body, "Content-Type", ct); w.Code != http.StatusSeeOther {
		t.Fatalf("the first save: %d", w.Code)
	}
	again["description"] = "chronic pain syndrome"
	body, ct = multipartBody(t, again, nil)
	if w := f.do("POST", "/record/diagnosis", nurse, body, "Content-Type", ct); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "This form was saved already, as the diagnosis recorded on") || strings.Contains(w.Body.String(), "pumpledger correct") {
		t.Errorf("the same form changed and sent again: %d\n%s", w.Code, w.Body)
	}
	// The sentence is the command line's, for the same input.
	body, ct = multipartBody(t, without(diag, "code"), nil)
	w := f.do("POST", "/record/diagnosis", nurse, body, "Content-Type", ct)
	_, err := pumpledger.ParseInput("diagnosis", strings.NewReader(`{"mrn":"MRN-1","description":"chronic pain","clinician":"Dr A"}`))
	if want := template.HTMLEscapeString(pumpledger.ErrorMessage(err)); err == nil || !strings.Contains(w.Body.String(), want) {
		t.Errorf("the refusal is not the command line's %q:\n%s", want, w.Body)
	}
	// A document over the limit is refused before it is read, beside its field.
	big, ct := multipartBody(t, map[string]string{"mrn": "MRN-1", "date": "2026-02-01", "signed_by": "p"}, map[string][2]string{"document": {"big.pdf", "%PDF-" + strings.Repeat("x", pumpledger.MaxAttachmentBytes+1)}})
	w = f.do("POST", "/record/consent", nurse, big, "Content-Type", ct)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `id="f-document-error"`) || !strings.Contains(w.Body.String(), "20 MB") {
		t.Errorf("a document over 20 MB: %d\n%.2000s", w.Code, w.Body)
	}
}

func mustKind(t *testing.T, k pumpledger.Kind) pumpledger.KindSpec {
	s, ok := pumpledger.KindOf(k)
	if !ok {
		t.Fatalf("no kind %s", k)
	}
	return s
}

// The admin adds a user with the password typed twice; each refusal
// beside its field; the new user signs in at once. No hash is shown.
func TestUsersPage(t *testing.T) {
	f := newFixture(t, false)
	admin := f.login("admin1")
	add := func(name, role, pw, pw2 string) *httptest.ResponseRecorder {
		return f.do("POST", "/admin/users", admin, []byte("name="+urlEscape(name)+"&role="+role+"&password="+urlEscape(pw)+"&password2="+urlEscape(pw2)), "Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range []struct{ name, role, pw, pw2, field string }{
		{"ann", "nurse", password, password + "x", "password2"},
		{"ann", "nurse", "short", "short", "password"},
		{"ann", "doctor", password, password, "role"},
		{"", "nurse", password, password, "name"},
		{"NURSE1", "nurse", password, password, "name"},
	} {
		w := add(c.name, c.role, c.pw, c.pw2)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `id="`+c.field+`-error"`) {
			t.Errorf("%+v: %d, want the refusal beside %s\n%s", c, w.Code, c.field, w.Body)
		}
	}
	w := add("ann", "biller", password, password)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", w.Code, w.Body)
	}
	page := f.do("GET", w.Header().Get("Location"), admin, nil)
	if b := page.Body.String(); !strings.Contains(b, "<td>ann</td><td>biller</td>") || strings.Contains(b, "argon2") || !strings.Contains(b, "Added ann") {
		t.Errorf("users page:\n%s", b)
	}
	ann := f.login("ann")

	// A role changed ends the user's sessions: the old role is not kept
	// until the session's end. The new one is theirs at the next sign-in.
	change := func(body string) *httptest.ResponseRecorder {
		return f.do("POST", "/admin/users/change", admin, []byte(body), "Content-Type", "application/x-www-form-urlencoded")
	}
	if w := change("name=ann&role=auditor"); w.Code != http.StatusSeeOther {
		t.Fatalf("change: %d %s", w.Code, w.Body)
	}
	if w := f.do("GET", "/api/me", ann, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("ann's biller session after her role changed: %d, want 401", w.Code)
	}
	if w := f.do("GET", "/bill", ann, nil); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
		t.Errorf("ann's old session at a page: %d → %q, want the sign-in page", w.Code, w.Header().Get("Location"))
	}
	if w := f.do("GET", "/audit", f.login("ann"), nil); w.Code != http.StatusOK {
		t.Errorf("ann as auditor: %d", w.Code)
	}
	// The only admin stays one; an unknown name is refused; a removed
	// user cannot sign in.
	for body, says := range map[string]string{"name=admin1&role=nurse": "only admin", "name=admin1&remove=1": "only admin", "name=zed&role=nurse": "No user is named"} {
		if w := change(body); w.Code < 400 || !strings.Contains(w.Body.String(), says) {
			t.Errorf("%s: %d, want a refusal saying %q", body, w.Code, says)
		}
	}
	if w := change("name=ann&remove=1"); w.Code != http.StatusSeeOther {
		t.Fatalf("remove: %d", w.Code)
	}
	if w := f.do("POST", "/api/login", "", loginBody("ann", password)); w.Code != http.StatusUnauthorized {
		t.Errorf("a removed user signs in: %d", w.Code)
	}
}

// The biller bills a range: each visit's lines with its findings once
// and the downloads in every format; a bad date is refused beside its
// field.
func TestBillPage(t *testing.T) {
	f := newFixture(t, false)
	if w := f.do("POST", "/api/refill", f.login("nurse1"), []byte(refillJSON)); w.Code != http.StatusOK {
		t.Fatal(w.Body)
	}
	biller := f.login("biller1")
	w := f.do("GET", "/bill?from=2026-03-01&to=2026-03-31", biller, nil)
	b := w.Body.String()
	lines, findings, err := f.db.BillChecked(context.Background(), "2026-03-01", "2026-03-31", "")
	if err != nil || len(lines) == 0 || len(findings) == 0 {
		t.Fatalf("the fixture's bill: %d lines, %d findings, %v", len(lines), len(findings), err)
	}
	if w.Code != http.StatusOK || strings.Count(b, `<td data-label="Date"`) != len(lines) {
		t.Errorf("bill page: %d, want %d lines\n%s", w.Code, len(lines), b)
	}
	// The refill is one visit of two lines (the drug's and the service's):
	// each of its findings is shown once, not on each line.
	if len(lines) != 2 || lines[0].EntryID != lines[1].EntryID {
		t.Fatalf("the fixture's bill: want one visit of two lines, got %+v", lines)
	}
	for _, f := range findings {
		if n := strings.Count(b, template.HTMLEscapeString(f.Message)); n != 1 {
			t.Errorf("the finding %q is shown %d times, want once", f.Message, n)
		}
	}
	for f := range billing.Formats {
		if !strings.Contains(b, `href="/api/bill?format=`+f+`&amp;from=2026-03-01&amp;to=2026-03-31"`) {
			t.Errorf("no %s download", f)
		}
	}
	w = f.do("GET", "/bill?from=2026-13-01&to=2026-03-31", biller, nil)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `id="from-error"`) {
		t.Errorf("a bad date: %d\n%s", w.Code, w.Body)
	}
}

// The worklist names the patients due, name first beside the MRN (a
// corrected name is the replacement's), and why (a discrepancy to review, a
// refill overdue): a view of each listed patient's data, logged under each
// MRN as a chart is. A name is text, never markup, and never in the
// process log; a worklist whose view cannot be logged is not shown.
func TestWorklistNamesLoggedEach(t *testing.T) {
	f := newFixture(t, false)
	var logBuf bytes.Buffer
	f.srv = New(Config{Ledger: f.db, UsersPath: UsersPath(f.path), Now: f.clock.now, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "nurse1", Role: pumpledger.RoleNurse})
	const evil = `<script>document.title="pwned"</script>`
	if _, err := f.db.AddPatient(ctx, pumpledger.Patient{MRN: "MRN-X", Name: evil}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Implant(ctx, pumpledger.Implant{MRN: "MRN-X", Serial: "SX", Model: "synchromed-ii-20", Date: "2026-02-20"}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{refillJSON, strings.NewReplacer(`"MRN-1"`, `"MRN-X"`, `"S1"`, `"SX"`, "0001", "0002").Replace(refillJSON)} {
		r, err := pumpledger.ParseRefill(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.RecordRefill(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	h, err := f.db.History(ctx, "MRN-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Correct(ctx, h[0].Entry.ID, "name misspelt", clinic.Replacement{Patient: &pumpledger.Patient{MRN: "MRN-1", Name: "Ann Corrected"}}); err != nil {
		t.Fatal(err)
	}
	nurse := f.login("nurse1")
	w := f.do("GET", "/worklist?within=30", nurse, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `>Ann Corrected</a> <span class="note mrn">MRN-1</span>`) || strings.Contains(body, "Test Patient") {
		t.Fatalf("worklist: %d, want MRN-1 under its corrected name, name first\n%s", w.Code, body)
	}
	if strings.Contains(body, evil) || !strings.Contains(body, `&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;</a> <span class="note mrn">MRN-X</span>`) {
		t.Errorf("the name with markup is not shown as text:\n%s", body)
	}
	for _, mrn := range []string{"MRN-1", "MRN-X"} {
		if recs := viewsOf(t, f, mrn); len(recs) != 1 || recs[0].User != "nurse1" || recs[0].What != "worklist" {
			t.Errorf("%s's views: %+v, want nurse1's worklist", mrn, recs)
		}
	}
	if all := viewsOf(t, f, ""); len(all) != 2 {
		t.Errorf("the worklist logged %d records, want one per patient: %+v", len(all), all)
	}
	// The printed record names the patient as the worklist does.
	if w := f.do("GET", "/refill/record?id=00000000-0000-4000-8000-000000000001", nurse, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<small>Ann Corrected · MRN-1 ·") {
		t.Errorf("the refill record: %d, want it to name Ann Corrected\n%s", w.Code, w.Body)
	}
	for _, phi := range []string{"Ann Corrected", "script", "MRN-"} {
		if strings.Contains(logBuf.String(), phi) {
			t.Errorf("the process log holds %q:\n%s", phi, logBuf.String())
		}
	}

	b, err := bolt.Open(ledger.AccessPath(f.path), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket([]byte("access_checkpoints")).Cursor().Last()
		return tx.Bucket([]byte("access_checkpoints")).Delete(k)
	})
	b.Close()
	if w := f.do("GET", "/worklist?within=30", nurse, nil); w.Code == http.StatusOK || strings.Contains(w.Body.String(), "Ann Corrected") {
		t.Errorf("the worklist with the access log altered: %d, the names shown:\n%s", w.Code, w.Body)
	}
}

// The user whose role changes is the user whose sessions end, however the
// name was sent: the users file is matched with the name trimmed, so the
// sessions must be too.
func TestRoleChangeEndsSessionsOfNameAsMatched(t *testing.T) {
	f := newFixture(t, false)
	admin, nurse := f.login("admin1"), f.login("nurse1")
	for i, body := range []string{"name=+Nurse1+&role=auditor", "name=%09nurse1&remove=1"} {
		w := f.do("POST", "/admin/users/change", admin, []byte(body), "Content-Type", "application/x-www-form-urlencoded")
		if w.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", body, w.Code, w.Body)
		}
		if w := f.do("GET", "/worklist", nurse, nil); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
			t.Errorf("after %s, nurse1's session still opens the worklist: %d", body, w.Code)
		}
		if i == 0 {
			nurse = f.login("nurse1") // an auditor now, to be removed
		}
	}
}
