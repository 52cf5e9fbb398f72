package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/gs1"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

// The nurse's pages: the worklist, a patient's page, the refill and
// dose-change forms with their live preview, and the printable record of
// a saved refill. The forms post JSON built by static/refill.js; each
// figure the preview shows comes from the server (POST
// /api/refill?dry_run=1), never from script arithmetic.

// worklistPage is `worklist`: pumps due within a week or overdue, and
// residual discrepancies awaiting review, most urgent first.
func (s *Server) worklistPage(w http.ResponseWriter, r *http.Request) {
	within := clinic.WorklistDays
	if v := r.URL.Query().Get("within"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 366 {
			s.renderErr(w, r, pumpledger.Invalid("within", "within must be a number of days from 0 to 366, not %q.", clip(v)))
			return
		}
		within = n
	}
	asOf := r.URL.Query().Get("as_of")
	items, err := s.db.Worklist(r.Context(), asOf, within)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	// The worklist names its patients and why each is due (an overdue
	// refill, a discrepancy): a view of each listed patient's data, logged
	// under each MRN as a chart is.
	var mrns []string
	for _, it := range items {
		if !slices.Contains(mrns, it.MRN) {
			mrns = append(mrns, it.MRN)
		}
	}
	names, err := s.db.Patients(r.Context(), mrns)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	rows := make([]worklistRow, len(items))
	for i, it := range items {
		rows[i] = worklistRow{WorkItem: it, Name: names[it.MRN].Name}
	}
	if err := s.viewedEach(r, mrns, "worklist"); err != nil {
		s.renderErr(w, r, err)
		return
	}
	if asOf == "" {
		asOf = s.db.Today()
	}
	s.render(w, http.StatusOK, "worklist.html", page{Title: "Worklist", User: actorOf(r), Data: map[string]any{
		"Items": rows, "AsOf": asOf, "Within": within, "Records": canRecord(r)}})
}

// worklistRow is a worklist item with its patient's name.
type worklistRow struct {
	clinic.WorkItem
	Name string
}

// patientView is what the patient page shows of one pump.
type patientView struct {
	Pump      clinic.ChartPump
	Residuals []residual
	Chart     *residualChart
}

// residual is one refill's expected and aspirated residual.
type residual struct {
	Date, EntryID                  string
	Expected, Aspirated, Deviation decimal.Decimal
	Threshold                      decimal.Decimal
	Flagged                        bool
}

// patientPage is the chart with, for each pump, the expected and
// aspirated residual of every refill: the discrepancy history no
// programmer keeps.
func (s *Server) patientPage(w http.ResponseWriter, r *http.Request) {
	mrn, err := need(r, "mrn", "MRN")
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	c, err := s.db.Chart(r.Context(), mrn)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	if err := s.viewed(r, mrn, "patient page"); err != nil {
		s.renderErr(w, r, err)
		return
	}
	var pumps []patientView
	for _, p := range c.Pumps {
		v := patientView{Pump: p}
		if p.Implanted != "" {
			links, err := s.db.Chain(r.Context(), p.Serial)
			if err != nil {
				s.renderErr(w, r, err)
				return
			}
			for _, l := range links {
				iv := l.Record.Interval
				if iv == nil { // the pump's first fill: nothing expected
					continue
				}
				v.Residuals = append(v.Residuals, residual{Date: l.Entry.Performed().Date(), EntryID: l.Entry.ID,
					Expected: iv.ExpectedResidualML, Aspirated: iv.ResidualML, Deviation: iv.DiscrepancyML,
					Threshold: iv.ThresholdML, Flagged: iv.DiscrepancyFlagged})
			}
			v.Chart = chartOf(v.Residuals)
		}
		pumps = append(pumps, v)
	}
	s.render(w, http.StatusOK, "patient.html", page{Title: "Patient " + mrn, User: actorOf(r), Data: map[string]any{
		"Chart": c, "Pumps": pumps, "Records": canRecord(r)}})
}

// refillFormPage is the refill form of one pump, prefilled from its last
// fill: solution, dose, volumes, procedure and containers.
func (s *Server) refillFormPage(w http.ResponseWriter, r *http.Request) {
	s.pumpFormPage(w, r, "refill.html", "Refill ", "refill form")
}

// reprogramFormPage is the dose-change form of one pump.
func (s *Server) reprogramFormPage(w http.ResponseWriter, r *http.Request) {
	s.pumpFormPage(w, r, "reprogram.html", "Dose change ", "dose change form")
}

// pumpFormPage shows a form of the pump ?mrn=&serial= (formOf), the view
// logged as what.
func (s *Server) pumpFormPage(w http.ResponseWriter, r *http.Request, tmpl, title, what string) {
	mrn, err := need(r, "mrn", "MRN")
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	serial, err := need(r, "serial", "SERIAL")
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	f, err := s.formOf(r, mrn, serial)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	if err := s.viewed(r, mrn, what); err != nil {
		s.renderErr(w, r, err)
		return
	}
	s.render(w, http.StatusOK, tmpl, page{Title: title + serial, User: actorOf(r), Data: f})
}

// refillForm is what the refill form starts from.
type refillForm struct {
	MRN, Name, Serial, Model string
	Pump                     clinic.ChartPump
	Nurse                    string
	Last                     *pumpledger.Refill // the pump's last fill, nil before the first
	Drugs                    []formDrug
	Procedures               []billing.Service // the refill codes
	Reprograms               []billing.Service // the dose-change codes
	// Prefill is the form's starting refill as JSON, for the script.
	Prefill string
	// Correcting is the refill entry a correction replaces ("" for a new refill).
	Correcting string
}

type formDrug struct {
	Name     string
	Products []formProduct
}

type formProduct struct{ NDC, Label string }

func (s *Server) formOf(r *http.Request, mrn, serial string) (refillForm, error) {
	c, err := s.db.Chart(r.Context(), mrn)
	if err != nil {
		return refillForm{}, err
	}
	i := slices.IndexFunc(c.Pumps, func(p clinic.ChartPump) bool { return p.Serial == serial })
	if i < 0 {
		return refillForm{}, pumpledger.Errorf(pumpledger.ENOTFOUND, "Patient %s has no pump %s; open the patient's page and choose one.", mrn, serial)
	}
	cat, err := s.db.Catalog(r.Context())
	if err != nil {
		return refillForm{}, err
	}
	f := refillForm{MRN: mrn, Name: c.Patient.Name, Serial: serial, Model: c.Pumps[i].Model, Pump: c.Pumps[i], Nurse: actorOf(r).Name}
	for _, d := range cat.Drugs {
		fd := formDrug{Name: d.Name}
		for _, p := range cat.ProductsOf(d.Name) {
			fd.Products = append(fd.Products, formProduct{NDC: p.Printed, Label: p.Printed + " · " + p.MCGPerML.String() + " mcg/mL × " + p.ML.String() + " mL (" + p.Labeler + ")"})
		}
		f.Drugs = append(f.Drugs, fd)
	}
	for _, sv := range cat.Services {
		if sv.Refill {
			f.Procedures = append(f.Procedures, sv)
		}
		if sv.Reprogram {
			f.Reprograms = append(f.Reprograms, sv)
		}
	}
	// now: the form's time starts at the server's clock (the ledger's),
	// not the device's, which may be off.
	// id: the entry's idempotency key, made once with the page, so the
	// preview and the save are of the same entry (a warning can name it)
	// and a save sent twice records once.
	pre := map[string]any{"id": uuid.NewString(), "mrn": mrn, "pump_serial": serial, "nurse": f.Nurse, "now": s.now().UTC().Format(time.RFC3339)}
	// A dose change between refills starts at the first code that fits a
	// changed dose without a refill (62368), by the rule the warning uses.
	for _, sv := range f.Reprograms {
		if _, misfit := billing.CodeMismatch(sv.Code, billing.DoseChanged, ""); !sv.Refill && !misfit {
			pre["dose_change_procedure"] = sv.Code
			break
		}
	}
	if c.Pumps[i].LastRefillEntry != "" {
		e, err := s.db.Entry(c.Pumps[i].LastRefillEntry)
		if err != nil {
			return f, err
		}
		last, err := e.Refill()
		if err != nil {
			return f, err
		}
		f.Last = &last
		pre["fill_ml"], pre["diluent_ml"], pre["procedure"] = last.FillML, last.DiluentML, last.Procedure
		pre["solution"], pre["dose"] = c.Pumps[i].Solution, c.Pumps[i].Dose
		if last.Diluent != "" {
			pre["diluent"] = last.Diluent
		}
		var vials []map[string]any // the same products, lot and expiry to scan
		for _, v := range last.Vials {
			vials = append(vials, map[string]any{"ndc": v.NDC, "count": v.Count})
		}
		pre["vials"] = vials
	}
	b, err := json.Marshal(pre)
	if err != nil {
		return f, err
	}
	f.Prefill = string(b)
	return f, nil
}

// signedRefill is what the refill form posts: the refill as SPEC §7, and
// the witness's own sign-in.
type signedRefill struct {
	Refill  json.RawMessage `json:"refill"`
	Witness credentials     `json:"witness"`
	// Correct, with Reason, makes the refill the replacement of that entry.
	Correct string `json:"correct,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// refillSave records the refill form: the nurse is the signed-in user,
// the witness signs with their own name and password, and every warning
// the preview showed must be acknowledged. 409 with the warnings still to
// acknowledge; the acknowledgements are recorded in the entry.
func (s *Server) refillSave(w http.ResponseWriter, r *http.Request) {
	var in signedRefill
	data, err := io.ReadAll(r.Body)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	if err := json.Unmarshal(data, &in); err != nil || len(in.Refill) == 0 {
		writeErr(w, r, s.log, pumpledger.Invalid("refill", `The form must send {"refill": {...}, "witness": {"name", "password"}}; reload the page.`))
		return
	}
	ref, err := pumpledger.ParseRefill(bytes.NewReader(in.Refill))
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	nurse := actorOf(r)
	ref.Nurse = nurse.Name
	if flag(r, "dry_run") {
		// The correction form's preview: the replacement as the
		// correction would record it (a new refill's preview is
		// /api/refill?dry_run=1). No witness signs a preview.
		res, err := s.recordRefill(clinic.Preview(r.Context()), ref, in)
		if err != nil {
			writeErr(w, r, s.log, s.savedAlready(err, ref.ID))
			return
		}
		if res.Record == nil {
			writeErr(w, r, s.log, pumpledger.Errorf(pumpledger.EINTERNAL, "the preview of a refill derived no record"))
			return
		}
		writeJSON(w, http.StatusOK, clinic.RefillAnswer(clinic.Result{Record: res.Record, Authorizations: res.Authorizations}, nil))
		return
	}
	if strings.TrimSpace(in.Witness.Name) != "" || in.Witness.Password != "" {
		wit, wait, err := s.login(r, in.Witness)
		if wait > 0 {
			// Beside the witness's fields, which the form shows it by.
			secs := int64((wait + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", itoa(secs))
			writeError(w, r, http.StatusTooManyRequests, "throttled", "witness", "Too many wrong passwords for the witness; the witness tries again in "+itoa(secs)+" seconds.")
			return
		}
		if err != nil {
			if pumpledger.ErrorCode(err) == pumpledger.EUNAUTHORIZED {
				err = pumpledger.Invalid("witness", "The witness's name or password is wrong; the witness types their own.")
			}
			writeErr(w, r, s.log, err)
			return
		}
		if strings.EqualFold(wit.Name, nurse.Name) {
			writeErr(w, r, s.log, pumpledger.Invalid("witness", "The witness must be another person than the nurse; ask a colleague to sign in here."))
			return
		}
		if !slices.Contains(recorders, wit.Role) {
			writeErr(w, r, s.log, pumpledger.Invalid("witness", "%s is a %s; a witness of waste is a nurse or a clinician.", wit.Name, wit.Role))
			return
		}
		ref.Witness, ref.WitnessSigned = wit.Name, true
	} else if ref.Witness != "" {
		writeErr(w, r, s.log, pumpledger.Invalid("witness", "The witness signs in with their own name and password; a typed name is not a signature."))
		return
	}
	// What the nurse must have seen: the warnings of this very refill.
	preview, err := s.recordRefill(clinic.Preview(r.Context()), ref, in)
	if err != nil {
		writeErr(w, r, s.log, s.savedAlready(err, ref.ID))
		return
	}
	if refuseUnacknowledged(w, preview.Warnings, ref.Acknowledged) {
		return
	}
	res, err := s.recordRefill(r.Context(), ref, in)
	if err != nil {
		writeErr(w, r, s.log, s.savedAlready(err, ref.ID))
		return
	}
	id := res.Entry.ID
	if res.Replacement != nil {
		id = res.Replacement.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "existing": res.Existing, "record": "/refill/record?id=" + id})
}

func (s *Server) recordRefill(ctx context.Context, ref pumpledger.Refill, in signedRefill) (clinic.Result, error) {
	if in.Correct == "" {
		return s.db.RecordRefill(ctx, ref)
	}
	return s.db.Correct(ctx, in.Correct, in.Reason, clinic.Replacement{Refill: &ref})
}

// savedAlready words for a person the ledger's refusal of an entry id
// recorded with other content. A form's id is made once with its page, so
// a form saved, then changed (the browser's back button) and previewed or
// saved again meets it; the command line's advice it carries (remove
// "id", run `pumpledger correct`) means nothing in a browser.
func (s *Server) savedAlready(err error, id string) error {
	if id == "" || pumpledger.ErrorCode(err) != pumpledger.ECONFLICT {
		return err
	}
	e, lerr := s.db.Entry(id)
	if lerr != nil {
		return err
	}
	on := e.RecordedAt.Format(time.DateOnly)
	switch e.Kind {
	case pumpledger.KindRefill:
		return &pumpledger.Error{Code: pumpledger.ECONFLICT, Field: "id", Message: "This form was saved already, as the refill recorded on " + on +
			", and has changed since; to change that refill, open its record (/refill/record?id=" + id + ") and correct it, or for another refill open a new form from the patient's page."}
	case pumpledger.KindReprogram:
		return &pumpledger.Error{Code: pumpledger.ECONFLICT, Field: "id", Message: "This form was saved already, as the dose change recorded on " + on +
			", and has changed since; for another change of dose, open a new dose-change form from the patient's page."}
	}
	if spec, ok := pumpledger.KindOf(e.Kind); ok && spec.Clinical {
		return &pumpledger.Error{Code: pumpledger.ECONFLICT, Field: "id", Message: "This form was saved already, as the " + string(e.Kind) + " recorded on " + on +
			" (entry " + id + "), and has changed since; for another " + string(e.Kind) + " open a new form, and to change the one saved ask for its correction."}
	}
	return err
}

// refuseUnacknowledged answers 409 with the warnings not among acks, and
// says whether it did: a form's save needs each warning of the entry
// acknowledged, as the preview showed them.
func refuseUnacknowledged(w http.ResponseWriter, warnings, acks []string) bool {
	var missing []string
	for _, w := range warnings {
		if !slices.Contains(acks, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return false
	}
	var b errorBody
	b.Error.Code, b.Error.Field = "unacknowledged", "acknowledged"
	b.Error.Message = "Acknowledge each warning before saving: " + strconv.Itoa(len(missing)) + " not yet acknowledged."
	writeJSON(w, http.StatusConflict, struct {
		errorBody
		Warnings []string `json:"warnings"`
	}{b, missing})
	return true
}

// reprogramSave is the dose-change form's save: the signed-in user is the
// clinician (whatever the form sent), and each warning of the dose change
// must be acknowledged, as on the refill form. Programs use POST
// /api/reprogram, which keeps the command line's contract.
func (s *Server) reprogramSave(w http.ResponseWriter, r *http.Request) {
	in, ok := readInput(s, w, r, pumpledger.ParseReprogram)
	if !ok {
		return
	}
	in.Clinician = actorOf(r).Name
	preview, err := s.db.RecordReprogram(clinic.Preview(r.Context()), in)
	if err != nil {
		writeErr(w, r, s.log, s.savedAlready(err, in.ID))
		return
	}
	if refuseUnacknowledged(w, preview.Warnings, in.Acknowledged) {
		return
	}
	res, err := s.db.RecordReprogram(r.Context(), in)
	if err != nil {
		writeErr(w, r, s.log, s.savedAlready(err, in.ID))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": res.Entry.ID, "existing": res.Existing, "patient": "/patient?mrn=" + url.QueryEscape(in.MRN)})
}

// refillRecordPage is a saved refill as it was recorded, to print and keep:
// who, when, the figures with how each was computed, the warnings and
// their acknowledgement, the claim lines.
func (s *Server) refillRecordPage(w http.ResponseWriter, r *http.Request) {
	e, in, err := s.refillOf(r, "id")
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	id := e.ID
	rec, err := s.db.RefillRecord(r.Context(), id)
	voided := pumpledger.ErrorCode(err) == pumpledger.ENOTFOUND
	if err != nil && !voided {
		s.renderErr(w, r, err)
		return
	}
	names, err := s.db.Patients(r.Context(), []string{in.MRN})
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	if err := s.viewed(r, in.MRN, "refill record"); err != nil {
		s.renderErr(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "record.html", page{Title: "Refill record", User: actorOf(r), Data: map[string]any{
		"Entry": e, "Refill": in, "Record": rec, "Voided": voided, "Patient": names[in.MRN], "Records": canRecord(r)}})
}

// refillOf is the refill entry the query parameter param names, and its
// payload as recorded.
func (s *Server) refillOf(r *http.Request, param string) (ledger.Entry, pumpledger.Refill, error) {
	id, err := need(r, param, "ENTRY")
	if err != nil {
		return ledger.Entry{}, pumpledger.Refill{}, err
	}
	e, err := s.db.Entry(id)
	if err != nil {
		return e, pumpledger.Refill{}, err
	}
	if e.Kind != pumpledger.KindRefill {
		return e, pumpledger.Refill{}, pumpledger.Invalid(param, "Entry %s is a %s, not a refill; the pages show and correct refills (others: `pumpledger history`, `pumpledger correct`).", id, e.Kind)
	}
	in, err := e.Refill()
	return e, in, err
}

// apiPlan is `plan --json`: the least-waste containers the label allows
// for a fill.
func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	num := func(name string, zeroOK bool) (decimal.Decimal, error) {
		v := strings.TrimSpace(q.Get(name))
		if v == "" && zeroOK {
			return decimal.Zero, nil
		}
		d, err := pumpledger.ParseQuantity(v)
		if err != nil || d.IsNegative() || (d.IsZero() && !zeroOK) {
			return d, pumpledger.Invalid(name, "%s must be a number more than zero, like 20.", name)
		}
		return d, nil
	}
	conc, err := num("mcg_per_ml", false)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	fill, err := num("fill_ml", false)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	rinse, err := num("rinse_ml", true)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	cat, err := s.db.Catalog(r.Context())
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	adv, err := refill.Advise(cat, q.Get("drug"), conc, fill, rinse)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	// The containers as their labels print the NDC, as a scan gives it,
	// so a scanned vial fills the planned line.
	for i, v := range adv.JSON.Vials {
		if n, err := vial.ParseNDC(v.NDC); err == nil {
			if p, ok := cat.Product(n); ok {
				adv.JSON.Vials[i].NDC = p.Printed
			}
		}
	}
	writeJSON(w, http.StatusOK, adv.JSON)
}

// apiScan is `scan --json`: what a keyboard-wedge scanner typed for a
// vial's GS1 DataMatrix, its product in the catalog in force today, and
// the refill's vials line.
func (s *Server) apiScan(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(w, r, s.log, pumpledger.Invalid("text", `The scan must be JSON: {"text": "what the scanner typed"}.`))
		return
	}
	sc, err := gs1.Parse(in.Text)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	cat, err := s.db.Catalog(r.Context())
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	p, err := gs1.Product(cat, sc.NDC10)
	if err != nil {
		writeErr(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"scan": sc,
		"product": map[string]any{"ndc": p.Printed, "drug": p.Drug, "mcg_per_ml": p.MCGPerML, "ml": p.ML, "labeler": p.Labeler, "verify": p.Verify},
		"vial":    pumpledger.VialUse{NDC: p.Printed, Count: 1, Lot: sc.Lot, Expires: sc.Expires}})
}

// apiReprogram is `reprogram --json`, and with ?dry_run=1 `reprogram
// --dry-run --json`.
func (s *Server) apiReprogram(w http.ResponseWriter, r *http.Request) {
	in, ok := readInput(s, w, r, pumpledger.ParseReprogram)
	if !ok {
		return
	}
	ctx, dry := r.Context(), flag(r, "dry_run")
	if dry {
		ctx = clinic.Preview(ctx)
	}
	res, err := s.db.RecordReprogram(ctx, in)
	if err != nil {
		writeErr(w, r, s.log, s.savedAlready(err, in.ID))
		return
	}
	out := map[string]any{"id": res.Entry.ID, "existing": res.Existing, "warnings": nonNil(res.Warnings), "next_refill_due": nil}
	if res.NextRefillDue != "" {
		out["next_refill_due"], out["next_refill_reason"] = res.NextRefillDue, res.NextRefillReason
	}
	if dry {
		out["dry_run"] = true
	}
	writeJSON(w, http.StatusOK, out)
}

// correctFormPage is the refill form prefilled with a recorded refill, to
// record its replacement with a reason.
func (s *Server) correctFormPage(w http.ResponseWriter, r *http.Request) {
	e, old, err := s.refillOf(r, "entry")
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	id := e.ID
	f, err := s.formOf(r, old.MRN, old.PumpSerial)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	// The form starts from the entry as recorded, less what the server
	// sets again (the witness signs again; acknowledgements are redone),
	// with the replacement's own id, made once as a new form's is.
	old.ID, old.WitnessSigned, old.Acknowledged, old.Witness = uuid.NewString(), false, nil, ""
	b, err := json.Marshal(old)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	f.Prefill, f.Correcting = string(b), id
	if err := s.viewed(r, old.MRN, "correction form"); err != nil {
		s.renderErr(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "refill.html", page{Title: "Correct refill " + id, User: actorOf(r), Data: f})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// actorOf is the signed-in user of a request served by as().
func actorOf(r *http.Request) pumpledger.Actor {
	a, _ := pumpledger.ActorFrom(r.Context())
	return a
}

func canRecord(r *http.Request) bool { return slices.Contains(recorders, actorOf(r).Role) }

// clip shortens a text echoed in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
