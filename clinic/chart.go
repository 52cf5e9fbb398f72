package clinic

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/shopspring/decimal"
)

// A patient's chart: one view for the nurse and the biller of what is on
// file, derived from the live entries (corrections applied) as of today,
// and what the patient's payer still needs (SPEC §8), as a checklist.

// Chart is one patient's chart.
type Chart struct {
	MRN     string             `json:"mrn"`
	Patient pumpledger.Patient `json:"patient"`
	AsOf    string             `json:"as_of"` // today, YYYY-MM-DD
	Pumps   []ChartPump        `json:"pumps"`

	Diagnoses      []OnFile[pumpledger.Diagnosis] `json:"diagnoses"`
	Coverage       []OnFile[pumpledger.Coverage]  `json:"coverage"`
	Payer          *ChartPayer                    `json:"payer"` // the primary coverage in force today, or null
	Authorizations []AuthorizationUse             `json:"authorizations"`
	Therapies      []OnFile[pumpledger.Therapy]   `json:"therapies"`
	Trials         []OnFile[pumpledger.Trial]     `json:"trials"`
	Consents       []OnFile[pumpledger.Consent]   `json:"consents"`
	Assessment     ChartAssessment                `json:"assessment"`
	// Checklist is what the payer needs on file, each item met or not.
	Checklist []ChecklistItem `json:"checklist"`
}

// OnFile is one live clinical record with its entry.
type OnFile[T any] struct {
	EntryID    string    `json:"entry_id"`
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy string    `json:"recorded_by"`
	Record     T         `json:"record"`
}

// ChartPump is one of the patient's pumps as it stands.
type ChartPump struct {
	Serial    string `json:"serial"`
	Model     string `json:"model"`
	Implanted string `json:"implanted"`
	Explanted string `json:"explanted,omitempty"`
	// The last fill: its date and solution; the dose programmed now (the
	// fill's, or a later change's) and the rate it runs at.
	LastRefill      string                    `json:"last_refill,omitempty"`
	LastRefillEntry string                    `json:"last_refill_entry,omitempty"`
	Solution        []pumpledger.SolutionDrug `json:"solution"`
	Dose            *pumpledger.Dose          `json:"dose"`
	MLPerDay        decimal.NullDecimal       `json:"ml_per_day"`
	// ExpectedML is the volume the reservoir should hold at noon today at
	// the programmed rates: what the nurse should aspirate.
	ExpectedML       decimal.NullDecimal `json:"expected_ml"`
	NextRefillDue    string              `json:"next_refill_due,omitempty"`
	NextRefillReason string              `json:"next_refill_reason,omitempty"`
	// Overdue: the refill was due before today.
	Overdue bool `json:"overdue"`
}

// ChartPayer is the payer profile whose rules apply today.
type ChartPayer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	EntryID  string `json:"entry_id"`
	MemberID string `json:"member_id"`
}

// ChartAssessment is the monitoring Prialt's boxed warning asks for: the
// last assessment, and when the next is due (at every refill visit: the
// next refill's date, or now when a refill visit has passed without one).
type ChartAssessment struct {
	Last    *OnFile[pumpledger.Assessment] `json:"last"`
	Count   int                            `json:"count"`
	NextDue string                         `json:"next_due,omitempty"`
	Why     string                         `json:"why"`
}

// ChecklistItem is one thing the payer needs on file.
type ChecklistItem struct {
	Need  string          `json:"need"` // what, in a few words
	Kind  pumpledger.Kind `json:"kind"` // the record that meets it
	Met   bool            `json:"met"`
	Entry string          `json:"entry_id,omitempty"` // the record that meets it
	// Detail says what is on file, or what is missing and how to record it.
	Detail string `json:"detail"`
	Basis  string `json:"basis"` // the rule's source
}

// Chart derives a patient's chart as of today.
func (db *Service) Chart(_ context.Context, mrn string) (_ Chart, err error) {
	var c Chart
	err = db.View(func(tx *ledger.Tx) error {
		var err error
		c, err = db.chartIn(tx, mrn)
		return err
	})
	return c, err
}

func (db *Service) chartIn(tx *ledger.Tx, mrn string) (Chart, error) {
	today := db.Today()
	c := Chart{MRN: mrn, AsOf: today, Pumps: []ChartPump{}, Diagnoses: []OnFile[pumpledger.Diagnosis]{}, Coverage: []OnFile[pumpledger.Coverage]{},
		Therapies: []OnFile[pumpledger.Therapy]{}, Trials: []OnFile[pumpledger.Trial]{}, Consents: []OnFile[pumpledger.Consent]{}}
	seqs := tx.Filed(ledger.ByPatient, mrn)
	if len(seqs) == 0 {
		return c, unknownPatient(mrn)
	}
	cats, err := db.catalogsIn(tx)
	if err != nil {
		return c, err
	}
	var serials []string
	var lastVisit string    // the latest refill visit's date of service
	var live []ledger.Entry // for the drawdown
	voided := tx.Voided()   // seqs ascend: one cursor, not a Get each
	for _, seq := range seqs {
		_, void, err := voided.By(seq)
		if err != nil {
			return c, err
		}
		if void {
			continue
		}
		// Decoded once (db.items): the drawdown and the pumps' loads read
		// the same entries.
		it, err := db.items.get(db, tx, cats, seq)
		if err != nil {
			return c, err
		}
		e := it.entry
		live = append(live, e)
		switch e.Kind {
		case pumpledger.KindPatient:
			if c.Patient, err = e.Patient(); err != nil {
				return c, err
			}
		case pumpledger.KindImplant:
			im, err := e.Implant()
			if err != nil {
				return c, err
			}
			if !slices.Contains(serials, im.Serial) {
				serials = append(serials, im.Serial)
			}
		case pumpledger.KindRefill:
			if d := e.Performed().Date(); d > lastVisit {
				lastVisit = d
			}
		case pumpledger.KindDiagnosis:
			c.Diagnoses = appendOnFile[pumpledger.Diagnosis](c.Diagnoses, e)
		case pumpledger.KindCoverage:
			c.Coverage = appendOnFile[pumpledger.Coverage](c.Coverage, e)
		case pumpledger.KindTherapy:
			c.Therapies = appendOnFile[pumpledger.Therapy](c.Therapies, e)
		case pumpledger.KindTrial:
			c.Trials = appendOnFile[pumpledger.Trial](c.Trials, e)
		case pumpledger.KindConsent:
			c.Consents = appendOnFile[pumpledger.Consent](c.Consents, e)
		case pumpledger.KindAssessment:
			v, err := DecodeClinical(e)
			if err != nil {
				return c, err
			}
			a := v.(pumpledger.Assessment)
			c.Assessment.Count++
			if c.Assessment.Last == nil || !a.At.UTC.Before(c.Assessment.Last.Record.At.UTC) {
				c.Assessment.Last = &OnFile[pumpledger.Assessment]{EntryID: e.ID, RecordedAt: e.RecordedAt, RecordedBy: e.RecordedBy, Record: a}
			}
		}
	}
	for _, serial := range serials {
		p, err := db.chartPump(tx, serial)
		if err != nil {
			return c, err
		}
		p.Overdue = p.NextRefillDue != "" && p.NextRefillDue < today
		c.Pumps = append(c.Pumps, p)
	}
	dd, err := db.drawdownFrom(tx, live, nil)
	if err != nil {
		return c, err
	}
	c.Authorizations = dd.auths
	if c.Authorizations == nil {
		c.Authorizations = []AuthorizationUse{}
	}
	cat, err := db.catalogAt(tx, today)
	if err != nil {
		return c, err
	}
	var payer *billing.Payer
	for _, cv := range c.Coverage {
		r := cv.Record
		if r.Priority == "primary" && r.From <= today && (r.To == "" || today <= r.To) {
			c.Payer = &ChartPayer{ID: r.Payer, EntryID: cv.EntryID, MemberID: r.MemberID}
			if p, ok := cat.Payer(r.Payer); ok {
				c.Payer.Name, payer = p.Name, &p
			}
		}
	}
	c.Assessment.NextDue, c.Assessment.Why = nextAssessment(c, lastVisit, today, cat.AssessmentEveryDays())
	c.Checklist = checklist(c, payer, cat, today)
	return c, nil
}

func appendOnFile[T any](dst []OnFile[T], e ledger.Entry) []OnFile[T] {
	var v T
	if err := e.DecodePayload(&v); err != nil {
		return dst // the entry verified when written; verify reports a bad one
	}
	return append(dst, OnFile[T]{EntryID: e.ID, RecordedAt: e.RecordedAt, RecordedBy: e.RecordedBy, Record: v})
}

// chartPump is a pump as it stands: its last fill, its dose now, when the
// fill is due for refill.
func (db *Service) chartPump(tx *ledger.Tx, serial string) (ChartPump, error) {
	st, err := db.loadPump(tx, serial, -1)
	if err != nil {
		return ChartPump{}, err
	}
	return db.chartPumpOf(st)
}

// chartPumpOf is chartPump of a pump already loaded.
func (db *Service) chartPumpOf(st *pumpState) (ChartPump, error) {
	serial := st.serial
	p := ChartPump{Serial: serial, Solution: []pumpledger.SolutionDrug{}}
	if st.implant != nil {
		p.Model, p.Implanted = st.implant.Model, st.implant.Date
	}
	if st.explant != nil {
		p.Explanted = st.explant.Date
	}
	if len(st.fills) == 0 || st.explant != nil {
		return p, nil
	}
	if st.implant == nil {
		return p, pumpledger.Errorf(pumpledger.EINVALID, "pump %s has refills or dose changes but no implant recorded", st.serial)
	}
	// Only the last fill is shown, and a refill derives from the fills
	// before it, not their records: the rest of the chain is not derived
	// (it was two thirds of a ten-year chart).
	last, err := link(st, st.fills[len(st.fills)-1])
	if err != nil {
		return p, err
	}
	p.LastRefill, p.LastRefillEntry = last.Entry.Performed().Date(), last.Entry.ID
	dose := last.Refill.Dose
	if last.Record.NextRefillDue != nil {
		p.NextRefillDue, p.NextRefillReason = *last.Record.NextRefillDue, last.Record.NextRefillReason
	}
	// A dose changed since the fill moves its due date.
	for _, ch := range st.changes {
		if !ch.change.At.After(last.Entry.PerformedAt) {
			continue
		}
		r, err := ch.entry.Reprogram()
		if err != nil {
			return p, err
		}
		dose = r.Dose
		if due, ok := refill.NextRefillAfter(st.history(ch.change.At), pump.DoseChange{At: ch.change.At, Drug: ch.change.Drug, MCGPerDay: ch.change.MCGPerDay}, r.PerformedAt.Offset); ok {
			p.NextRefillDue, p.NextRefillReason = due.Date, due.Reason
		}
	}
	// Drugs by the catalog's names, however they were typed ("J2277").
	cat := st.cats.at(p.LastRefill).Catalog
	dose.Drug = drugName(cat, dose.Drug)
	p.Dose = &dose
	p.Solution = make([]pumpledger.SolutionDrug, len(last.Refill.Solution))
	for i, s := range last.Refill.Solution {
		s.Drug = drugName(cat, s.Drug)
		p.Solution[i] = s
		if s.Drug == dose.Drug && s.MCGPerML.IsPositive() {
			p.MLPerDay = decimal.NewNullDecimal(dose.MCGPerDay.DivRound(s.MCGPerML, 4))
		}
	}
	p.ExpectedML = expectedML(st, db.Today())
	return p, nil
}

// nextAssessment is when the next monitoring assessment is due: at every
// refill visit (Prialt's boxed warning: "monitor all patients
// frequently"), or every so many days where the site set an interval
// (the catalog's assessment_every_days).
func nextAssessment(c Chart, lastVisit, today string, every int) (string, string) {
	var last string
	if c.Assessment.Last != nil {
		last = c.Assessment.Last.Record.At.Date()
	}
	if every > 0 {
		if last == "" {
			return today, fmt.Sprintf("no assessment is recorded; the site assesses every %d days", every)
		}
		t, _ := time.Parse(time.DateOnly, last)
		return t.AddDate(0, 0, every).Format(time.DateOnly), fmt.Sprintf("%d days after the last, as the site assesses every %d days", every, every)
	}
	switch {
	case lastVisit != "" && last < lastVisit:
		if last == "" {
			return today, fmt.Sprintf("no assessment is recorded; one is due at every refill visit (the last on %s)", lastVisit)
		}
		return today, fmt.Sprintf("the refill visit of %s has no assessment (the last on %s); one is due at every refill visit", lastVisit, last)
	}
	due := ""
	for _, p := range c.Pumps {
		if p.NextRefillDue != "" && (due == "" || p.NextRefillDue < due) {
			due = p.NextRefillDue
		}
	}
	if due == "" {
		return "", "at the next refill visit"
	}
	return due, "at the next refill visit"
}

// The basis of each checklist item.
const (
	basisNCD     = "Medicare NCD 280.14 / article A55239: failed less invasive therapy, a specialist evaluation and a successful preliminary trial, clearly documented"
	basisConsent = "payer policies ask for the signed informed consent to intrathecal therapy"
	basisMonitor = "Prialt boxed warning: monitor all patients frequently for cognitive impairment, hallucinations, or changes in mood or consciousness"
	basisAuth    = "the payer profile lists the code as needing prior authorization"
	basisDx      = "a claim carries the diagnosis that makes the drug medically necessary"
)

// checklist is what the payer in force needs on file, each met or not.
// Without coverage, it is NCD 280.14's list, and a coverage item unmet.
func checklist(c Chart, payer *billing.Payer, cat *catalog.Catalog, today string) []ChecklistItem {
	var out []ChecklistItem
	needs := []pumpledger.Kind{pumpledger.KindDiagnosis, pumpledger.KindTherapy, pumpledger.KindTrial, pumpledger.KindConsent}
	switch {
	case c.Payer == nil:
		out = append(out, ChecklistItem{Need: "coverage in force", Kind: pumpledger.KindCoverage,
			Detail: "No primary coverage in force today; record it with `pumpledger coverage add`. Until then bills use per-drug lines and no payer's rules.", Basis: "a claim needs a payer"})
	case payer == nil:
		out = append(out, ChecklistItem{Need: "a payer profile", Kind: pumpledger.KindCoverage, Entry: c.Payer.EntryID,
			Detail: fmt.Sprintf("Payer %s is not a profile of the catalog in force today; adopt a catalog that has it.", c.Payer.ID), Basis: "the catalog's payer profiles"})
	default:
		needs = payer.Documentation
		out = append(out, ChecklistItem{Need: "coverage in force", Kind: pumpledger.KindCoverage, Met: true, Entry: c.Payer.EntryID,
			Detail: fmt.Sprintf("%s, member %s", c.Payer.Name, c.Payer.MemberID), Basis: "a claim needs a payer"})
	}
	for _, k := range needs {
		switch k {
		case pumpledger.KindDiagnosis:
			it := ChecklistItem{Need: "a diagnosis", Kind: k, Basis: basisDx, Detail: "No diagnosis on file; record it with `pumpledger diagnosis add`."}
			if len(c.Diagnoses) > 0 {
				var codes []string
				for _, d := range c.Diagnoses {
					codes = append(codes, d.Record.Code)
				}
				it.Met, it.Entry, it.Detail = true, c.Diagnoses[0].EntryID, strings.Join(codes, ", ")
			}
			out = append(out, it)
		case pumpledger.KindTherapy:
			it := ChecklistItem{Need: "failed less invasive therapy", Kind: k, Basis: basisNCD, Detail: "No prior therapy on file; record what was tried and how it ended with `pumpledger therapy add`."}
			if len(c.Therapies) > 0 {
				var ts []string
				for _, t := range c.Therapies {
					ts = append(ts, t.Record.Therapy+" ("+t.Record.Outcome+")")
				}
				it.Met, it.Entry, it.Detail = true, c.Therapies[0].EntryID, strings.Join(ts, "; ")
			}
			out = append(out, it)
		case pumpledger.KindTrial:
			it := ChecklistItem{Need: "a successful trial", Kind: k, Basis: basisNCD, Detail: "No trial on file; record it with `pumpledger trial add`."}
			for _, t := range c.Trials {
				switch r := t.Record; {
				case r.Successful != nil && *r.Successful:
					it.Met, it.Entry, it.Detail = true, t.EntryID, fmt.Sprintf("trial of %s on %s, successful", r.Drug, r.Date)
				case !it.Met && r.Successful == nil:
					it.Entry, it.Detail = t.EntryID, fmt.Sprintf("The trial of %s on %s has no result recorded; record it with `pumpledger correct --entry %s`.", r.Drug, r.Date, t.EntryID)
				case !it.Met:
					it.Entry, it.Detail = t.EntryID, fmt.Sprintf("The trial of %s on %s was not successful.", r.Drug, r.Date)
				}
			}
			out = append(out, it)
		case pumpledger.KindConsent:
			it := ChecklistItem{Need: "signed consent", Kind: k, Basis: basisConsent, Detail: "No consent on file; record it with the signed form with `pumpledger consent add`."}
			for _, cs := range c.Consents {
				if cs.Record.Document != nil {
					it.Met, it.Entry, it.Detail = true, cs.EntryID, fmt.Sprintf("signed %s by %s, form attached", cs.Record.Date, cs.Record.SignedBy)
				} else if !it.Met {
					it.Entry, it.Detail = cs.EntryID, fmt.Sprintf("The consent of %s has no signed form attached; attach it with `pumpledger correct --entry %s`.", cs.Record.Date, cs.EntryID)
				}
			}
			out = append(out, it)
		case pumpledger.KindAssessment:
			it := ChecklistItem{Need: "monitoring assessment", Kind: k, Basis: basisMonitor}
			if c.Assessment.Last != nil {
				it.Entry = c.Assessment.Last.EntryID
			}
			it.Met = c.Assessment.NextDue == "" || c.Assessment.NextDue > today
			it.Detail = "next due " + c.Assessment.NextDue + ": " + c.Assessment.Why
			if c.Assessment.NextDue == "" {
				it.Detail = "next due " + c.Assessment.Why
			}
			out = append(out, it)
		}
	}
	if payer != nil {
		for _, code := range payer.PriorAuth {
			out = append(out, authItem(c, cat, code, today))
		}
	}
	return out
}

// authItem is the checklist item of a code that needs prior authorization:
// met by an approved authorization in force today with some left.
func authItem(c Chart, cat *catalog.Catalog, code, today string) ChecklistItem {
	it := ChecklistItem{Need: "prior authorization for " + code, Kind: pumpledger.KindAuthorization, Basis: basisAuth,
		Detail: fmt.Sprintf("No authorization for %s on file; record the payer's letter with `pumpledger authorization add`.", code)}
	for _, a := range c.Authorizations {
		if !coversCode(cat, a.Codes, code) {
			continue
		}
		switch {
		case a.Status == "approved" && a.From <= today && today <= a.To && a.Left.IsPositive():
			it.Met, it.Entry, it.Detail = true, a.EntryID, fmt.Sprintf("%s: %s of %s %s left, to %s", a.Number, a.Left, a.Authorized, a.Unit, a.To)
			return it
		case a.Status != "approved":
			it.Entry, it.Detail = a.EntryID, fmt.Sprintf("Authorization %s is %s.", a.Number, a.Status)
		case a.To < today:
			it.Entry, it.Detail = a.EntryID, fmt.Sprintf("Authorization %s expired on %s; ask the payer to renew it.", a.Number, a.To)
		case a.From > today:
			it.Entry, it.Detail = a.EntryID, fmt.Sprintf("Authorization %s starts on %s.", a.Number, a.From)
		default:
			it.Entry, it.Detail = a.EntryID, fmt.Sprintf("Authorization %s is used up (%s of %s %s); ask the payer for more.", a.Number, a.Used, a.Authorized, a.Unit)
		}
	}
	return it
}
