package clinic

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
)

var updateCharts = flag.Bool("update", false, "rewrite testdata/chart-demo.golden.json from the derived charts")

// The charts of a demo clinic's patients, two years of refills and dose
// changes each, with clinical records around them (coverage by either
// payer or none, authorizations drawn down, used up, pending or not yet
// in force, a trial without its result, a consent without its form,
// assessments at some visits): every field of a chart derived from a long
// history, kept so that making chart faster cannot change what it says.
func TestChartGolden(t *testing.T) {
	var clock time.Time
	cat := demoCatalog(t)
	db, err := Create(as("clerk"), filepath.Join(t.TempDir(), "d.db"), ledger.Options{NoSync: true, Now: func() time.Time { return clock }}, cat)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := demoInto(db, cat, &clock, demo.Options{Patients: 8, Months: 24, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	clock = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	form := &pumpledger.Attachment{Name: "form.pdf", Content: []byte("%PDF-1.4\n% a synthetic form\n%%EOF\n")}
	var out []Chart
	for i := range 8 {
		mrn := fmt.Sprintf("MRN-%d", 1001+i)
		items, err := db.History(bg, mrn)
		if err != nil {
			t.Fatal(err)
		}
		var records []any
		payer := "commercial"
		if i%4 == 3 {
			payer = "medicare-part-b"
		}
		if i != 6 {
			records = append(records, pumpledger.Coverage{MRN: mrn, Payer: payer, MemberID: fmt.Sprintf("M%04d", i), Priority: "primary", From: "2024-01-01"})
		}
		if i != 5 {
			records = append(records, pumpledger.Diagnosis{MRN: mrn, Code: "G89.4", Description: "Chronic pain syndrome", Onset: "2023-05-01", Clinician: "md"})
		}
		if i%2 == 0 {
			records = append(records, pumpledger.Therapy{MRN: mrn, Therapy: "oral opioids", From: "2022-01-01", To: "2024-06-30", Outcome: "failed"})
		}
		relief, ok := 70, true
		trial := pumpledger.Trial{MRN: mrn, Date: "2024-09-10", Drug: "ziconotide", Route: "intrathecal bolus", Dose: "5 mcg", Clinician: "md", ReliefPercent: &relief, Successful: &ok}
		if i == 2 {
			trial.ReliefPercent, trial.Successful = nil, nil
		}
		records = append(records, trial)
		consent := pumpledger.Consent{MRN: mrn, Date: "2024-10-01", Therapy: "intrathecal ziconotide", SignedBy: "patient", Witness: "rn", Document: form}
		if i%3 == 1 {
			consent.Document = nil
		}
		records = append(records, consent)
		if payer == "commercial" {
			amount2026 := int64(4000)
			if i == 0 {
				amount2026 = 100 // used up
			}
			status2026 := "approved"
			if i == 4 {
				status2026 = "pending"
			}
			records = append(records,
				pumpledger.Authorization{MRN: mrn, Payer: payer, Number: fmt.Sprintf("PA-2025-%d", i), Codes: []string{"J2278"}, Drug: "ziconotide", Amount: decimal.NewFromInt(3000), Unit: "mcg", From: "2025-01-01", To: "2025-12-31", Status: "approved"},
				pumpledger.Authorization{MRN: mrn, Payer: payer, Number: fmt.Sprintf("PA-2026-%d", i), Codes: []string{"J2278"}, Drug: "ziconotide", Amount: decimal.NewFromInt(amount2026), Unit: "mcg", From: "2026-01-01", To: "2026-12-31", Status: status2026},
				pumpledger.Authorization{MRN: mrn, Payer: payer, Number: fmt.Sprintf("PA-2027-%d", i), Codes: []string{"J2278"}, Drug: "ziconotide", Amount: decimal.NewFromInt(50), Unit: "units", From: "2027-01-01", To: "2027-12-31", Status: "approved"})
		}
		visits := 0
		for _, it := range items {
			if it.Entry.Kind != pumpledger.KindRefill || it.VoidedBy != "" {
				continue
			}
			if visits++; i%2 == 0 && visits%2 == 0 {
				at := it.Entry.Performed()
				at.UTC = at.UTC.Add(15 * time.Minute)
				records = append(records, pumpledger.Assessment{MRN: mrn, At: at, Clinician: "md", PainScore: visits % 11, Cognition: "normal", Psychiatric: "none"})
			}
		}
		for k, r := range records {
			r = withID(r, fmt.Sprintf("chart-%d-%d", i, k)) // ids of their own, the same each run
			if _, err := db.RecordClinical(as("clerk"), r); err != nil {
				t.Fatalf("%s: %T: %v", mrn, r, err)
			}
		}
		if i == 3 { // a dose changed since the last fill: it moves the refill's due date
			last := items[len(items)-1].Entry.Performed()
			for _, it := range items {
				if it.Entry.Kind == pumpledger.KindRefill && it.VoidedBy == "" {
					last = it.Entry.Performed()
				}
			}
			last.UTC = last.UTC.Add(5 * 24 * time.Hour)
			rp := pumpledger.Reprogram{ID: "chart-dose-change", MRN: mrn, PumpSerial: fmt.Sprintf("DEMO-SN%04d", 1001+i), PerformedAt: last, Clinician: "md",
				Dose: pumpledger.Dose{Drug: "ziconotide", MCGPerDay: decimal.RequireFromString("5.4")}, Procedure: "62368"}
			if _, err := db.RecordReprogram(as("md"), rp); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock = time.Date(2026, 10, 20, 15, 0, 0, 0, time.UTC) // before some pumps' refills fall due, after others'
	for i := range 8 {
		c, err := db.Chart(bg, fmt.Sprintf("MRN-%d", 1001+i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "chart-demo.golden.json")
	if *updateCharts {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./clinic -run TestChartGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the charts differ from %s; if the change is meant, run with -update and review the diff", path)
	}
}
