package ledger_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
)

// clock is a settable ledger clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openTest(t testing.TB) (*clinic.Service, *clock, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	c := &clock{t: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)}
	db, err := clinic.Create(as("clerk"), path, ledger.Options{Now: c.now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, c, path
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// must panics on err: in a test, a failure with the stack that led to it.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func parseRefill(t testing.TB, s string) pumpledger.Refill {
	t.Helper()
	return must(pumpledger.ParseRefill(strings.NewReader(s)))
}

// The SPEC §6 worked example: fill 1 March, reprogram 11 March, refill 31 March.
const (
	firstFill = `{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-01T09:00:00Z","nurse":"jdoe",
	 "residual_ml":"0","rinse_ml":"6","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"5"}],
	 "vials":[{"ndc":"70720-723-10","count":1,"lot":"L1"}],
	 "diluent_ml":"16","dose":{"drug":"ziconotide","mcg_per_day":"1.2"},"procedure":"95990"}`
	reprogram = `{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-11T09:00:00Z","clinician":"drx",
	 "dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"62368"}`
	secondFill = `{"id":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-31T09:00:00Z","nurse":"jdoe",
	 "residual_ml":"5.5","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"7.5"}],
	 "vials":[{"ndc":"70720-720-10","count":2,"lot":"L3"}],
	 "diluent_ml":"18.5","dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"95990"}`
)

func seed(t testing.TB, db *clinic.Service) (first, second clinic.Result) {
	t.Helper()
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	must(db.Implant(as("drx"), pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}))
	first = must(db.RecordRefill(as("tester"), parseRefill(t, firstFill)))
	must(db.RecordReprogram(as("tester"), must(pumpledger.ParseReprogram(strings.NewReader(reprogram)))))
	second = must(db.RecordRefill(as("tester"), parseRefill(t, secondFill)))
	return first, second
}

func TestWorkedExampleThroughLedger(t *testing.T) {
	db, _, _ := openTest(t)
	_, second := seed(t, db)
	iv := second.Record.Interval
	if iv == nil {
		t.Fatal("second refill has no interval")
	}
	for name, got := range map[string]decimal.Decimal{"days": iv.Days, "expected": iv.ExpectedResidualML, "discrepancy": iv.DiscrepancyML,
		"infused": iv.InfusedMCG["ziconotide"], "expected infused": iv.ExpectedInfusedMCG["ziconotide"]} {
		want := map[string]string{"days": "30", "expected": "8", "discrepancy": "-2.5", "infused": "72.5", "expected infused": "60"}[name]
		if !got.Equal(dec(want)) {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if !iv.DiscrepancyFlagged {
		t.Error("discrepancy of -2.5 mL in a 20 mL pump not flagged")
	}
	if len(second.Entry.Warnings) == 0 || !strings.Contains(second.Entry.Warnings[0], "DISCREPANCY") {
		t.Errorf("warnings not recorded in the entry: %q", second.Entry.Warnings)
	}
}

func TestIdempotentReplayAndConflict(t *testing.T) {
	db, _, _ := openTest(t)
	_, second := seed(t, db)
	n := must(db.Size())
	again := must(db.RecordRefill(as("tester"), parseRefill(t, secondFill)))
	if !again.Existing || again.Entry.Seq != second.Entry.Seq {
		t.Fatalf("replay: existing=%v seq=%d, want existing entry %d", again.Existing, again.Entry.Seq, second.Entry.Seq)
	}
	if again.Record == nil || !again.Record.Interval.DiscrepancyML.Equal(dec("-2.5")) {
		t.Error("replay does not return the derived record")
	}
	if got := must(db.Size()); got != n {
		t.Errorf("replay wrote: size %d → %d", n, got)
	}
	// Same id, different content: refused, nothing written.
	changed := parseRefill(t, strings.Replace(secondFill, `"residual_ml":"5.5"`, `"residual_ml":"5.4"`, 1))
	_, err := db.RecordRefill(as("tester"), changed)
	if pumpledger.ErrorCode(err) != pumpledger.ECONFLICT {
		t.Fatalf("changed content under the same id: err = %v, want conflict", err)
	}
	if got := must(db.Size()); got != n {
		t.Errorf("conflict wrote: size %d → %d", n, got)
	}
	// The same number written differently is the same content.
	same := parseRefill(t, strings.Replace(secondFill, `"residual_ml":"5.5"`, `"residual_ml":5.50`, 1))
	if r, err := db.RecordRefill(as("tester"), same); err != nil || !r.Existing {
		t.Errorf("5.50 vs \"5.5\": existing=%v err=%v, want the existing entry", r.Existing, err)
	}
}

func TestCorrectionAppliedInEveryView(t *testing.T) {
	db, c, _ := openTest(t)
	_, second := seed(t, db)
	c.t = c.t.Add(time.Hour)
	// The nurse misread the residual: 7.6 mL, not 5.5.
	fixed := parseRefill(t, strings.Replace(strings.Replace(secondFill, `"residual_ml":"5.5"`, `"residual_ml":"7.6"`, 1),
		`"id":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",`, "", 1))
	res := must(db.Correct(as("supervisor"), second.Entry.ID, "residual misread", clinic.Replacement{Refill: &fixed}))
	if res.Replacement == nil || res.Record == nil {
		t.Fatalf("correction result lacks replacement or record: %+v", res)
	}
	if res.Record.Interval.DiscrepancyFlagged {
		t.Errorf("replacement's discrepancy %s flagged", res.Record.Interval.DiscrepancyML)
	}
	// Chain: only the replacement.
	chain := must(db.Chain(bg, "S1"))
	if len(chain) != 2 || chain[1].Entry.ID != res.Replacement.ID {
		t.Fatalf("chain = %d links, last %s; want 2 with the replacement last", len(chain), chain[len(chain)-1].Entry.ID)
	}
	// Bill: no line of the voided entry.
	lines := must(db.Bill(bg, "2026-03-31", "2026-03-31"))
	for _, l := range lines {
		if l.EntryID == second.Entry.ID {
			t.Errorf("bill has a line of the voided entry: %+v", l)
		}
	}
	if len(lines) == 0 {
		t.Error("bill of 31 March is empty; want the replacement's lines")
	}
	// History: voided entry visible, marked, with the reason.
	items := must(db.History(bg, "MRN-1"))
	var found bool
	for _, it := range items {
		if it.Entry.ID == second.Entry.ID {
			found = true
			if it.VoidedBy != res.Entry.ID || it.VoidReason != "residual misread" || it.Record != nil {
				t.Errorf("voided entry in history: voided_by=%q reason=%q record=%v", it.VoidedBy, it.VoidReason, it.Record != nil)
			}
		}
	}
	if !found {
		t.Error("voided entry missing from history")
	}
	// Twice: refused.
	if _, err := db.Correct(as("x"), second.Entry.ID, "again", clinic.Replacement{}); pumpledger.ErrorCode(err) != pumpledger.ECONFLICT {
		t.Errorf("voiding twice: %v, want conflict", err)
	}
}

func TestVerifyNamesTamperedEntry(t *testing.T) {
	db, _, path := openTest(t)
	_, second := seed(t, db)
	res := must(db.Verify())
	if res.Entries != 6 || res.Checkpoints == 0 {
		t.Fatalf("verify = %+v, want 6 entries (the catalog pinned, seed's five) and checkpoints checked", res)
	}
	db.Close()
	// Change one byte of the second refill's stored residual on disk.
	b := must(os.ReadFile(path))
	i := bytes.Index(b, []byte(`"residual_ml":"5.5"`))
	if i < 0 {
		t.Fatal("stored refill not found in file")
	}
	b[i+len(`"residual_ml":"5.`)] = '9'
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db2 := must(clinic.Open(path, ledger.Options{}))
	defer db2.Close()
	_, err := db2.Verify()
	if want := fmt.Sprintf("Entry %d ", second.Entry.Seq); !errors.Is(err, ledger.ErrTampered) || !strings.Contains(err.Error(), want) {
		t.Fatalf("verify after tampering: %v; want %q named", err, want)
	}
}

func TestCheckpointConsistency(t *testing.T) {
	db, _, _ := openTest(t)
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	old := must(db.Checkpoint())
	seed2 := func() {
		must(db.Implant(as("drx"), pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}))
		must(db.RecordRefill(as("tester"), parseRefill(t, firstFill)))
	}
	seed2()
	cur := must(db.Consistent(old.Note))
	if old.Tree.N != 2 || cur.N != 4 {
		t.Errorf("tree sizes %d then %d, want 2 (the catalog pinned, the patient) then 4", old.Tree.N, cur.N)
	}
	// A forged checkpoint: right key, wrong root.
	forged := bytes.Replace(old.Note, []byte("\n2\n"), []byte("\n3\n"), 1)
	if bytes.Equal(forged, old.Note) {
		t.Fatalf("no size 2 in the checkpoint %q", old.Note)
	}
	if _, err := db.Consistent(forged); err == nil {
		t.Error("a checkpoint with an altered size verifies")
	}
}

// A bill is ordered by date of service, then patient, then entry as
// recorded: MRN-1's refill is recorded after MRN-2's dose change of the same
// day, yet sorts first; each entry's lines stay together in their order.
func TestBillOrderedByDatePatientEntry(t *testing.T) {
	db, _, _ := openTest(t)
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Second Patient"}))
	must(db.Implant(as("drx"), pumpledger.Implant{MRN: "MRN-2", Serial: "S2", Model: "synchromed-ii-20", Date: "2026-02-20", Held: []string{"ziconotide"}}))
	must(db.RecordRefill(as("tester"), parseRefill(t, strings.NewReplacer(`"MRN-1"`, `"MRN-2"`, `"S1"`, `"S2"`).Replace(firstFill))))
	must(db.RecordReprogram(as("tester"), must(pumpledger.ParseReprogram(strings.NewReader(strings.NewReplacer(`"MRN-1"`, `"MRN-2"`, `"S1"`, `"S2"`, "2026-03-11", "2026-03-31").Replace(reprogram))))))
	seed(t, db) // MRN-1's refill of 31 March comes after MRN-2's dose change that day
	lines := must(db.Bill(bg, "2026-03-31", "2026-03-31"))
	var got []string
	for _, l := range lines {
		got = append(got, l.MRN+" "+l.Code+strings.Join(l.Modifiers, ""))
	}
	want := []string{"MRN-1 J2278", "MRN-1 J2278JW", "MRN-1 95990", "MRN-2 62368"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("bill order %q, want %q", got, want)
	}
}
