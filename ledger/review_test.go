package ledger_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

// The views trust the derived indexes; verify must recompute them, or an
// edit outside pumpledger could change a bill while verify says ok.
func TestVerifyCatchesAlteredIndexes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bucket string
	}{
		{"voided marks removed: the voided refill would be billed again", "voided"},
		{"date index emptied: the bill would be empty", "by_date"},
		{"patient index emptied", "by_patient"},
		{"pump index emptied", "by_pump"},
		{"ids emptied", "ids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, c, path := openTest(t)
			_, second := seed(t, db)
			c.t = c.t.Add(time.Hour)
			must(db.Correct(as("supervisor"), second.Entry.ID, "entered twice", clinic.Replacement{}))
			db.Close()
			boltUpdate(t, path, func(tx *bolt.Tx) error {
				if err := tx.DeleteBucket([]byte(tc.bucket)); err != nil {
					return err
				}
				_, err := tx.CreateBucket([]byte(tc.bucket))
				return err
			})
			db = must(clinic.Open(path, ledger.Options{}))
			defer db.Close()
			_, err := db.Verify()
			if !errors.Is(err, ledger.ErrTampered) || !strings.Contains(err.Error(), tc.bucket) {
				t.Errorf("verify after emptying %s: %v; want ErrTampered naming it", tc.bucket, err)
			}
		})
	}
	// And an extra key no entry files.
	db, _, path := openTest(t)
	seed(t, db)
	db.Close()
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("by_date")).Put(append([]byte("2026-04-01\x00"), u64(2)...), nil)
	})
	db = must(clinic.Open(path, ledger.Options{}))
	defer db.Close()
	if _, err := db.Verify(); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("verify with an extra by_date key: %v; want ErrTampered", err)
	}
}

// A dose change replayed without an id must not be recorded (and billed) twice.
func TestSameInstantDoseChangeRefused(t *testing.T) {
	db, _, _ := openTest(t)
	seed(t, db)
	_, err := db.RecordReprogram(as("tester"), must(pumpledger.ParseReprogram(strings.NewReader(reprogram))))
	if pumpledger.ErrorCode(err) != pumpledger.ECONFLICT {
		t.Errorf("second dose change of S1 at the same instant: %v; want a conflict", err)
	}
}

// A correction that would leave later entries underivable is refused, and
// writes nothing; the bill keeps working.
func TestCorrectionThatBreaksTheChainRefused(t *testing.T) {
	db, c, _ := openTest(t)
	seed(t, db)
	items := must(db.History(bg, "MRN-1"))
	var implant ledger.Entry
	for _, it := range items {
		if it.Entry.Kind == ledger.KindImplant {
			implant = it.Entry
		}
	}
	n := must(db.Size())
	c.t = c.t.Add(time.Hour)
	_, err := db.Correct(as("supervisor"), implant.ID, "wrong serial", clinic.Replacement{})
	if pumpledger.ErrorCode(err) != pumpledger.EINVALID || !strings.Contains(err.Error(), "S1") {
		t.Fatalf("voiding the implant under two refills: %v; want a refusal naming the pump", err)
	}
	if got := must(db.Size()); got != n {
		t.Errorf("refused correction wrote: %d → %d entries", n, got)
	}
	if lines := must(db.Bill(bg, "2026-03-01", "2026-03-31")); len(lines) == 0 {
		t.Error("bill empty after a refused correction")
	}
}

// A replacement is recorded by whoever records the correction.
func TestReplacementRecordedByCorrector(t *testing.T) {
	db, _, _ := openTest(t)
	p := must(db.AddPatient(as("alice"), pumpledger.Patient{MRN: "MRN-7", Name: "Misspelt Nmae"}))
	res := must(db.Correct(as("bob"), p.Entry.ID, "name misspelt", clinic.Replacement{Patient: &pumpledger.Patient{MRN: "MRN-7", Name: "Misspelt Name"}}))
	if res.Replacement == nil || res.Replacement.RecordedBy != "bob" || res.Entry.RecordedBy != "bob" {
		t.Errorf("replacement recorded by %q, correction by %q; want bob for both", res.Replacement.RecordedBy, res.Entry.RecordedBy)
	}
}

// A pump whose therapy began elsewhere is not naive at its first recorded
// fill: no rinse expected, and 40 days (diluted), not 14.
func TestImplantHeldDrugsNotNaive(t *testing.T) {
	for _, tc := range []struct {
		held []string
		due  string
	}{{nil, "2026-03-15"}, {[]string{"J2277"}, "2026-04-10"}} {
		db, _, _ := openTest(t)
		must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
		must(db.Implant(as("drx"), pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20", Held: tc.held}))
		r := must(db.RecordRefill(as("tester"), parseRefill(t, firstFill)))
		if got := *r.Record.NextRefillDue; got != tc.due {
			t.Errorf("held %v: first recorded fill due %s, want %s", tc.held, got, tc.due)
		}
		if naive := r.Record.Drugs[0].Naive; naive != (tc.held == nil) {
			t.Errorf("held %v: naive = %v", tc.held, naive)
		}
	}
	db, _, _ := openTest(t)
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	if _, err := db.Implant(as("drx"), pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20", Held: []string{"aspirin"}}); pumpledger.ErrorCode(err) != pumpledger.EINVALID {
		t.Errorf("held aspirin: %v, want refused", err)
	}
}

// A registration with visits under it cannot be voided bare (they would
// still be billed); a replacement registration can.
func TestPatientVoidUnderVisitsRefused(t *testing.T) {
	db, c, _ := openTest(t)
	seed(t, db)
	var reg ledger.Entry
	for _, it := range must(db.History(bg, "MRN-1")) {
		if it.Entry.Kind == ledger.KindPatient {
			reg = it.Entry
		}
	}
	c.t = c.t.Add(time.Hour)
	if _, err := db.Correct(as("supervisor"), reg.ID, "duplicate", clinic.Replacement{}); pumpledger.ErrorCode(err) != pumpledger.EINVALID {
		t.Errorf("voiding a registration with a pump and refills: %v; want refused", err)
	}
	if _, err := db.Correct(as("supervisor"), reg.ID, "name misspelt", clinic.Replacement{Patient: &pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient-Smith"}}); err != nil {
		t.Errorf("replacing the registration: %v", err)
	}
}

// A dose change when the reservoir should already be at its threshold: due now, loudly.
func TestReprogramOnEmptyReservoirRefillNow(t *testing.T) {
	db, c, _ := openTest(t)
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	must(db.Implant(as("drx"), pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}))
	must(db.RecordRefill(as("tester"), parseRefill(t, firstFill))) // 20 mL at 0.24 mL/day: 2 mL left after 75 days
	c.t = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	late := strings.Replace(reprogram, "2026-03-11T09:00:00Z", "2026-05-25T09:00:00Z", 1)
	res := must(db.RecordReprogram(as("tester"), must(pumpledger.ParseReprogram(strings.NewReader(late)))))
	if res.NextRefillDue != "2026-05-25" || !slicesContain(res.Warnings, "REFILL NOW") {
		t.Errorf("due %q, warnings %q; want due 2026-05-25 with REFILL NOW", res.NextRefillDue, res.Warnings)
	}
}

func slicesContain(ws []string, sub string) bool {
	for _, w := range ws {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

// A refill recorded late, between entries it makes underivable, is refused;
// the bill keeps working.
func TestLateRefillThatBreaksTheChainRefused(t *testing.T) {
	f, err := os.Open("../testdata/catalog-test.json")
	if err != nil {
		t.Fatal(err)
	}
	cat := must(catalog.Load(f, "catalog-test.json"))
	f.Close()
	c := &clock{t: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	db := must(clinic.Create(as("clerk"), filepath.Join(t.TempDir(), "l.db"), ledger.Options{Now: c.now}, cat))
	defer db.Close()
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	must(db.Implant(as("drx"), pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-01-20"}))
	refillJSON := func(at, solution, vials, diluent, dose string) pumpledger.Refill {
		return parseRefill(t, `{"mrn":"MRN-1","pump_serial":"S1","performed_at":"`+at+`","nurse":"jdoe","residual_ml":"0","fill_ml":"20",
			"solution":`+solution+`,"vials":`+vials+`,"diluent_ml":"`+diluent+`","dose":`+dose+`,"procedure":"95990"}`)
	}
	must(db.RecordRefill(as("tester"), refillJSON("2026-02-01T09:00:00Z", `[{"drug":"ziconotide","mcg_per_ml":"2.5"},{"drug":"morphine","mcg_per_ml":"5000"}]`,
		`[{"ndc":"70720-720-10","count":1,"lot":"A"},{"ndc":"99999-101-01","count":1,"lot":"B"}]`, "15.5", `{"drug":"ziconotide","mcg_per_day":"1.2"}`)))
	must(db.RecordReprogram(as("tester"), must(pumpledger.ParseReprogram(strings.NewReader(
		`{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-02-05T09:00:00Z","clinician":"drx","dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"62368"}`)))))
	n := must(db.Size())
	// Morphine only, back-dated before the ziconotide dose change.
	_, err = db.RecordRefill(as("tester"), refillJSON("2026-02-03T09:00:00Z", `[{"drug":"morphine","mcg_per_ml":"5000"}]`,
		`[{"ndc":"99999-101-01","count":1,"lot":"C"}]`, "16", `{"drug":"morphine","mcg_per_day":"1000"}`))
	if pumpledger.ErrorCode(err) != pumpledger.EINVALID || !strings.Contains(err.Error(), "late refill") {
		t.Fatalf("late refill under a ziconotide dose change: %v; want refused", err)
	}
	if got := must(db.Size()); got != n {
		t.Errorf("refused late refill wrote: %d → %d", n, got)
	}
	if _, err := db.Bill(bg, "2026-02-01", "2026-02-28"); err != nil {
		t.Errorf("bill after a refused late refill: %v", err)
	}
}

// Verify while writers append: what was appended since it began is neither
// checked nor taken for tampering.
func TestVerifyDuringAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	db := must(clinic.Create(as("clerk"), path, ledger.Options{NoSync: true}, nil))
	defer db.Close()
	for i := range 300 { // long enough a verify for appends to land inside it
		must(db.AddPatient(as("w"), pumpledger.Patient{MRN: "P-" + itoa(i), Name: "First"}))
	}
	done := make(chan struct{})
	errs := make(chan error, 2)
	for w := range 2 {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				if _, err := db.AddPatient(as("w"), pumpledger.Patient{MRN: "P-" + string(rune('a'+w)) + "-" + itoa(i), Name: "N"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 20 {
		if _, err := db.Verify(); err != nil {
			t.Errorf("verify during appends: %v", err)
			break
		}
	}
	close(done)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Verify(); err != nil {
		t.Errorf("verify after the appends: %v", err)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
