package clinic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/x12"
	"github.com/shopspring/decimal"
)

// The whole 837P (SPEC §13): a bill's lines grouped into claims (one per
// patient and date of service: the refill service and its drugs on one),
// each filled from what the pre-billing check reads (the coverage in force,
// the diagnoses on file, the authorization the refill drew) and the
// practice in force on its date. A claim that cannot be filled is refused
// with what it lacks; the others are written.

// Refusal is a claim left out of an interchange, and why: what it lacks,
// or that it was sent unchanged (Sent, the submission recorded).
type Refusal struct {
	ClaimID       string                 `json:"claim_id"`
	MRN           string                 `json:"mrn"`
	DateOfService string                 `json:"date_of_service"`
	Missing       []string               `json:"missing,omitempty"` // each a phrase: "a diagnosis on file by 2026-02-03"
	Sent          *pumpledger.Submission `json:"sent,omitempty"`
}

// Interchange is the 837P of a bill's lines (BillChecked's of [from, to],
// after HoldBack), dated asOf ("" is now), with the claims sent before
// (submission.go): one unchanged is left out, one changed is a
// replacement, and one of the period whose visits were all voided since
// is voided. Its control number is the ledger's size: every interchange
// recorded as sent grows it.
func (db *Service) Interchange(_ context.Context, from, to string, lines []billing.Line, asOf string) (x12.Interchange, []Refusal, error) {
	var ic x12.Interchange
	var refused []Refusal
	at := db.Now()
	if asOf != "" {
		t, err := pumpledger.ParseDate(asOf)
		if err != nil {
			return ic, nil, pumpledger.Invalid("as_of", "as_of must be a date like 2026-03-31, not %q.", asOf)
		}
		at = t
	}
	err := db.View(func(tx *ledger.Tx) error {
		b, err := db.bookIn(tx, pumpledger.KindCoverage, pumpledger.KindDiagnosis)
		if err != nil {
			return err
		}
		sent, err := sentClaims(tx)
		if err != nil {
			return err
		}
		sites, err := sitesIn(tx)
		if err != nil {
			return err
		}
		draws := map[string]*drawdown{}
		last := ""
		add := func(c billing.Claim, freq string, prev pumpledger.Submission) error {
			claim, missing, err := db.fill(tx, b, sites, draws, c, prev.Payer)
			if err != nil {
				return err
			}
			if len(missing) > 0 {
				refused = append(refused, Refusal{ClaimID: claim.ID, MRN: c.MRN, DateOfService: c.DateOfService, Missing: missing})
				return nil
			}
			if freq != x12.Original {
				claim.Frequency, claim.Original = freq, claim.ID
			}
			if freq == x12.Void { // a void states the charges it withdraws
				for i := range prev.Lines {
					claim.Lines[i].Charge = prev.Lines[i].Charge
				}
			}
			ic.Claims = append(ic.Claims, claim)
			last = max(last, c.DateOfService)
			return nil
		}
		billed := map[string]bool{}
		for _, c := range billing.Claims(lines) {
			id := claimID(c.MRN, c.DateOfService)
			billed[id] = true
			freq, prev := x12.Original, pumpledger.Submission{}
			if p, ok := sent[id]; ok && p.Frequency != x12.Void {
				if sameLines(p.Lines, c.Lines) {
					refused = append(refused, Refusal{ClaimID: id, MRN: c.MRN, DateOfService: c.DateOfService, Sent: &p})
					continue
				}
				freq, prev = x12.Replacement, p
			}
			if err := add(c, freq, prev); err != nil {
				return err
			}
		}
		for _, id := range sortedKeys(sent) {
			prev := sent[id]
			if billed[id] || prev.Frequency == x12.Void || prev.DateOfService < from || prev.DateOfService > to {
				continue
			}
			gone, err := withdrawn(tx, prev.Entries)
			if err != nil {
				return err
			}
			if gone {
				if err := add(billing.Claim{DateOfService: prev.DateOfService, MRN: prev.MRN, Lines: sentLines(prev)}, x12.Void, prev); err != nil {
					return err
				}
			}
		}
		ic.Site, _ = siteOn(sites, last)
		return nil
	})
	if err != nil {
		return ic, nil, err
	}
	n, err := db.Size()
	ic.Control, ic.At = n%1_000_000_000, at
	return ic, refused, err
}

// fill is one claim of the interchange, and what it lacks. A replacement
// or void goes to the payer the claim was sent to (sentTo); without one
// (an original, or a submission recorded before payers were), to the
// coverage in force on the date of service.
func (db *Service) fill(tx *ledger.Tx, b book, sites []pumpledger.Site, draws map[string]*drawdown, c billing.Claim, sentTo *pumpledger.SubmittedPayer) (x12.Claim, []string, error) {
	date := c.DateOfService
	claim := x12.Claim{ID: claimID(c.MRN, date), DateOfService: date, Frequency: x12.Original}
	var missing []string
	lack := func(format string, args ...any) { missing = append(missing, fmt.Sprintf(format, args...)) }

	site, hasSite := siteOn(sites, date)
	if !hasSite {
		lack("a practice whose fee schedule is in force on %s (pumpledger site set)", date)
	}
	claim.PlaceOfService = site.PlaceOfService

	var err error
	if claim.Patient, err = db.registration(tx, c.MRN); err != nil {
		return claim, nil, err
	}
	p := claim.Patient
	if p.BirthDate == "" || p.Sex == "" || p.Address == nil {
		lack("the patient's birth date, sex and address (correct the registration with them)")
	}
	if !carriesName(p.Name) {
		lack("a name a claim can carry (plain letters, without * : ~ ^)")
	}

	cov, _, covered := b.coverageOn(c.MRN, date)
	switch payer, named := site.Payers[cov.Payer]; {
	case sentTo != nil:
		claim.Coverage = pumpledger.Coverage{ID: sentTo.Coverage, MRN: c.MRN, Payer: sentTo.Profile, MemberID: sentTo.MemberID,
			Group: sentTo.Group, Plan: sentTo.Plan, Priority: sentTo.Priority}
		claim.Payer, claim.Filing = pumpledger.SitePayer{ID: sentTo.ID, Name: sentTo.Name, Filing: sentTo.Filing}, sentTo.Filing
		// Whose policy it is was not kept with the submission: the
		// coverage entry sent under says, as it stands.
		for _, e := range b[pumpledger.KindCoverage][c.MRN] {
			var sc pumpledger.Coverage
			if e.DecodePayload(&sc) == nil && (e.ID == sentTo.Coverage || sc.ID == sentTo.Coverage) {
				claim.Coverage.Relationship, claim.Coverage.Subscriber = sc.Relationship, sc.Subscriber
				break
			}
		}
	case !covered:
		lack("coverage in force on %s (pumpledger coverage add)", date)
	case hasSite && !named:
		lack("the payer id of profile %s in the practice's payers (pumpledger site set)", cov.Payer)
	default:
		claim.Coverage, claim.Payer, claim.Filing = cov, payer, payer.FilingCode(cov.Payer)
	}

	if s := claim.Coverage.Subscriber; s != nil && !carriesName(s.Name) {
		lack("a subscriber's name a claim can carry (plain letters, without * : ~ ^: correct the coverage)")
	}

	// The other payer, when the patient has a secondary coverage (a
	// tertiary one is not yet written). One naming the claim's own payer
	// (a replacement or void sent to the payer of before) is left out.
	if sec, _, ok := b.coverageOf(c.MRN, date, "secondary"); ok && sec.Payer != claim.Coverage.Payer {
		switch payer, named := site.Payers[sec.Payer]; {
		case hasSite && !named:
			lack("the payer id of profile %s, the secondary coverage's, in the practice's payers (pumpledger site set)", sec.Payer)
		case sec.Subscriber != nil && !carriesName(sec.Subscriber.Name):
			lack("a name a claim can carry for the secondary coverage's subscriber (plain letters, without * : ~ ^: correct the coverage)")
		case named:
			claim.Other = &x12.OtherPayer{Coverage: sec, Payer: payer, Filing: payer.FilingCode(sec.Payer)}
		}
	}

	for _, e := range b[pumpledger.KindDiagnosis][c.MRN] {
		var d pumpledger.Diagnosis
		if err := e.DecodePayload(&d); err != nil {
			return claim, nil, err
		}
		if (d.Onset == "" || d.Onset <= date) && !slices.Contains(claim.Diagnoses, d.Code) && len(claim.Diagnoses) < x12.MaxDiagnoses {
			claim.Diagnoses = append(claim.Diagnoses, d.Code)
		}
	}
	if len(claim.Diagnoses) == 0 {
		lack("a diagnosis on file by %s (pumpledger diagnosis add)", date)
	}

	// The authorization the claim's refill drew (the check has held back
	// a refill that needed one and had none).
	for _, l := range c.Lines {
		if claim.PriorAuth != "" || l.Drug == "" && l.Narrative == "" {
			continue
		}
		dd := draws[c.MRN]
		if dd == nil {
			if dd, err = db.drawdownOf(tx, c.MRN, nil, -1); err != nil {
				return claim, nil, err
			}
			draws[c.MRN] = dd
		}
		for _, r := range dd.byRefill[l.EntryID] {
			claim.PriorAuth = r.Number
			break
		}
	}

	if len(c.Lines) > billing.MaxX12LinesPerClaim {
		lack("at most %d lines (it has %d: bill fewer dates at a time)", billing.MaxX12LinesPerClaim, len(c.Lines))
	}
	for _, l := range c.Lines {
		fee, ok := site.Fees.Charge(l.Code)
		if hasSite && !ok {
			if !slices.ContainsFunc(missing, func(m string) bool { return strings.Contains(m, " "+l.Code+" ") }) {
				lack("a charge for %s in the fee schedule effective %s", l.Code, site.Fees.Effective)
			}
			continue
		}
		claim.Lines = append(claim.Lines, x12.Line{Line: l, Charge: fee.Mul(decimal.NewFromInt(l.Units))})
	}
	return claim, missing, nil
}

// carriesName says whether a person's name can go in an NM1: a last name,
// and no delimiter.
func carriesName(name string) bool {
	last, _ := x12.SplitName(name)
	return last != "" && x12.Carries(name)
}

// claimID is a claim's CLM01: the patient's MRN and the date of service.
func claimID(mrn, date string) string { return mrn + "-" + strings.ReplaceAll(date, "-", "") }

// registration is a patient's registration as it stands: the first entry
// filed under the MRN or, when corrections voided it, the last replacement
// (a chain of a few entries, not the patient's whole history).
func (db *Service) registration(tx *ledger.Tx, mrn string) (pumpledger.Patient, error) {
	seqs := tx.Filed(ledger.ByPatient, mrn)
	if len(seqs) == 0 {
		return pumpledger.Patient{}, nil
	}
	e, err := tx.Entry(seqs[0])
	for err == nil && e.Kind == pumpledger.KindPatient {
		cseq, void := tx.VoidedBy(e.Seq)
		if !void {
			return e.Patient()
		}
		var c ledger.Entry
		if c, err = tx.Entry(cseq); err != nil {
			break
		}
		cp, cerr := c.Correction()
		if cerr != nil || cp.Replacement == "" {
			return pumpledger.Patient{}, cerr
		}
		e, err = tx.EntryByID(cp.Replacement)
	}
	if err != nil {
		return pumpledger.Patient{}, err
	}
	// Not registered first (a ledger written otherwise): search.
	if seq, ok := db.patientSeq(tx, mrn); ok {
		if e, err = tx.Entry(seq); err != nil {
			return pumpledger.Patient{}, err
		}
		return e.Patient()
	}
	return pumpledger.Patient{}, nil
}

// String is a refusal as one sentence, for stderr.
func (r Refusal) String() string {
	if s := r.Sent; s != nil {
		return fmt.Sprintf("not sent again: claim %s (%s, %s) was sent unchanged in interchange %09d (sha256 %.12s…).", r.ClaimID, r.MRN, r.DateOfService, s.Interchange, s.FileSHA256)
	}
	return fmt.Sprintf("refused: claim %s (%s, %s) is not written; it needs %s.", r.ClaimID, r.MRN, r.DateOfService, strings.Join(r.Missing, "; "))
}

// WriteBill writes the bill of [from, to] (its lines after HoldBack) in
// format, one of billing.Formats: an interchange format's claims filled
// from the ledger (Interchange), dated asOf; the claims left out are
// returned. When none can be written, nothing is and the error says so.
// submit records the interchange's claims as sent (ctx's actor), once it
// is written.
func WriteBill(ctx context.Context, db Ledger, w io.Writer, format, from, to string, lines []billing.Line, asOf string, submit bool) ([]Refusal, error) {
	_, refused, err := writeBill(ctx, db, w, format, from, to, lines, asOf, submit)
	return refused, err
}

// writeBill is WriteBill, also saying what an interchange written holds.
func writeBill(ctx context.Context, db Ledger, w io.Writer, format, from, to string, lines []billing.Line, asOf string, submit bool) (Sending, []Refusal, error) {
	f, ok := billing.Formats[format]
	switch {
	case !ok:
		return Sending{}, nil, pumpledger.Invalid("format", "format must be %s, not %q.", billing.FormatNames, format)
	case !f.Interchange:
		return Sending{}, nil, f.Write(w, lines)
	}
	ic, refused, err := db.Interchange(ctx, from, to, lines, asOf)
	if err != nil {
		return Sending{}, nil, err
	}
	if len(ic.Claims) == 0 {
		return Sending{}, refused, pumpledger.Errorf(pumpledger.EINVALID, "No claim of the period can be written (%d left out, %d lines); nothing is written: record what each lacks, then bill again.", len(refused), len(lines))
	}
	var buf bytes.Buffer
	if err := x12.Write(&buf, ic); err != nil {
		return Sending{}, refused, err
	}
	if submit {
		size, err := db.Size()
		if err != nil {
			return Sending{}, refused, err
		}
		sum := sha256.Sum256(buf.Bytes())
		if err := db.RecordSubmissions(ctx, Submissions(ic, hex.EncodeToString(sum[:]), size)); err != nil {
			return Sending{}, refused, err
		}
	}
	_, err = w.Write(buf.Bytes())
	return sendingOf(ic), refused, err
}
