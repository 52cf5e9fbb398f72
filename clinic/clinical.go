package clinic

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
)

// The clinical record: diagnoses, coverage, prior authorizations, prior
// therapies, the trial, consent and monitoring assessments (SPEC §9). Each
// is recorded as it was given, checked against the patient's record and the
// catalog in force on its date; what a payer still needs is derived from
// them (chart.go), never stored.

// clinicalKind is the kind of a clinical record payload (a value or a
// pointer to one); "" for anything else.
func clinicalKind(p any) pumpledger.Kind {
	if r, ok := p.(pumpledger.Record); ok {
		return r.RecordKind()
	}
	return ""
}

// deref is a pointer payload's value (a payload is stored and compared by
// value).
func deref(p any) any {
	switch v := p.(type) {
	case *pumpledger.Diagnosis:
		return *v
	case *pumpledger.Coverage:
		return *v
	case *pumpledger.Authorization:
		return *v
	case *pumpledger.Therapy:
		return *v
	case *pumpledger.Trial:
		return *v
	case *pumpledger.Consent:
		return *v
	case *pumpledger.Assessment:
		return *v
	case *pumpledger.Review:
		return *v
	}
	return p
}

// clinicalFacts is what the use cases read of any clinical payload.
type clinicalFacts struct {
	id, mrn string
	// at is the date (or instant) the record is of: the entry's date.
	at pumpledger.Instant
	// past: the date cannot be after today (something that happened);
	// coverage and authorizations may begin in the future.
	past bool
	// key identifies the record among the patient's live ones of its kind:
	// the same key twice is the same record given twice.
	key, keyText string
}

func factsOf(p any) (clinicalFacts, error) {
	date := func(field, d string) (pumpledger.Instant, error) { return dateInstant(field, d) }
	var f clinicalFacts
	var err error
	switch v := p.(type) {
	case pumpledger.Diagnosis:
		f = clinicalFacts{id: v.ID, mrn: v.MRN, past: true, key: v.Code, keyText: "Diagnosis " + v.Code}
		if v.Onset != "" {
			f.at, err = date("onset", v.Onset)
		}
	case pumpledger.Coverage:
		f = clinicalFacts{id: v.ID, mrn: v.MRN, key: v.Payer + "\x00" + v.MemberID + "\x00" + v.From,
			keyText: fmt.Sprintf("Coverage by %s for member %s from %s", v.Payer, v.MemberID, v.From)}
		f.at, err = date("from", v.From)
	case pumpledger.Authorization:
		f = clinicalFacts{id: v.ID, mrn: v.MRN, key: v.Payer + "\x00" + v.Number,
			keyText: fmt.Sprintf("Authorization %s of %s", v.Number, v.Payer)}
		f.at, err = date("from", v.From)
	case pumpledger.Therapy:
		f = clinicalFacts{id: v.ID, mrn: v.MRN, past: true, key: strings.ToLower(v.Therapy) + "\x00" + v.From,
			keyText: fmt.Sprintf("Therapy %q from %s", v.Therapy, v.From)}
		f.at, err = date("from", v.From)
	case pumpledger.Trial:
		f = clinicalFacts{id: v.ID, mrn: v.MRN, past: true, key: v.Date + "\x00" + strings.ToLower(v.Drug),
			keyText: fmt.Sprintf("A trial of %s on %s", v.Drug, v.Date)}
		f.at, err = date("date", v.Date)
	case pumpledger.Consent:
		f = clinicalFacts{id: v.ID, mrn: v.MRN, past: true, key: v.Date + "\x00" + strings.ToLower(v.Therapy),
			keyText: fmt.Sprintf("A consent of %s", v.Date)}
		f.at, err = date("date", v.Date)
	case pumpledger.Assessment:
		f = clinicalFacts{id: v.ID, mrn: v.MRN, past: true, at: v.At, key: v.At.UTC.Format(time.RFC3339),
			keyText: fmt.Sprintf("An assessment at %s", v.At)}
	case pumpledger.Review:
		f = clinicalFacts{id: v.ID, mrn: v.MRN, past: true, at: v.At, key: v.Refill,
			keyText: fmt.Sprintf("A review of refill %s", v.Refill)}
	default:
		return f, pumpledger.Errorf(pumpledger.EINTERNAL, "%T is not a clinical record", p)
	}
	return f, err
}

// RecordClinical records one entry of the clinical record: payload is one
// of the seven kinds' types (as pumpledger.ParseInput gives it), its
// documents read (Attachment.Content) or cited by hash.
func (db *Service) RecordClinical(ctx context.Context, payload any) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	payload = deref(payload)
	kind := clinicalKind(payload)
	if kind == "" {
		return Result{}, pumpledger.Errorf(pumpledger.EINTERNAL, "%T is not a clinical record", payload)
	}
	payload, err = settle(payload)
	if err != nil {
		return Result{}, err
	}
	f, err := factsOf(payload)
	if err != nil {
		return Result{}, err
	}
	id := newID(f.id)
	payload = withID(payload, id)
	return db.write(ctx, id, kind, ledger.Canonical(payload), func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		e, warnings, err := db.clinicalEntry(tx, kind, payload, -1, by)
		if err != nil {
			return nil, nil, err
		}
		return []ledger.Entry{e}, &Result{Warnings: warnings}, nil
	}, nil)
}

// settle checks the documents a payload cites and fills in their hashes
// from their bytes (pumpledger.Attachment.Settle). The payload's document
// pointers are its own copies: the caller's input is not changed.
func settle(payload any) (any, error) {
	payload = copyDocuments(payload)
	for _, a := range pumpledger.AttachmentsOf(payload) {
		if err := a.Settle("document"); err != nil {
			return nil, err
		}
	}
	return payload, nil
}

func copyDocuments(p any) any {
	cp := func(a *pumpledger.Attachment) *pumpledger.Attachment {
		if a == nil {
			return nil
		}
		c := *a
		return &c
	}
	switch v := p.(type) {
	case pumpledger.Diagnosis:
		v.Document = cp(v.Document)
		return v
	case pumpledger.Coverage:
		v.Document = cp(v.Document)
		return v
	case pumpledger.Authorization:
		v.Document = cp(v.Document)
		return v
	case pumpledger.Therapy:
		v.Document = cp(v.Document)
		return v
	case pumpledger.Trial:
		v.Document = cp(v.Document)
		return v
	case pumpledger.Consent:
		v.Document = cp(v.Document)
		return v
	case pumpledger.Assessment:
		v.Document = cp(v.Document)
		return v
	case pumpledger.Review:
		v.Document = cp(v.Document)
		return v
	}
	return p
}

func withID(p any, id string) any {
	switch v := p.(type) {
	case pumpledger.Diagnosis:
		v.ID = id
		return v
	case pumpledger.Coverage:
		v.ID = id
		return v
	case pumpledger.Authorization:
		v.ID = id
		return v
	case pumpledger.Therapy:
		v.ID = id
		return v
	case pumpledger.Trial:
		v.ID = id
		return v
	case pumpledger.Consent:
		v.ID = id
		return v
	case pumpledger.Assessment:
		v.ID = id
		return v
	case pumpledger.Review:
		v.ID = id
		return v
	}
	return p
}

// clinicalEntry checks a clinical record against the ledger (the entry
// skip left out: the one a correction voids), stores the documents it
// brings, and builds its entry with its warnings.
func (db *Service) clinicalEntry(tx *ledger.Tx, kind pumpledger.Kind, payload any, skip int64, by string) (ledger.Entry, []string, error) {
	f, err := factsOf(payload)
	if err != nil {
		return ledger.Entry{}, nil, err
	}
	if _, ok := db.patientSeq(tx, f.mrn); !ok {
		return ledger.Entry{}, nil, unknownPatient(f.mrn)
	}
	at := f.at
	if at.IsZero() {
		at = pumpledger.NewInstant(db.Now())
	}
	if f.past && at.Date() > db.Today() {
		return ledger.Entry{}, nil, pumpledger.Invalid(dateField(kind), "%s %s is in the future; record what has happened, with the date it happened.", dateField(kind), at.Date())
	}
	for _, seq := range tx.Filed(ledger.ByPatient, f.mrn) {
		if seq == skip {
			continue
		}
		if _, void := tx.VoidedBy(seq); void {
			continue
		}
		e, err := tx.Entry(seq)
		if err != nil {
			return ledger.Entry{}, nil, err
		}
		if e.Kind != kind {
			continue
		}
		other, err := DecodeClinical(e)
		if err != nil {
			return ledger.Entry{}, nil, err
		}
		if of, _ := factsOf(other); of.key == f.key {
			return ledger.Entry{}, nil, pumpledger.Errorf(pumpledger.ECONFLICT, "%s is already on file for %s (entry %s); to change it, run `pumpledger correct --entry %s --reason \"what was wrong\" --file FILE`.", f.keyText, f.mrn, e.ID, e.ID)
		}
	}
	cat, err := db.catalogAt(tx, at.Date())
	if err != nil {
		return ledger.Entry{}, nil, err
	}
	warnings, err := checkClinical(cat, payload, db.Today())
	if err != nil {
		return ledger.Entry{}, nil, err
	}
	if r, ok := payload.(pumpledger.Review); ok {
		w, err := reviewed(tx, r)
		if err != nil {
			return ledger.Entry{}, nil, err
		}
		warnings = append(warnings, w...)
	}
	for _, a := range pumpledger.AttachmentsOf(payload) {
		if a.Content == nil {
			if !tx.HasAttachment(a.SHA256) {
				return ledger.Entry{}, nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "document %s is not stored in this ledger; give the document's file path instead of its hash.", a.SHA256)
			}
			continue
		}
		if _, err := tx.PutAttachment(a.Content); err != nil {
			return ledger.Entry{}, nil, err
		}
	}
	e := db.Envelope(f.id, kind, by, at, ledger.Canonical(payload))
	switch kind {
	case pumpledger.KindDiagnosis, pumpledger.KindCoverage, pumpledger.KindAuthorization, pumpledger.KindTherapy:
		e.Late = false // documents of the past, recorded when the clinic receives them
	}
	e.Warnings = warnings
	return e, warnings, nil
}

// dateField is the input field that dates a record of kind k.
func dateField(k pumpledger.Kind) string {
	switch k {
	case pumpledger.KindDiagnosis:
		return "onset"
	case pumpledger.KindTrial, pumpledger.KindConsent:
		return "date"
	case pumpledger.KindAssessment, pumpledger.KindReview:
		return "at"
	}
	return "from"
}

// DecodeClinical reads a stored clinical entry's payload, by value.
func DecodeClinical(e ledger.Entry) (any, error) {
	s, ok := pumpledger.KindOf(e.Kind)
	if !ok || !s.Clinical {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "entry %s is a %s, not a clinical record", e.ID, e.Kind)
	}
	p := s.Payload()
	if err := e.DecodePayload(p); err != nil {
		return nil, err
	}
	return deref(p), nil
}

// replaceClinical checks a correction's replacement of a clinical record:
// the same patient, checked like a new one with the voided one left out.
func replaceClinical(db *Service, tx *ledger.Tx, old ledger.Entry, by string, payload any) (*ledger.Entry, Result, error) {
	prev, err := DecodeClinical(old)
	if err != nil {
		return nil, Result{}, err
	}
	payload, err = settle(deref(payload))
	if err != nil {
		return nil, Result{}, err
	}
	pf, _ := factsOf(prev)
	f, err := factsOf(payload)
	if err != nil {
		return nil, Result{}, err
	}
	if f.mrn != pf.mrn {
		return nil, Result{}, pumpledger.Invalid("mrn", "The replacement is for %s but the entry corrected is %s's; a replacement keeps the patient (to move a record, void it and record it for the right patient).", f.mrn, pf.mrn)
	}
	id, err := newReplacementID(tx, f.id)
	if err != nil {
		return nil, Result{}, err
	}
	e, warnings, err := db.clinicalEntry(tx, old.Kind, withID(payload, id), old.Seq, by)
	if err != nil {
		return nil, Result{}, err
	}
	return &e, Result{Warnings: warnings}, nil
}

// checkClinical checks a record against the catalog in force on its date:
// a payer must be one of its profiles and a drug one of its drugs (refused
// otherwise); the rest are warnings, shown and recorded, never refusals.
func checkClinical(cat *catalog.Catalog, payload any, today string) (warnings []string, err error) {
	switch v := payload.(type) {
	case pumpledger.Diagnosis:
		if _, ok := cat.Diagnosis(v.Code); !ok {
			warnings = append(warnings, fmt.Sprintf("ICD-10-CM %s is not in the catalog's list of common diagnoses for intrathecal pain therapy; check it is the code meant, as a payer denies a drug the diagnosis does not support.", v.Code))
		}
	case pumpledger.Coverage:
		if err := knownPayer(cat, v.Payer, v.From); err != nil {
			return nil, err
		}
		if v.To != "" && v.To < today {
			warnings = append(warnings, fmt.Sprintf("This coverage ended on %s; visits after it need the coverage in force then.", v.To))
		}
	case pumpledger.Authorization:
		if err := knownPayer(cat, v.Payer, v.From); err != nil {
			return nil, err
		}
		d, ok := cat.Drug(v.Drug)
		if !ok {
			return nil, pumpledger.Invalid("drug", "Unknown drug %q; give a drug of the catalog (see `pumpledger catalog`).", v.Drug)
		}
		if !coversCode(cat, v.Codes, d.Code) {
			warnings = append(warnings, fmt.Sprintf("The authorization's codes %s do not include %s, %s's code in the catalog: refills of %s will not draw it down; check the letter.", strings.Join(v.Codes, ", "), d.Code, d.Name, d.Name))
		}
		switch {
		case v.Status != "approved":
			warnings = append(warnings, fmt.Sprintf("Authorization %s is %s: refills are not covered by it until it is approved.", v.Number, v.Status))
		case v.To < today:
			warnings = append(warnings, fmt.Sprintf("Authorization %s expired on %s; refills after it need a new one.", v.Number, v.To))
		}
	case pumpledger.Trial:
		switch {
		case v.Successful == nil:
			warnings = append(warnings, "The trial's result is not recorded (successful, relief_percent, function); record it with `pumpledger correct` once known: coverage needs it.")
		case *v.Successful && v.ReliefPercent != nil && *v.ReliefPercent <= 50:
			warnings = append(warnings, fmt.Sprintf("The trial is recorded successful with %d %% relief; commercial policies ask for more than 50 %% relief.", *v.ReliefPercent))
		}
	case pumpledger.Consent:
		if v.Document == nil {
			warnings = append(warnings, "No signed consent form is attached; attach it (document) with `pumpledger correct`: a payer asks for the signed form.")
		}
	case pumpledger.Assessment:
		if v.Cognition == "impaired" || v.Psychiatric == "present" {
			warnings = append(warnings, boxedWarning)
		}
	}
	return warnings, nil
}

// boxedWarning is Prialt's boxed warning, for an assessment that finds
// what it warns of.
const boxedWarning = "Cognitive or psychiatric findings recorded: Prialt's boxed warning says to stop ziconotide in the event of serious neurological or psychiatric signs or symptoms; tell the prescriber today."

// knownPayer refuses a payer that is not a profile of the catalog in
// force on date.
func knownPayer(cat *catalog.Catalog, id, date string) error {
	if _, ok := cat.Payer(id); ok {
		return nil
	}
	var ids []string
	for _, p := range cat.Payers() {
		ids = append(ids, p.ID)
	}
	if len(ids) == 0 {
		return pumpledger.Invalid("payer", "Unknown payer %q: the catalog in force on %s has no payer profiles; adopt one that has (`pumpledger catalog adopt FILE --reason TEXT`).", id, date)
	}
	return pumpledger.Invalid("payer", "Unknown payer %q; give a payer profile of the catalog in force on %s: %s.", id, date, strings.Join(ids, ", "))
}

// coversCode says whether codes include code, or a code of the same drug
// (an authorization for J2278 covers ziconotide billed as J2277, and the
// other way round).
func coversCode(cat *catalog.Catalog, codes []string, code string) bool {
	want, known := cat.Drug(code)
	for _, c := range codes {
		if c == code {
			return true
		}
		if d, ok := cat.Drug(c); ok && known && d.Name == want.Name {
			return true
		}
	}
	return false
}

// reviewed checks the refill a review names: a live refill of the
// patient's. One whose residual was not flagged may still be reviewed
// (a nurse's doubt), with a warning saying so.
func reviewed(tx *ledger.Tx, r pumpledger.Review) ([]string, error) {
	e, err := tx.EntryByID(r.Refill)
	if err != nil || e.Kind != pumpledger.KindRefill {
		return nil, pumpledger.Invalid("refill", "refill %s is not a refill of this ledger; give the id of the refill reviewed (see `pumpledger history --mrn %s`).", r.Refill, r.MRN)
	}
	if _, void := tx.VoidedBy(e.Seq); void {
		return nil, pumpledger.Invalid("refill", "refill %s is voided; review its replacement (see `pumpledger history --mrn %s`).", r.Refill, r.MRN)
	}
	in, err := e.Refill()
	if err != nil {
		return nil, err
	}
	if in.MRN != r.MRN {
		return nil, pumpledger.Invalid("refill", "refill %s is patient %s's, not %s's; check the refill id and the MRN.", r.Refill, in.MRN, r.MRN)
	}
	if !Flagged(e.Warnings) {
		return []string{fmt.Sprintf("Refill %s had no residual discrepancy flagged; the review is recorded all the same.", r.Refill)}, nil
	}
	return nil, nil
}

// Flagged says whether a refill's recorded warnings flag its residual as
// a discrepancy (refill.Derive's "RESIDUAL DISCREPANCY:").
func Flagged(warnings []string) bool {
	for _, w := range warnings {
		if strings.HasPrefix(w, DiscrepancyWarning) {
			return true
		}
	}
	return false
}

// DiscrepancyWarning begins the warning refill.Derive records on a refill
// whose residual is beyond the pump's threshold (a test holds them to it).
const DiscrepancyWarning = "RESIDUAL DISCREPANCY:"
