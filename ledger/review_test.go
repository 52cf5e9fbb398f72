package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
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
			must(db.Correct(second.Entry.ID, "entered twice", "supervisor", ledger.Replacement{}))
			db.Close()
			boltUpdate(t, path, func(tx *bolt.Tx) error {
				if err := tx.DeleteBucket([]byte(tc.bucket)); err != nil {
					return err
				}
				_, err := tx.CreateBucket([]byte(tc.bucket))
				return err
			})
			db = must(ledger.Open(path, ledger.Options{}))
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
	db = must(ledger.Open(path, ledger.Options{}))
	defer db.Close()
	if _, err := db.Verify(); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("verify with an extra by_date key: %v; want ErrTampered", err)
	}
}

// A dose change replayed without an id must not be recorded (and billed) twice.
func TestSameInstantDoseChangeRefused(t *testing.T) {
	db, _, _ := openTest(t)
	seed(t, db)
	_, err := db.RecordReprogram(must(pumpledger.ParseReprogram(strings.NewReader(reprogram))))
	if pumpledger.ErrorCode(err) != pumpledger.ECONFLICT {
		t.Errorf("second dose change of S1 at the same instant: %v; want a conflict", err)
	}
}

// A correction that would leave later entries underivable is refused, and
// writes nothing; the bill keeps working.
func TestCorrectionThatBreaksTheChainRefused(t *testing.T) {
	db, c, _ := openTest(t)
	seed(t, db)
	items := must(db.History("MRN-1"))
	var implant ledger.Entry
	for _, it := range items {
		if it.Entry.Kind == ledger.KindImplant {
			implant = it.Entry
		}
	}
	n := must(db.Size())
	c.t = c.t.Add(time.Hour)
	_, err := db.Correct(implant.ID, "wrong serial", "supervisor", ledger.Replacement{})
	if pumpledger.ErrorCode(err) != pumpledger.EINVALID || !strings.Contains(err.Error(), "S1") {
		t.Fatalf("voiding the implant under two refills: %v; want a refusal naming the pump", err)
	}
	if got := must(db.Size()); got != n {
		t.Errorf("refused correction wrote: %d → %d entries", n, got)
	}
	if lines := must(db.Bill("2026-03-01", "2026-03-31")); len(lines) == 0 {
		t.Error("bill empty after a refused correction")
	}
}

// A replacement is recorded by whoever records the correction.
func TestReplacementRecordedByCorrector(t *testing.T) {
	db, _, _ := openTest(t)
	p := must(db.AddPatient(pumpledger.Patient{MRN: "MRN-7", Name: "Misspelt Nmae"}, "alice"))
	res := must(db.Correct(p.Entry.ID, "name misspelt", "bob", ledger.Replacement{Patient: &pumpledger.Patient{MRN: "MRN-7", Name: "Misspelt Name"}}))
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
		must(db.AddPatient(pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}, "clerk"))
		must(db.Implant(pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20", Held: tc.held}, "drx"))
		r := must(db.RecordRefill(parseRefill(t, firstFill)))
		if got := *r.Record.NextRefillDue; got != tc.due {
			t.Errorf("held %v: first recorded fill due %s, want %s", tc.held, got, tc.due)
		}
		if naive := r.Record.Drugs[0].Naive; naive != (tc.held == nil) {
			t.Errorf("held %v: naive = %v", tc.held, naive)
		}
	}
	db, _, _ := openTest(t)
	must(db.AddPatient(pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}, "clerk"))
	if _, err := db.Implant(pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20", Held: []string{"aspirin"}}, "drx"); pumpledger.ErrorCode(err) != pumpledger.EINVALID {
		t.Errorf("held aspirin: %v, want refused", err)
	}
}
