package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/shopspring/decimal"
)

// The clinical record around each demo patient's refills (Options.Records):
// diagnoses, coverage, the therapies tried before the pump, the trial,
// consent, a prior authorization for commercial patients and an assessment
// at most refill visits. Most patients' records are complete; some have
// the gaps a biller meets, so that `chart` and the pre-billing check show
// something real:
//
//	patient index i % 6 == 1   an authorization that expired (ran to 90 days after the implant)
//	i % 6 == 2                 no consent on file
//	i % 6 == 3                 an authorization too small, overdrawn by the later refills
//	i % 6 == 4                 a trial without its result
//	i % 6 == 5                 assessments skipped at some refill visits
//
// and, so that the pre-billing check finds each rule it can on some
// patient (billingGaps), while patient 0 (MRN-1001) stays clean:
//
//	i % 6 == 1   a refill without a witness to the discarded drug (jw-undocumented)
//	i % 6 == 2   a dose check the same day as a refill, coded apart (cpt-conflict)
//	i % 6 == 3   a refill that changed the dose, coded 95990 (cpt-mismatch)
//	i % 6 == 4   no diagnosis; Medicare ends after the second month, a month
//	             without coverage, then a commercial plan without an
//	             authorization (no-coverage, missing-diagnosis, auth-missing);
//	             one fill diluted with bacteriostatic saline (off-label)
//	every patient   a refill whose residual was flagged far above the
//	             expected one (under-delivery) is reviewed; one far below
//	             (a pocket fill) is not (discrepancy-unreviewed)
//
// Odd patients are covered by the commercial profile (which needs prior
// authorization for J2278), even ones by Medicare Part B; patient 0 has a
// commercial supplemental plan as well, secondary.
//
// Each patient's documentation is drawn from its own random stream: the
// refills of the history do not depend on whether it is recorded.

// streamRecords seeds each patient's documentation stream.
const streamRecords = 1 << 42

var demoDiagnoses = []struct{ code, description string }{
	{"G89.4", "Chronic pain syndrome"},
	{"M96.1", "Postlaminectomy syndrome, not elsewhere classified"},
	{"G89.29", "Other chronic pain"},
	{"M54.16", "Radiculopathy, lumbar region"},
	{"G90.522", "Complex regional pain syndrome I of left lower limb"},
	{"G89.3", "Neoplasm related pain (acute) (chronic)"},
}

var demoCities = []struct{ line1, city, state, zip string }{
	{"12 Elm St", "Columbus", "OH", "43215"},
	{"480 Maple Ave", "Dayton", "OH", "45402"},
	{"7 Harbor Rd", "Toledo", "OH", "43604"},
	{"2210 Ridge Dr", "Akron", "OH", "44308"},
}

// records adds patient i's clinical record, recorded at first (the implant
// visit) unless dated later, and an assessment at the given refill visits.
func (g *gen) records(i int, p *pumpledger.Patient, implantDay time.Time, first time.Time, visits []time.Time) {
	rng := rand.New(rand.NewPCG(g.opt.Seed, streamRecords+uint64(i)))
	mrn := p.MRN
	date := func(t time.Time) string { return t.Format(time.DateOnly) }
	clinician := "demo-md1"

	// Demographics a claim needs.
	p.BirthDate = date(time.Date(1945+rng.IntN(40), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC))
	p.Sex = []string{"F", "M"}[rng.IntN(2)]
	c := demoCities[rng.IntN(len(demoCities))]
	p.Address = &pumpledger.Address{Line1: c.line1, City: c.city, State: c.state, PostalCode: c.zip}

	// Recorded at the implant visit, after the implant (the same order,
	// appended later: the sort is stable) and before the first fill (order
	// 2), so the fill draws on the authorization.
	add := func(at time.Time, v any) {
		g.items = append(g.items, item{at: at, patient: i, order: 1, ev: Event{Kind: recordKind(v), Record: v}})
	}
	dx := demoDiagnoses[i%len(demoDiagnoses)]
	onset := date(implantDay.AddDate(-3-rng.IntN(5), -rng.IntN(12), 0))
	if i%6 != 4 {
		add(first, &pumpledger.Diagnosis{MRN: mrn, Code: dx.code, Description: dx.description, Onset: onset, Clinician: clinician})
	}

	commercial := i%2 == 1
	payer, plan := "medicare-part-b", "Original Medicare"
	if commercial {
		payer, plan = "commercial", "PPO"
	}
	cov := &pumpledger.Coverage{MRN: mrn, Payer: payer, MemberID: fmt.Sprintf("DEMO%07d", 1000000+rng.IntN(9000000)), Plan: plan,
		Priority: "primary", From: fmt.Sprintf("%d-01-01", implantDay.Year()-1)}
	add(first, cov)
	if i == 0 {
		// A supplemental plan secondary to Medicare, so that the 837P
		// shows the other payer's loops (2320/2330A/2330B). Its member id
		// is not drawn from the stream: the rest of the record stays as
		// it was.
		add(first, &pumpledger.Coverage{MRN: mrn, Payer: "commercial", MemberID: "DEMOSUPP0001", Plan: "Medigap Plan G",
			Priority: "secondary", From: cov.From})
	}
	if i%6 == 4 {
		// Medicare to the end of the implant's second month, a month
		// without, then a commercial plan (and no authorization asked).
		end := time.Date(implantDay.Year(), implantDay.Month()+2, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		cov.To = date(end)
		add(first, &pumpledger.Coverage{MRN: mrn, Payer: "commercial", MemberID: fmt.Sprintf("DEMO%07d", 1000000+rng.IntN(9000000)), Plan: "HMO",
			Priority: "primary", From: date(end.AddDate(0, 1, 1))})
	}

	opioidsFrom := implantDay.AddDate(-2, -rng.IntN(6), 0)
	add(first, &pumpledger.Therapy{MRN: mrn, Therapy: "oral opioids", From: date(opioidsFrom), To: date(opioidsFrom.AddDate(1, 0, 0)), Outcome: "failed",
		Details: "Morphine ER and oxycodone titrated; pain relief under 30 % with sedation."})
	add(first, &pumpledger.Therapy{MRN: mrn, Therapy: "gabapentin", From: date(opioidsFrom.AddDate(0, 3, 0)), To: date(opioidsFrom.AddDate(0, 7, 0)), Outcome: "intolerant",
		Details: "Dizziness and somnolence at 1800 mg/day."})

	trialDay := implantDay.AddDate(0, 0, -21-rng.IntN(14))
	trial := &pumpledger.Trial{MRN: mrn, Date: date(trialDay), Drug: "ziconotide", Route: "intrathecal bolus", Dose: "5 mcg", Clinician: clinician}
	if i%6 != 4 {
		relief, yes := 55+rng.IntN(30), true
		trial.ReliefPercent, trial.Successful = &relief, &yes
		trial.Function = "Walks 20 minutes; sleeps through the night."
	}
	add(first, trial)

	if i%6 != 2 {
		add(first, &pumpledger.Consent{MRN: mrn, Date: date(trialDay.AddDate(0, 0, -3)), Therapy: "intrathecal ziconotide by implanted pump",
			SignedBy: "patient", Witness: "rn-alvarez",
			Document: &pumpledger.Attachment{Name: fmt.Sprintf("consent-%s.pdf", mrn), Content: consentPDF(mrn, date(trialDay.AddDate(0, 0, -3)))}})
	}

	if commercial {
		from := implantDay.AddDate(0, 0, -7)
		to := from.AddDate(1, 0, -1)
		amount := decimal.NewFromInt(6000)
		switch i % 6 {
		case 1:
			to = implantDay.AddDate(0, 0, 90)
		case 3:
			amount = decimal.NewFromInt(1500)
		}
		add(first, &pumpledger.Authorization{MRN: mrn, Payer: payer, Number: fmt.Sprintf("PA-%06d", 100000+rng.IntN(900000)), Codes: []string{"J2278"},
			Drug: "ziconotide", Amount: amount, Unit: "mcg", From: date(from), To: date(to), ReassessBy: date(to.AddDate(0, -1, 0)), Status: "approved"})
	}

	for k, at := range visits {
		if i%6 == 5 && k%3 == 2 {
			continue // skipped: the chart shows the assessment due
		}
		a := &pumpledger.Assessment{MRN: mrn, At: pumpledger.NewInstant(at.Add(20 * time.Minute)), Clinician: clinician,
			PainScore: 3 + rng.IntN(4), Cognition: "normal", Psychiatric: "none"}
		if rng.IntN(8) == 0 {
			a.CKUL = decimal.NewNullDecimal(decimal.NewFromInt(int64(90 + rng.IntN(150))))
		}
		g.items = append(g.items, item{at: a.At.UTC, patient: i, order: 5, ev: Event{Kind: pumpledger.KindAssessment, Record: a}})
	}
}

// billingGaps puts in the demo the gaps a pre-billing check finds (see
// above); each on its patient's events, after the mistakes.
func (g *gen) billingGaps() {
	var fills = map[int][]*pumpledger.Refill{}
	for _, it := range g.items {
		if r := it.ev.Refill; r != nil {
			fills[it.patient] = append(fills[it.patient], r)
		}
	}
	for i, rs := range fills {
		switch {
		case i%6 == 1 && len(rs) > 0:
			// The first fill: its rinse is always discarded (a JW line).
			rs[0].Witness = ""
			rs[0].Note = joinNote(rs[0].Note, "DEMO: the rinse was discarded unwitnessed.")
		case i%6 == 2 && len(rs) > 2:
			r := rs[2]
			at := r.PerformedAt.UTC.Add(2 * time.Hour)
			g.items = append(g.items, item{at: at, patient: i, order: 2, ev: Event{Kind: pumpledger.KindReprogram, Reprogram: &pumpledger.Reprogram{
				MRN: r.MRN, PumpSerial: r.PumpSerial, PerformedAt: pumpledger.Instant{UTC: at, Offset: r.PerformedAt.Offset}, Clinician: "demo-md1",
				Dose: r.Dose, Procedure: procReprogram, Note: "DEMO: the pump checked again after the refill and billed apart."}}})
		case i%6 == 3:
			for _, r := range rs {
				if r.Procedure == procRefillReprogram {
					r.Procedure = procRefill
					r.Note = joinNote(r.Note, "DEMO: coded as a refill only, though the dose changed.")
					break
				}
			}
		case i%6 == 4 && len(rs) > 3:
			rs[3].Diluent = "bacteriostatic 0.9% sodium chloride"
		}
	}
	// Reviews: each under-delivery reviewed an hour after its refill.
	for _, f := range g.fills {
		if f.r != nil && strings.HasPrefix(f.r.Note, NoteUnderDelivery) {
			at := f.r.PerformedAt.UTC.Add(time.Hour)
			g.items = append(g.items, item{at: at, patient: f.patient, order: 5, ev: Event{Kind: pumpledger.KindReview, Record: &pumpledger.Review{
				MRN: f.r.MRN, Refill: "", At: pumpledger.Instant{UTC: at, Offset: f.r.PerformedAt.Offset}, Clinician: "demo-md1",
				Finding: "Pump interrogated: no alarm, catheter patent; the reservoir reading is right. Dose kept; residual recorded as aspirated."}, reviews: f.r}})
		}
	}
}

// recordKind is the kind of a clinical record payload.
func recordKind(v any) pumpledger.Kind { return v.(pumpledger.Record).RecordKind() }

// setRecordID gives a clinical record its id.
func setRecordID(v any, id string) { v.(interface{ SetID(string) }).SetID(id) }

// consentPDF is a small, valid one-page PDF standing in for a scanned
// consent form: synthetic, marked DEMO, the same bytes for the same
// patient and date.
func consentPDF(mrn, date string) []byte {
	text := fmt.Sprintf("DEMO consent form, synthetic: patient %s consents to intrathecal ziconotide, %s.", mrn, date)
	stream := fmt.Sprintf("BT /F1 11 Tf 50 750 Td (%s) Tj ET", text)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	out := []byte("%PDF-1.4\n")
	var offsets []int
	for k, o := range objs {
		offsets = append(offsets, len(out))
		out = fmt.Appendf(out, "%d 0 obj\n%s\nendobj\n", k+1, o)
	}
	xref := len(out)
	out = fmt.Appendf(out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		out = fmt.Appendf(out, "%010d 00000 n \n", off)
	}
	return fmt.Appendf(out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
}
