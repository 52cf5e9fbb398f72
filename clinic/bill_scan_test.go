package clinic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pumpledger/pumpledger/ledger"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/demo"
)

// billSeeds are stored entries as pumpledger writes them (a diluted
// refill, an admixture, an undiluted refill with warnings, a dose change)
// and variants of them a bill must not take for one another.
var billSeeds = []string{
	`{"seq":6849,"id":"53568476-062b-58b7-b9a0-a68a3fd9fbd1","kind":"refill","recorded_at":"2021-03-01T20:20:00Z","recorded_by":"demo-rn1","performed_at":"2021-03-01T20:00:00Z","performed_offset":"-05:00","late":false,"payload":{"id":"53568476-062b-58b7-b9a0-a68a3fd9fbd1","mrn":"HS000-1096","pump_serial":"HS000DEMO-SN1096","performed_at":"2021-03-01T15:00:00-05:00","nurse":"demo-rn1","witness":"demo-rn3","residual_ml":"8.6","rinse_ml":"0","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"30"}],"vials":[{"ndc":"70720-720-10","count":1,"lot":"DEMO07202103","expires":"2022-09-30"},{"ndc":"68118-722-10","count":1,"lot":"DEMO07222103","expires":"2022-09-30"}],"diluent_ml":"14","dose":{"drug":"ziconotide","mcg_per_day":"10.8"},"procedure":"95990","note":""}}`,
	`{"seq":7338,"id":"f6ce9fc7-167d-531f-9096-3949d31db7a4","kind":"refill","recorded_at":"2021-03-01T18:20:00Z","recorded_by":"demo-rn2","performed_at":"2021-03-01T18:00:00Z","performed_offset":"-05:00","late":false,"payload":{"id":"f6ce9fc7-167d-531f-9096-3949d31db7a4","mrn":"HS001-1003","pump_serial":"HS001DEMO-SN1003","performed_at":"2021-03-01T13:00:00-05:00","nurse":"demo-rn2","witness":"demo-rn3","residual_ml":"13.3","rinse_ml":"0","fill_ml":"40","solution":[{"drug":"ziconotide","mcg_per_ml":"7.5"},{"drug":"morphine","mcg_per_ml":"2500"}],"vials":[{"ndc":"70720-720-10","count":3,"lot":"DEMO07202103","expires":"2022-09-30"},{"ndc":"99999-910-20","count":1,"lot":"DEMO09102103","expires":"2022-09-30"}],"diluent_ml":"27","dose":{"drug":"ziconotide","mcg_per_day":"6"},"procedure":"95990","note":""}}`,
	`{"seq":11656,"id":"b53bfa8d-b9de-58d7-b9a4-ecb35cd2f11f","kind":"refill","recorded_at":"2021-03-01T16:50:00Z","recorded_by":"demo-rn3","performed_at":"2021-03-01T16:30:00Z","performed_offset":"-05:00","late":false,"warnings":["NDC 70720-723-10 (TerSera) has a presentation inferred from a listing, not read off a label; check the carton says 500 mcg in 20 mL.","RESIDUAL DISCREPANCY: 5.5 mL \u2014 \"x\""],"payload":{"id":"b53bfa8d-b9de-58d7-b9a4-ecb35cd2f11f","mrn":"HS001-1064","pump_serial":"HS001DEMO-SN1064","performed_at":"2021-03-01T11:30:00-05:00","nurse":"demo-rn3","witness":"demo-rn1","residual_ml":"12.2","rinse_ml":"0","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"25"}],"vials":[{"ndc":"70720-723-10","count":1,"lot":"DEMO07232103","expires":"2022-09-30"}],"diluent_ml":"0","dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"95990","note":"Stable dose: undiluted 25 mcg/mL, which keeps 84 days."}}`,
	`{"seq":12,"id":"0b0c","kind":"reprogram","recorded_at":"2021-03-02T10:00:00Z","recorded_by":"dr","performed_at":"2021-03-02T09:50:00Z","performed_offset":"+00:00","late":false,"payload":{"id":"0b0c","mrn":"M-2","pump_serial":"S-2","performed_at":"2021-03-02T09:50:00Z","clinician":"dr","dose":{"drug":"ziconotide","mcg_per_day":"3"},"procedure":"62368","note":""}}`,
	// The same refill, its billable fields changed one at a time.
	`{"seq":6849,"id":"a","kind":"refill","recorded_at":"2021-03-01T20:20:00Z","recorded_by":"r","performed_at":"2021-03-01T20:00:00Z","performed_offset":"-05:00","late":false,"payload":{"mrn":"M","performed_at":"2021-03-01T15:00:00-05:00","residual_ml":"8.6","rinse_ml":"0","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"30"}],"vials":[{"ndc":"70720-720-10","count":2},{"ndc":"68118-722-10","count":1}],"diluent_ml":"14","dose":{"drug":"ziconotide","mcg_per_day":"1"},"procedure":"95990"}}`,
	`{"seq":6849,"id":"a","kind":"refill","recorded_at":"2021-03-01T20:20:00Z","recorded_by":"r","performed_at":"2021-03-01T20:00:00Z","performed_offset":"-05:00","late":false,"payload":{"mrn":"M","performed_at":"2021-03-01T15:00:00-05:00","residual_ml":"8.6","rinse_ml":"0","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"30"}],"vials":[{"ndc":"68118-722-10","count":1},{"ndc":"70720-720-10","count":1}],"diluent_ml":"14","dose":{"drug":"ziconotide","mcg_per_day":"1"},"procedure":"95991"}}`,
	`{"seq":1,"id":"a","kind":"reprogram","payload":{"mrn":"M","performed_at":"2021-03-01T15:00:00-05:00","procedure":"62368"},"kind":"refill"}`,
	`{"seq":1,"id":"a","kind":"refill","recorded_at":"0000-01-01T00:00:00+01:00","payload":{"mrn":"M","performed_at":"2021-03-01T15:00:00-05:00","procedure":"95990"}}`,
	`{"seq":1,"id":"a","kind":"refill","payload":{"mrn":"M","performed_at":"2021-03-01T15:00:00-05:00","residual_ml":"x","procedure":"95990"}}`,
	`{"seq":1,"id":"a","kind":"refill","extra":1,"payload":{}}`,
	// A count no recording allows (an altered file): refused, not opened.
	`{"seq":6849,"id":"a","kind":"refill","recorded_at":"2021-03-01T20:20:00Z","recorded_by":"r","performed_at":"2021-03-01T20:00:00Z","performed_offset":"-05:00","late":false,"payload":{"mrn":"M","performed_at":"2021-03-01T15:00:00-05:00","residual_ml":"8.6","rinse_ml":"0","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"30"}],"vials":[{"ndc":"70720-720-10","count":3000000}],"diluent_ml":"14","dose":{"drug":"ziconotide","mcg_per_day":"1"},"procedure":"95990"}}`,
	`{"seq":1,"id":"a","kind":"refill","payload":null}`,
}

// demoCatalog is the demo's catalog: the embedded one plus morphine.
func demoCatalog(t testing.TB) *catalog.Catalog {
	b, err := demo.WithMorphine(catalog.DefaultJSON())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(strings.NewReader(string(b)), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// billDB is a service value with the demo's catalog and no ledger, enough
// for claimLines (testCats).
func billDB(t testing.TB) *Service {
	return &Service{cats: pinnedCatalogs{set: &catalogSet{list: []*Pinned{{Version: 1, Catalog: demoCatalog(t)}}}}}
}

// demoLedger is a ledger, closed when t ends, holding the demo's history of
// opt (every kind of entry; corrections, admixtures, warnings among them).
func demoLedger(t testing.TB, opt demo.Options) *Service {
	t.Helper()
	var clock time.Time
	cat := demoCatalog(t)
	db, err := Create(as("clerk"), filepath.Join(t.TempDir(), "d.db"), ledger.Options{NoSync: true, Now: func() time.Time { return clock }}, cat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := demoInto(db, cat, &clock, opt); err != nil {
		t.Fatal(err)
	}
	return db
}

// FuzzScanBilled: a bill's lines through the scanner and the shape memo
// (billLines) are the lines of decoding and deriving each entry in full
// (claimLines), or the same refusal. The memo lives across inputs, so a
// mutant that keeps a seed's billable bytes takes the seed's lines.
func FuzzScanBilled(f *testing.F) {
	for _, s := range billSeeds {
		f.Add([]byte(s))
	}
	db := billDB(f)
	memo := newLineMemo(db.testCats())
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := claimLines(db.testCats(), data)
		got, gotErr := db.billLines(memo, data)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: claimLines %v, billLines %v", data, wantErr, gotErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nbillLines  %+v\nclaimLines %+v", data, got, want)
		}
		if b, ok := scanBilled(data, newBillScratch()); ok {
			e, err := ledger.DecodeEntry(data)
			if err != nil {
				t.Fatalf("scanBilled read %q, decodeEntry refuses it: %v", data, err)
			}
			if b.seq != e.Seq || b.id != e.ID || b.kind != e.Kind {
				t.Fatalf("%q: scanned entry %d %s %s, decoded %d %s %s", data, b.seq, b.id, b.kind, e.Seq, e.ID, e.Kind)
			}
			var p struct {
				MRN         string             `json:"mrn"`
				PerformedAt pumpledger.Instant `json:"performed_at"`
			}
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Fatalf("scanBilled read %q, its payload does not decode: %v", data, err)
			}
			if b.mrn != p.MRN || b.date != p.PerformedAt.Date() {
				t.Fatalf("%q: scanned %s on %s, decoded %s on %s", data, b.mrn, b.date, p.MRN, p.PerformedAt.Date())
			}
		}
	})
}

// shapes counts the shapes a memo holds, under every catalog.
func (memo *lineMemo) shapes() int {
	n := 0
	for _, m := range memo.m {
		n += len(m)
	}
	return n
}

// The memo is exercised, not bypassed: visits of one shape share it, a
// changed billable field is another shape, and what the scanner leaves to
// encoding/json still bills.
func TestBillLinesMemo(t *testing.T) {
	db := billDB(t)
	memo := newLineMemo(db.testCats())
	for _, s := range billSeeds[:4] {
		if _, ok := scanBilled([]byte(s), newBillScratch()); !ok {
			t.Fatalf("scanBilled leaves a stored entry to encoding/json: %s", s)
		}
		if _, err := db.billLines(memo, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if n := memo.shapes(); n != 4 {
		t.Fatalf("%d shapes remembered of 4 different visits", n)
	}
	// A payload field the scanner does not know (one added to Refill, say)
	// is never skipped into a shape: the entry is decoded in full.
	for _, at := range []string{`"note":""`, `"expires":"2022-09-30"`, `"mcg_per_day":"10.8"`} {
		added := strings.Replace(billSeeds[0], at, at+`,"new_field":"x"`, 1)
		if added == billSeeds[0] {
			t.Fatalf("no %s in the seed", at)
		}
		if _, err := ledger.DecodeEntry([]byte(added)); err != nil {
			t.Fatalf("the field went outside the payload: %v", err)
		}
		if _, ok := scanBilled([]byte(added), newBillScratch()); ok {
			t.Errorf("scanBilled skipped an unknown field: %s", added)
		}
	}
	// Another patient's visit of the first shape, on another day: a hit,
	// with its own identity on every line.
	other := strings.NewReplacer(`"HS000-1096"`, `"OTHER-7"`, `2021-03-01T15:00:00-05:00`, `2021-03-09T08:00:00-05:00`,
		`"53568476-062b-58b7-b9a0-a68a3fd9fbd1"`, `"11111111-2222-4333-8444-555555555555"`, `"8.6"`, `"1.2"`).Replace(billSeeds[0])
	got, err := db.billLines(memo, []byte(other))
	if err != nil {
		t.Fatal(err)
	}
	if n := memo.shapes(); n != 4 {
		t.Fatalf("the same shape was derived again (%d shapes)", n)
	}
	want, err := claimLines(db.testCats(), []byte(other))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || got[0].MRN != "OTHER-7" || got[0].DateOfService != "2021-03-09" {
		t.Fatalf("memo hit:\n got %+v\nwant %+v", got, want)
	}
	// A modifier changed on one line is not changed on the shape's others.
	k := slices.IndexFunc(got, func(l billing.Line) bool { return len(l.Modifiers) > 0 })
	if k < 0 {
		t.Fatalf("no line with a modifier in %+v", got)
	}
	got[k].Modifiers[0] = "XX"
	again, _ := db.billLines(memo, []byte(billSeeds[0]))
	if again[k].Modifiers[0] == "XX" {
		t.Fatal("lines of one shape share their modifiers")
	}
}

// Every refill and dose change of a clinic's ledger (the demo's: admixtures,
// rinses, corrections, warnings with quotes and non-ASCII) takes the
// scanner's path, and the bill's lines are those of deriving each in full.
func TestScanBilledReadsEveryDemoVisit(t *testing.T) {
	led := demoLedger(t, demo.Options{Patients: 30, Months: 18, Seed: 5})
	memo := newLineMemo(led.testCats())
	visits := 0
	err := led.View(func(tx *ledger.Tx) error {
		return forEachStored(tx, func(_ int64, v []byte) error {
			e, err := ledger.DecodeEntry(v)
			if err != nil {
				return err
			}
			if e.Kind != pumpledger.KindRefill && e.Kind != pumpledger.KindReprogram {
				return nil
			}
			visits++
			if _, ok := scanBilled(v, newBillScratch()); !ok {
				t.Errorf("entry %d (%s) is left to encoding/json: %s", e.Seq, e.Kind, v)
			}
			got, err := led.billLines(memo, v)
			if err != nil {
				return err
			}
			want, err := claimLines(led.testCats(), v)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("entry %d: billLines %+v, claimLines %+v", e.Seq, got, want)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if visits < 300 || memo.shapes() >= visits {
		t.Fatalf("%d visits in %d shapes: the demo changed", visits, memo.shapes())
	}
	t.Logf("%d visits, %d shapes", visits, memo.shapes())
}

// demoInto records the demo's history of opt into db, every entry through
// the clinic's own calls (one import group), the clock at 2030.
func demoInto(db *Service, cat *catalog.Catalog, clock *time.Time, opt demo.Options) error {
	events := demo.Generate(cat, opt)
	return db.Import(0, func() error {
		for _, ev := range events {
			var err error
			switch ev.Kind {
			case pumpledger.KindPatient:
				*clock = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
				_, err = db.AddPatient(as("clerk"), *ev.Patient)
			case pumpledger.KindImplant:
				_, err = db.Implant(as("md"), *ev.Implant)
			case pumpledger.KindRefill:
				_, err = db.RecordRefill(as("tester"), *ev.Refill)
			case pumpledger.KindReprogram:
				_, err = db.RecordReprogram(as("tester"), *ev.Reprogram)
			case pumpledger.KindCorrection:
				c := ev.Correction
				_, err = db.Correct(as(c.By), c.Voids, c.Reason, Replacement{Refill: c.Refill})
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkBillLines: one stored refill's claim lines, through the scanner
// and a warm memo (a visit of a shape seen before), beside deriving them in
// full (the first visit of a shape, and every visit before the memo).
func BenchmarkBillLines(b *testing.B) {
	db := billDB(b)
	data := []byte(billSeeds[1])
	b.Run("scan", func(b *testing.B) {
		scr := newBillScratch()
		for b.Loop() {
			if _, ok := scanBilled(data, scr); !ok {
				b.Fatal("not scanned")
			}
		}
	})
	b.Run("memo-hit", func(b *testing.B) {
		// As a bill's worker: its scratch and the result kept across visits.
		memo, scr := newLineMemo(db.testCats()), newBillScratch()
		lines, mods := make([]billing.Line, 0, 8), make([]string, 0, 8)
		for b.Loop() {
			v, err := db.billVisit(memo, scr, data)
			if err != nil {
				b.Fatal(err)
			}
			lines, mods = v.appendTo(lines[:0], &mods), mods[:0]
		}
	})
	b.Run("baseline-derived", func(b *testing.B) {
		for b.Loop() {
			if _, err := claimLines(db.testCats(), data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A bill is every live refill's and dose change's lines, derived in full,
// in order of date of service, patient, then entry: for a clinic's ledger
// (the demo's, with corrections) and several ranges, Bill gives exactly
// what decoding every entry of the ledger in turn gives.
func TestBillIsEveryLiveVisitDerived(t *testing.T) {
	led := demoLedger(t, demo.Options{Patients: 40, Months: 14, Seed: 9})
	var all []billing.Line
	voided := 0
	err := led.View(func(tx *ledger.Tx) error {
		return forEachStored(tx, func(seq int64, v []byte) error {
			if _, void := tx.VoidedBy(seq); void {
				voided++
				return nil
			}
			ls, err := claimLines(led.testCats(), v)
			all = append(all, ls...)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(all, func(i, j int) bool {
		return all[i].DateOfService < all[j].DateOfService || all[i].DateOfService == all[j].DateOfService && all[i].MRN < all[j].MRN
	})
	if voided == 0 || len(all) < 500 {
		t.Fatalf("%d lines, %d voided entries: the demo changed", len(all), voided)
	}
	for _, r := range [][2]string{{"2000-01-01", "2100-12-31"}, {all[0].DateOfService, all[0].DateOfService}, {"2025-11-01", "2025-11-30"}, {"2026-02-01", "2026-03-15"}} {
		var want []billing.Line
		for _, l := range all {
			if l.DateOfService >= r[0] && l.DateOfService <= r[1] {
				want = append(want, l)
			}
		}
		got, err := led.Bill(bg, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 {
			want = []billing.Line{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Bill(%s, %s): %d lines, deriving every entry gives %d", r[0], r[1], len(got), len(want))
			for i := range min(len(got), len(want)) {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("line %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
		}
	}
}

// A bill is one moment of the ledger even while corrections are recorded:
// each correction voids a refill of the month and records its replacement
// in one transaction, so every bill must count the month's refills the
// same, never the voided one without its replacement nor both.
func TestBillDuringCorrections(t *testing.T) {
	led := demoLedger(t, demo.Options{Patients: 12, Months: 8, Seed: 4})
	from, to := "2026-06-01", "2026-09-30"
	refills := func() (n int, ids []string, err error) {
		ls, err := led.Bill(bg, from, to)
		for _, l := range ls {
			if svc, ok := led.testCats().list[0].Catalog.Service(l.Code); ok && svc.Refill {
				n++
				ids = append(ids, l.EntryID)
			}
		}
		return n, ids, err
	}
	want, ids, err := refills()
	if err != nil || want < 10 {
		t.Fatalf("%d refills billed (%v): the demo changed", want, err)
	}
	done := make(chan struct{})
	corrected := 0
	go func() {
		defer close(done)
		for i := range 60 {
			e, err := led.Entry(ids[i%len(ids)])
			if err != nil {
				t.Error(err)
				return
			}
			r, err := e.Refill()
			if err != nil {
				t.Error(err)
				return
			}
			r.ID = ""
			res, err := led.Correct(as("rn"), ids[i%len(ids)], "residual misread", Replacement{Refill: &r})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i%len(ids)] = res.Replacement.ID
			corrected++
		}
	}()
	bills := 0
	for running := true; running; bills++ {
		select {
		case <-done:
			running = false
		default:
		}
		n, _, err := refills()
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("bill %d counts %d refills of the months, not %d: it saw half a correction", bills, n, want)
		}
	}
	if corrected != 60 {
		t.Fatalf("%d corrections recorded", corrected)
	}
	t.Logf("%d bills while %d corrections were recorded", bills, corrected)
}

// A voided mark that is not an entry's seq (the file altered outside
// pumpledger) is an error of every view that reads it, never a crash;
// verify names it.
func TestMalformedVoidedMarkIsAnError(t *testing.T) {
	led := demoLedger(t, demo.Options{Patients: 12, Months: 8, Seed: 4})
	var mrn, date string
	path := led.Path()
	led.Close()
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		k, v := tx.Bucket([]byte("voided")).Cursor().First()
		if k == nil {
			return fmt.Errorf("the demo ledger has no correction")
		}
		voided, err := ledger.DecodeEntry(tx.Bucket([]byte("entries")).Get(k))
		if err != nil {
			return err
		}
		mrns, _, d, err := ledger.Filing(voided)
		if err != nil {
			return err
		}
		mrn, date = mrns[0], d
		return tx.Bucket([]byte("voided")).Put(bytes.Clone(k), bytes.Clone(v[:3]))
	})
	if cerr := raw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	led = must(Open(path, ledger.Options{}))
	defer led.Close()
	if _, err := led.Bill(bg, date, date); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("bill: %v, want ErrTampered", err)
	}
	if _, err := led.History(bg, mrn); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("history: %v, want ErrTampered", err)
	}
	if _, err := led.Verify(); !errors.Is(err, ledger.ErrTampered) || !strings.Contains(err.Error(), "voided") {
		t.Errorf("verify: %v, want ErrTampered naming the voided index", err)
	}
}

// forEachStored calls fn with every entry's seq and stored bytes, in order.
func forEachStored(tx *ledger.Tx, fn func(seq int64, stored []byte) error) error {
	for seq := range tx.Size() {
		v, err := tx.Stored(seq)
		if err != nil {
			return err
		}
		if err := fn(seq, v); err != nil {
			return err
		}
	}
	return nil
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
