package demo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/shopspring/decimal"
)

// pumpState is what a ledger keeps per pump to build refill.History.
type pumpState struct {
	mrn     string
	model   pump.Model
	alarm   decimal.Decimal
	last    *pump.Fill
	changes []pump.DoseChange
	doses   []pump.DoseChange
	held    map[string]bool
	due     string // next_refill_due of the last refill
}

func (p *pumpState) history() refill.History {
	held := map[string]bool{}
	for k, v := range p.held {
		held[k] = v
	}
	return refill.History{Model: p.model, AlarmML: p.alarm, Last: p.last,
		Changes: append([]pump.DoseChange(nil), p.changes...), Doses: append([]pump.DoseChange(nil), p.doses...), Held: held}
}

type replayed struct {
	records   []refill.Record
	refills   []pumpledger.Refill
	lines     []billing.Line
	flagged   []pumpledger.Refill
	reprogram int
}

// replay records events as a ledger would, deriving every refill and checking
// every reprogramming against the pump's history, and fails the test on any
// refusal or on a warning the demo should not cause.
func replay(t *testing.T, cat *catalog.Catalog, events []Event) replayed {
	t.Helper()
	now := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	patients := map[string]bool{}
	pumps := map[string]*pumpState{}
	ids := map[string]bool{}
	var out replayed
	var lastAt time.Time
	at := func(i int, inst pumpledger.Instant, id string) {
		if inst.UTC.Before(lastAt) {
			t.Fatalf("event %d at %s is before the one before it (%s)", i, inst, lastAt)
		}
		lastAt = inst.UTC
		if _, err := uuid.Parse(id); err != nil || ids[id] {
			t.Fatalf("event %d: id %q is not a fresh UUID", i, id)
		}
		ids[id] = true
		if inst.Local().Weekday() == time.Saturday || inst.Local().Weekday() == time.Sunday || inst.Local().Hour() < 8 || inst.Local().Hour() > 16 {
			t.Errorf("event %d at %s is outside clinic hours", i, inst)
		}
	}
	for i, e := range events {
		set := 0
		for _, p := range []bool{e.Patient != nil, e.Implant != nil, e.Refill != nil, e.Reprogram != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("event %d (%s) has %d entries set", i, e.Kind, set)
		}
		switch e.Kind {
		case KindPatient:
			p := e.Patient
			if p == nil || patients[p.MRN] || !strings.HasPrefix(p.Name, "Demo Patient ") || !strings.HasPrefix(p.MRN, "MRN-") {
				t.Fatalf("event %d: bad patient %+v", i, p)
			}
			patients[p.MRN] = true
		case KindImplant:
			im := e.Implant
			if im == nil || !patients[im.MRN] || pumps[im.Serial] != nil {
				t.Fatalf("event %d: bad implant %+v", i, im)
			}
			m, ok := cat.Pump(im.Model)
			if !ok {
				t.Fatalf("event %d: unknown model %s", i, im.Model)
			}
			if _, err := pumpledger.ParseDate(im.Date); err != nil {
				t.Fatalf("event %d: implant date %q", i, im.Date)
			}
			alarm := m.AlarmML
			if im.AlarmML.Valid {
				alarm = im.AlarmML.Decimal
			}
			pumps[im.Serial] = &pumpState{mrn: im.MRN, model: m, alarm: alarm, held: map[string]bool{}}
		case KindRefill:
			r := e.Refill
			if r == nil {
				t.Fatalf("event %d: refill kind without a refill", i)
			}
			at(i, r.PerformedAt, r.ID)
			ps := pumps[r.PumpSerial]
			if ps == nil || ps.mrn != r.MRN {
				t.Fatalf("event %d: refill of pump %s not implanted in %s", i, r.PumpSerial, r.MRN)
			}
			if ps.due != "" && r.PerformedAt.Date() > ps.due {
				t.Errorf("event %d: refill on %s is after the due date %s", i, r.PerformedAt.Date(), ps.due)
			}
			rec, err := refill.Derive(cat, *r, ps.history(), now)
			if err != nil {
				t.Fatalf("event %d: refill.Derive refused refill %s of %s: %v", i, r.PerformedAt, r.MRN, err)
			}
			for _, w := range rec.Warnings {
				switch {
				case strings.Contains(w, "inferred from a listing"):
				case strings.HasPrefix(w, "RESIDUAL DISCREPANCY"):
					if !strings.HasPrefix(r.Note, NotePocketFill) || !strings.Contains(w, "POCKET FILL") {
						t.Errorf("event %d: unplanned discrepancy: %s", i, w)
					}
				default:
					t.Errorf("event %d: unexpected warning: %s", i, w)
				}
			}
			if (rec.Interval != nil && rec.Interval.DiscrepancyFlagged) != strings.HasPrefix(r.Note, NotePocketFill) {
				t.Errorf("event %d: flagged %v, note %q", i, rec.Interval != nil && rec.Interval.DiscrepancyFlagged, r.Note)
			}
			if rec.Interval != nil && rec.Interval.DiscrepancyFlagged {
				out.flagged = append(out.flagged, *r)
			}
			if (rec.Interval == nil) != (ps.last == nil) || (ps.last == nil) != r.RinseML.IsPositive() {
				t.Errorf("event %d: first fill %v, interval %v, rinse %s", i, ps.last == nil, rec.Interval != nil, r.RinseML)
			}
			checkUnits(t, i, rec)
			if rec.NextRefillDue == nil {
				t.Fatalf("event %d: no next refill due", i)
			}
			ps.due = *rec.NextRefillDue
			fill := refill.FillOf(cat, *r)
			ps.last, ps.changes = &fill, nil
			ps.doses = append(ps.doses, fill.Dose)
			for d := range fill.MCGPerML {
				ps.held[d] = true
			}
			out.records = append(out.records, rec)
			out.refills = append(out.refills, *r)
			out.lines = append(out.lines, rec.Lines...)
		case KindReprogram:
			rp := e.Reprogram
			if rp == nil {
				t.Fatalf("event %d: reprogram kind without a reprogram", i)
			}
			at(i, rp.PerformedAt, rp.ID)
			ps := pumps[rp.PumpSerial]
			if ps == nil || ps.mrn != rp.MRN {
				t.Fatalf("event %d: reprogramming of pump %s not implanted in %s", i, rp.PumpSerial, rp.MRN)
			}
			warnings, err := refill.CheckReprogram(cat, *rp, ps.history(), now)
			if err != nil {
				t.Fatalf("event %d: refill.CheckReprogram refused: %v", i, err)
			}
			if len(warnings) > 0 {
				t.Errorf("event %d: reprogramming to %s mcg/day warns: %v", i, rp.Dose.MCGPerDay, warnings)
			}
			d, _ := cat.Drug(rp.Dose.Drug)
			c := pump.DoseChange{At: rp.PerformedAt.UTC, Drug: d.Name, MCGPerDay: rp.Dose.MCGPerDay}
			ps.changes = append(ps.changes, c)
			ps.doses = append(ps.doses, c)
			out.reprogram++
		default:
			t.Fatalf("event %d: unknown kind %q", i, e.Kind)
		}
	}
	return out
}

// checkUnits: for each drug, administered units + JW units = the whole units
// in the containers opened (SPEC §5), and the lines' units add up to them.
func checkUnits(t *testing.T, i int, rec refill.Record) {
	t.Helper()
	for _, d := range rec.Drugs {
		if d.Units+d.WasteUnits != d.OpenedMCG.IntPart() {
			t.Errorf("event %d: %s units %d + JW %d != opened %s", i, d.Drug, d.Units, d.WasteUnits, d.OpenedMCG)
		}
		var given, thrown int64
		for _, l := range rec.Lines {
			if l.Drug != d.Drug {
				continue
			}
			if len(l.Modifiers) == 1 && l.Modifiers[0] == billing.JW {
				thrown += l.Units
			} else {
				given += l.Units
			}
		}
		if given != d.Units || thrown != d.WasteUnits {
			t.Errorf("event %d: lines bill %d + JW %d, record %d + %d", i, given, thrown, d.Units, d.WasteUnits)
		}
	}
}

func marshal(t *testing.T, events []Event) []byte {
	t.Helper()
	b, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGenerateReplaysThroughDerive(t *testing.T) {
	cat := catalog.Default()
	if err := Check(cat); err != nil {
		t.Fatal(err)
	}
	events := Generate(cat, Options{})
	r := replay(t, cat, events)
	if len(r.flagged) != 1 {
		t.Errorf("%d flagged discrepancies, want exactly 1", len(r.flagged))
	}
	counts := map[string]int{}
	models := map[string]bool{}
	for _, e := range events {
		counts[e.Kind]++
		if e.Implant != nil {
			models[e.Implant.Model] = true
		}
	}
	if counts[KindPatient] != DefaultPatients || counts[KindImplant] != DefaultPatients || counts[KindRefill] < 3*DefaultPatients || counts[KindReprogram] < DefaultPatients {
		t.Errorf("counts %v", counts)
	}
	if !models["synchromed-ii-20"] || !models["synchromed-ii-40"] || !(models["prometra-ii-20"] || models["prometra-ii-40"]) {
		t.Errorf("models %v, want a mix of SynchroMed II 20/40 and Prometra II", models)
	}
	var jw, jz, multiNDC int
	for _, rec := range r.records {
		ndcs := map[string]bool{}
		for _, l := range rec.Lines {
			if l.NDC != "" {
				ndcs[l.NDC] = true
			}
			for _, m := range l.Modifiers {
				switch m {
				case billing.JW:
					jw++
				case billing.JZ:
					jz++
				}
			}
		}
		if len(ndcs) > 1 {
			multiNDC++
		}
	}
	if jw == 0 || jz == 0 {
		t.Errorf("JW lines %d, JZ lines %d: the demo should show both", jw, jz)
	}
	t.Logf("%d events, %d refills (%d with several NDCs), %d reprogrammings, %d lines", len(events), len(r.refills), multiNDC, r.reprogram, len(r.lines))

	// The claim lines of the whole demo export in every format.
	for name, write := range map[string]func(*bytes.Buffer, []billing.Line) error{
		"csv":  func(b *bytes.Buffer, l []billing.Line) error { return billing.WriteCSV(b, l) },
		"json": func(b *bytes.Buffer, l []billing.Line) error { return billing.WriteJSON(b, l) },
		"x12":  func(b *bytes.Buffer, l []billing.Line) error { return billing.WriteX12(b, l) },
	} {
		var b bytes.Buffer
		if err := write(&b, r.lines); err != nil {
			t.Errorf("export %s: %v", name, err)
		}
	}
}

func TestGenerateManyOptions(t *testing.T) {
	cat := catalog.Default()
	for _, opt := range []Options{
		{Patients: 1, Months: 1, Seed: 7},
		{Patients: 3, Months: 2, Seed: 99},
		{Patients: 12, Months: 12, Seed: 3},
		{Patients: 8, Months: 24, Seed: 1 << 40, Start: time.Date(2025, 6, 30, 8, 0, 0, 0, time.UTC)},
	} {
		events := Generate(cat, opt)
		r := replay(t, cat, events)
		if len(r.refills) > 3*opt.Patients && len(r.flagged) != 1 {
			t.Errorf("%+v: %d flagged discrepancies, want 1", opt, len(r.flagged))
		}
	}
	for seed := range uint64(30) {
		replay(t, cat, Generate(cat, Options{Seed: seed}))
	}
}

func TestGenerateDeterministic(t *testing.T) {
	cat := catalog.Default()
	a := marshal(t, Generate(cat, Options{Seed: 42}))
	b := marshal(t, Generate(cat, Options{Seed: 42}))
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different events")
	}
	c := marshal(t, Generate(cat, Options{Seed: 43}))
	if bytes.Equal(a, c) {
		t.Fatal("seeds 42 and 43 gave the same events")
	}
	d := marshal(t, Generate(cat, Options{Seed: 42, Patients: DefaultPatients, Months: DefaultMonths, Start: DefaultStart}))
	if !bytes.Equal(a, d) {
		t.Fatal("explicit defaults differ from the zero Options")
	}
}

func TestGenerateUntil(t *testing.T) {
	cat := catalog.Default()
	until := DefaultStart.AddDate(0, 2, 0)
	events := Generate(cat, Options{Until: until})
	if len(events) == 0 {
		t.Fatal("no events")
	}
	for i, e := range events {
		if e.Refill != nil && e.Refill.PerformedAt.UTC.After(until) || e.Reprogram != nil && e.Reprogram.PerformedAt.UTC.After(until) {
			t.Errorf("event %d is after Until", i)
		}
	}
	replay(t, cat, events)
}

func TestCheckRefusesCatalogWithoutZiconotide(t *testing.T) {
	const minimal = `{"version": 1,
	  "drugs": [{"name": "baclofen", "code": "J0475", "unit_mcg": "10000"}],
	  "pumps": [{"id": "p", "reservoir_ml": "20", "alarm_ml": "2", "discrepancy_ml": "1"}],
	  "services": [{"code": "95990", "refill": true}]}`
	cat, err := catalog.Load(strings.NewReader(minimal), "test")
	if err != nil {
		t.Fatal(err)
	}
	if Check(cat) == nil {
		t.Error("Check accepted a catalog without ziconotide")
	}
	if ev := Generate(cat, Options{}); ev != nil {
		t.Errorf("Generate gave %d events", len(ev))
	}
	if Generate(nil, Options{}) != nil {
		t.Error("Generate(nil) gave events")
	}
}

func TestEasternOffset(t *testing.T) {
	for _, tc := range []struct {
		date string
		off  int
	}{
		{"2026-01-05", -5}, {"2026-03-07", -5}, {"2026-03-08", -4}, {"2026-07-01", -4},
		{"2026-10-31", -4}, {"2026-11-01", -5}, {"2027-03-14", -4}, {"2027-03-13", -5},
	} {
		d, _ := time.Parse(time.DateOnly, tc.date)
		if got := easternOffset(d.Year(), d.Month(), d.Day()); got != tc.off*3600 {
			t.Errorf("%s: offset %d h, want %d", tc.date, got/3600, tc.off)
		}
	}
}

func TestSummary(t *testing.T) {
	events := Generate(catalog.Default(), Options{})
	s := Summary(events)
	for _, want := range []string{"5 synthetic patients (MRN-1001 to MRN-1005)", "5 pumps", "reprogrammings", "deliberate residual discrepancy"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "Demo Patient") {
		t.Errorf("summary names a patient:\n%s", s)
	}
	if Summary(nil) != "Nothing generated.\n" {
		t.Errorf("Summary(nil) = %q", Summary(nil))
	}
	t.Log("\n" + s)
}
