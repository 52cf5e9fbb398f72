package ledger_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
	bolt "go.etcd.io/bbolt"
)

// The chart patient of the scale ledgers: ten years of one patient's
// records, pump and paper, for `chart`. The pump's history is the demo
// generator's (seed chartSeed gives one with a refill about every month:
// 124 from January 2016 to December 2025, and 6 dose changes between
// them); around it, what a clinic files for such a patient: diagnoses
// (one added in the fifth year), coverage changed twice (a new employer's
// plan, its old one corrected with its end date; Medicare as secondary at
// 65), an authorization each year, the therapies that failed before the
// pump, the trial, two consents with their signed forms, and an
// assessment at every refill visit. Its entries are recorded spread over
// the first nine tenths of the ledger (the build records it while the
// other patients are imported), so reading them is as scattered as a real
// clinic's ten years would leave them.
const (
	chartSeed  = 4
	chartChunk = 999 // its MRN and serial: HS999-1001, no chunk of the other patients'
)

var chartMRN = scaleMRN(chartChunk, 1001)

// chartStep is one entry of the chart patient: at is its place in the
// patient's time; rec records it, setting the build's clock.
type chartStep struct {
	at  time.Time
	rec func(db *clinic.Service, clock *time.Time) (clinic.Result, error)
}

// chartSteps are the chart patient's entries, in the order recorded.
func chartSteps(cat *catalog.Catalog) ([]chartStep, error) {
	events := demo.Generate(cat, demo.Options{Patients: 1, Months: scaleMonths, Seed: chartSeed, Start: scaleStart})
	renameChunk(events, chartChunk)
	// Ids of its own: the demo's are of the seed and the event's place, and
	// chunk chartSeed-1 of the other patients has the same seed.
	ids := map[string]string{}
	id := func(old string) string {
		if ids[old] == "" {
			ids[old] = uuid.NewSHA1(uuid.NameSpaceOID, []byte("pumpledger scale chart patient/"+old)).String()
		}
		return ids[old]
	}
	for _, ev := range events {
		switch {
		case ev.Refill != nil:
			ev.Refill.ID = id(ev.Refill.ID)
		case ev.Reprogram != nil:
			ev.Reprogram.ID = id(ev.Reprogram.ID)
		case ev.Correction != nil:
			ev.Correction.Voids, ev.Correction.Refill.ID = id(ev.Correction.Voids), id(ev.Correction.Refill.ID)
		}
	}
	var steps []chartStep
	var visits []pumpledger.Instant // refill visits, for their assessments
	var ziconotide string
	for _, ev := range events {
		if ev.Refill != nil {
			visits = append(visits, ev.Refill.PerformedAt)
			ziconotide = ev.Refill.Dose.Drug
		}
	}
	if len(visits) < 100 {
		return nil, fmt.Errorf("the chart patient's demo history has %d refills, not ten years of them", len(visits))
	}
	// Registration and implant take the first fill's place (the implant
	// visit); every other event its own time.
	at := visits[0].UTC
	for _, ev := range events {
		switch {
		case ev.Refill != nil:
			at = ev.Refill.PerformedAt.UTC
		case ev.Reprogram != nil:
			at = ev.Reprogram.PerformedAt.UTC
		case ev.Correction != nil:
			at = ev.Correction.Refill.PerformedAt.UTC.Add(time.Hour)
		}
		steps = append(steps, chartStep{at: at, rec: func(db *clinic.Service, clock *time.Time) (clinic.Result, error) { return recordDemo(db, clock, ev) }})
	}
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t.Add(14 * time.Hour) }
	record := func(at time.Time, rec func(db *clinic.Service) (clinic.Result, error)) {
		steps = append(steps, chartStep{at: at, rec: func(db *clinic.Service, clock *time.Time) (clinic.Result, error) {
			*clock = at
			return rec(db)
		}})
	}
	clinical := func(at time.Time, payload any) {
		record(at, func(db *clinic.Service) (clinic.Result, error) { return db.RecordClinical(as("scale-clerk"), payload) })
	}
	form := func(name string) *pumpledger.Attachment {
		return &pumpledger.Attachment{Name: name, Content: fmt.Appendf(nil, "%%PDF-1.4\n%% %s, a synthetic scanned form\n%%%%EOF\n", name)}
	}
	mrn := chartMRN
	// Filed at the implant visit: what came with the referral.
	at = visits[0].UTC.Add(time.Hour)
	clinical(at, pumpledger.Diagnosis{MRN: mrn, Code: "M96.1", Description: "Postlaminectomy syndrome", Onset: "2012-09-14", Clinician: "demo-md1"})
	clinical(at, pumpledger.Diagnosis{MRN: mrn, Code: "G89.4", Description: "Chronic pain syndrome", Onset: "2013-04-02", Clinician: "demo-md1"})
	clinical(at, pumpledger.Therapy{MRN: mrn, Therapy: "oral opioids", From: "2012-10-01", To: "2015-06-30", Outcome: "failed", Details: "morphine ER to 120 mg/day, then oxycodone; pain 8/10"})
	clinical(at, pumpledger.Therapy{MRN: mrn, Therapy: "physical therapy", From: "2013-01-07", To: "2013-06-28", Outcome: "failed", Details: "24 sessions, no lasting relief"})
	clinical(at, pumpledger.Therapy{MRN: mrn, Therapy: "epidural steroid injections", From: "2014-02-11", To: "2014-11-20", Outcome: "failed", Details: "three injections, two weeks' relief each"})
	clinical(at, pumpledger.Therapy{MRN: mrn, Therapy: "intrathecal morphine", From: "2015-03-02", To: "2015-08-14", Outcome: "intolerant", Details: "bolus trial: pruritus and urinary retention"})
	relief, ok := 70, true
	clinical(at, pumpledger.Trial{MRN: mrn, Date: "2015-11-10", Drug: ziconotide, Route: "intrathecal bolus", Dose: "5 mcg", Clinician: "demo-md1",
		ReliefPercent: &relief, Function: "walked 30 minutes without stopping", Successful: &ok, Document: form("trial-2015-11-10.pdf")})
	clinical(at, pumpledger.Consent{MRN: mrn, Date: "2015-12-15", Therapy: "intrathecal ziconotide by implanted pump", SignedBy: "patient", Witness: "demo-rn1", Document: form("consent-2015-12-15.pdf")})
	plan1 := pumpledger.Coverage{MRN: mrn, Payer: "commercial", MemberID: "XKA118840201", Plan: "PPO 500", Group: "G-20411", Priority: "primary", From: "2015-01-01"}
	var plan1ID string
	record(at, func(db *clinic.Service) (clinic.Result, error) {
		res, err := db.RecordClinical(as("scale-clerk"), plan1)
		plan1ID = res.Entry.ID
		return res, err
	})
	// A new employer's plan from 2020: the old one's end corrected in.
	ended := plan1
	ended.To = "2019-12-31"
	record(day("2020-01-08"), func(db *clinic.Service) (clinic.Result, error) {
		return db.Correct(as("scale-clerk"), plan1ID, "the plan ended with the patient's old employer", clinic.Replacement{Clinical: ended})
	})
	clinical(day("2020-01-08"), pumpledger.Coverage{MRN: mrn, Payer: "commercial", MemberID: "WQ7730051", Plan: "HMO Select", Priority: "primary", From: "2020-01-01"})
	clinical(day("2023-06-05"), pumpledger.Coverage{MRN: mrn, Payer: "medicare-part-b", MemberID: "1EG4TE5MK72", Plan: "Part B", Priority: "secondary", From: "2023-06-01", Note: "turned 65; the employer plan stays primary"})
	clinical(day("2020-09-21"), pumpledger.Diagnosis{MRN: mrn, Code: "M54.16", Description: "Radiculopathy, lumbar region", Onset: "2020-09-21", Clinician: "demo-md1"})
	clinical(day("2021-03-15"), pumpledger.Consent{MRN: mrn, Date: "2021-03-15", Therapy: "continued intrathecal ziconotide after pump replacement counseling", SignedBy: "patient", Witness: "demo-rn2", Document: form("consent-2021-03-15.pdf")})
	// An authorization a year, each letter filed in the December before.
	for y := 2016; y <= 2025; y++ {
		filed := day(fmt.Sprintf("%d-12-15", y-1))
		if y == 2016 {
			filed = at
		}
		clinical(filed, pumpledger.Authorization{MRN: mrn, Payer: "commercial", Number: fmt.Sprintf("PA-%d-%05d", y, 31000+y), Codes: []string{"J2278"}, Drug: ziconotide,
			Amount: decimal.NewFromInt(9000), Unit: "mcg", From: fmt.Sprintf("%d-01-01", y), To: fmt.Sprintf("%d-12-31", y), Status: "approved", Document: form(fmt.Sprintf("pa-%d.pdf", y))})
	}
	// An assessment at every refill visit, a quarter hour after it.
	for k, v := range visits {
		a := pumpledger.Assessment{MRN: mrn, At: pumpledger.Instant{UTC: v.UTC.Add(15 * time.Minute), Offset: v.Offset}, Clinician: "demo-md1",
			PainScore: 3 + k%4, Cognition: "normal", Psychiatric: "none"}
		if k%12 == 0 {
			a.CKUL = decimal.NewNullDecimal(decimal.NewFromInt(int64(90 + k)))
		}
		clinical(a.At.UTC.Add(10*time.Minute), a)
	}
	slices.SortStableFunc(steps, func(a, b chartStep) int { return a.at.Compare(b.at) })
	return steps, nil
}

// benchScaleChart: one patient's chart (ten years of records: the chart
// patient) from the n-entry ledger, beside a raw read of the same entries:
// one bbolt View that walks the patient's index keys and reads each
// entry's stored bytes, decoding nothing (baseline), and the same decoding
// each entry's JSON envelope, its payload left raw (envelopes). ns/op is a
// chart of an open ledger (its entries decoded once, kept: a server's
// chart); first-ns/op the first chart of a freshly opened one (a command's).
func benchScaleChart(b *testing.B, n int) {
	l := scaleFixture(b, n)
	db := openScale(b, l.path, ledger.Options{ReadOnly: true})
	defer db.Close()
	raw, err := bolt.Open(l.path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	entries, size := 0, 0
	read := func(decode bool) func() error {
		return func() error {
			return raw.View(func(tx *bolt.Tx) error {
				entries, size = 0, 0
				prefix := append([]byte(chartMRN), 0)
				stored := tx.Bucket(bucketEntries)
				c := tx.Bucket([]byte("by_patient")).Cursor()
				for k, _ := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
					v := stored.Get(k[len(prefix):])
					if v == nil {
						return fmt.Errorf("entry %x is indexed but missing", k[len(prefix):])
					}
					entries, size = entries+1, size+len(v)
					if decode {
						var e struct {
							Seq         int64              `json:"seq"`
							ID          string             `json:"id"`
							Kind        string             `json:"kind"`
							RecordedAt  time.Time          `json:"recorded_at"`
							RecordedBy  string             `json:"recorded_by"`
							PerformedAt pumpledger.Instant `json:"performed_at"`
							Payload     json.RawMessage    `json:"payload"`
						}
						if err := json.Unmarshal(v, &e); err != nil {
							return err
						}
					}
				}
				return nil
			})
		}
	}
	var c clinic.Chart
	chart := func() {
		if c, err = db.Chart(bg, chartMRN); err != nil {
			b.Fatal(err)
		}
	}
	chart() // warm: pages cached, catalogs loaded, as for the baselines
	if len(c.Assessment.Last.Record.MRN) == 0 || len(c.Authorizations) < 10 || len(c.Pumps) != 1 {
		b.Fatalf("the chart patient's chart lacks its records: %d authorizations, %d pumps", len(c.Authorizations), len(c.Pumps))
	}
	baseline, err := timeIt(200, read(false))
	if err != nil {
		b.Fatal(err)
	}
	envelopes, err := timeIt(50, read(true))
	if err != nil {
		b.Fatal(err)
	}
	// The first chart of a freshly opened ledger (a `pumpledger chart`
	// command's): nothing decoded yet, the file's pages cached as above.
	var first time.Duration
	for range 5 {
		fresh := openScale(b, l.path, ledger.Options{ReadOnly: true})
		start := time.Now()
		if _, err := fresh.Chart(bg, chartMRN); err != nil {
			b.Fatal(err)
		}
		first += time.Since(start)
		fresh.Close()
	}
	b.ResetTimer()
	for b.Loop() {
		chart()
	}
	b.StopTimer()
	reportRatio(b, baseline)
	b.ReportMetric(float64(envelopes.Nanoseconds()), "envelopes-ns/op")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(envelopes), "x-envelopes")
	b.ReportMetric(float64(first.Nanoseconds()/5), "first-ns/op")
	reportMB(b, peakHeap(chart)) // apart from time: the sampler's work is not the chart's
	b.ReportMetric(float64(entries), "entries")
	b.ReportMetric(float64(size)/(1<<10), "entries-KB")
}
