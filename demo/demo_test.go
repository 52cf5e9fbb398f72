package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
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
	before  refill.History // the history the last refill was derived with
	lastID  string         // the last refill's id
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
	records     []refill.Record // live: a corrected refill's is replaced
	refills     []pumpledger.Refill
	lines       []billing.Line // live
	flagged     []pumpledger.Refill
	corrections []Correction
	reprogram   int
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
	voided := map[string]bool{} // refills a later correction voids: recorded with a misread residual
	for _, e := range events {
		if e.Correction != nil {
			voided[e.Correction.Voids] = true
		}
	}
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
		for _, p := range []bool{e.Patient != nil, e.Implant != nil, e.Refill != nil, e.Reprogram != nil, e.Correction != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("event %d (%s) has %d entries set", i, e.Kind, set)
		}
		switch e.Kind {
		case pumpledger.KindPatient:
			p := e.Patient
			if p == nil || patients[p.MRN] || !strings.HasPrefix(p.Name, "Demo Patient ") || !strings.HasPrefix(p.MRN, "MRN-") {
				t.Fatalf("event %d: bad patient %+v", i, p)
			}
			patients[p.MRN] = true
		case pumpledger.KindImplant:
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
		case pumpledger.KindRefill:
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
			h := ps.history()
			rec, err := refill.Derive(cat, *r, h, now)
			if err != nil {
				t.Fatalf("event %d: refill.Derive refused refill %s of %s: %v", i, r.PerformedAt, r.MRN, err)
			}
			checkWarnings(t, i, *r, rec, voided[r.ID])
			if rec.Interval != nil && rec.Interval.DiscrepancyFlagged && !voided[r.ID] {
				out.flagged = append(out.flagged, *r)
			}
			if (rec.Interval == nil) != (ps.last == nil) || (ps.last == nil) != r.RinseML.IsPositive() {
				t.Errorf("event %d: first fill %v, interval %v, rinse %s", i, ps.last == nil, rec.Interval != nil, r.RinseML)
			}
			checkUnits(t, cat, i, rec)
			if rec.NextRefillDue == nil {
				t.Fatalf("event %d: no next refill due", i)
			}
			ps.due = *rec.NextRefillDue
			ps.before, ps.lastID = h, r.ID
			fill := refill.FillOf(cat, *r)
			ps.last, ps.changes = &fill, nil
			ps.doses = append(ps.doses, fill.Dose)
			for d := range fill.MCGPerML {
				ps.held[d] = true
			}
			out.records = append(out.records, rec)
			out.refills = append(out.refills, *r)
			out.lines = append(out.lines, rec.Lines...)
		case pumpledger.KindCorrection:
			c := e.Correction
			if c == nil || c.Refill == nil || strings.TrimSpace(c.Reason) == "" || c.By == "" {
				t.Fatalf("event %d: bad correction %+v", i, c)
			}
			r := c.Refill
			at(i, c.At, r.ID)
			ps := pumps[r.PumpSerial]
			if ps == nil || ps.mrn != r.MRN || ps.lastID != c.Voids || c.Voids == "" {
				t.Fatalf("event %d: the correction voids %s, not the last refill of pump %s", i, c.Voids, r.PumpSerial)
			}
			if c.At.UTC.Sub(r.PerformedAt.UTC) > 2*time.Hour || !c.At.UTC.After(r.PerformedAt.UTC) {
				t.Errorf("event %d: corrected at %s, the refill was at %s", i, c.At, r.PerformedAt)
			}
			rec, err := refill.Derive(cat, *r, ps.before, now)
			if err != nil {
				t.Fatalf("event %d: refill.Derive refused the replacement refill: %v", i, err)
			}
			checkWarnings(t, i, *r, rec, false)
			if rec.Interval == nil || rec.Interval.DiscrepancyFlagged {
				t.Errorf("event %d: the corrected refill is flagged or has no interval", i)
			}
			checkUnits(t, cat, i, rec)
			// The bill carries the replacement, not the voided refill.
			k := len(out.records) - 1
			for ; k >= 0 && out.records[k].ID != c.Voids; k-- {
			}
			if k < 0 {
				t.Fatalf("event %d: voided refill %s not found", i, c.Voids)
			}
			out.records[k] = rec
			lines := out.lines[:0:0]
			for _, l := range out.lines {
				if l.EntryID != c.Voids {
					lines = append(lines, l)
				}
			}
			out.lines = append(lines, rec.Lines...)
			ps.due, ps.lastID = *rec.NextRefillDue, r.ID
			fill := refill.FillOf(cat, *r)
			ps.last = &fill
			out.corrections = append(out.corrections, *c)
		case pumpledger.KindReprogram:
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

// checkWarnings fails on a warning the demo should not cause: only the
// inferred-presentation notice of the 25 mcg/mL vials and the discrepancies
// it makes on purpose, each flagged as its note (or its correction) says.
func checkWarnings(t *testing.T, i int, r pumpledger.Refill, rec refill.Record, misread bool) {
	t.Helper()
	pocket, under := strings.HasPrefix(r.Note, NotePocketFill), strings.HasPrefix(r.Note, NoteUnderDelivery)
	for _, w := range rec.Warnings {
		switch {
		case strings.Contains(w, "inferred from a listing"):
		case strings.HasPrefix(w, "RESIDUAL DISCREPANCY"):
			if !(pocket && strings.Contains(w, "POCKET FILL")) && !((under || misread) && strings.Contains(w, "under-delivery")) {
				t.Errorf("event %d: unplanned discrepancy: %s", i, w)
			}
		default:
			t.Errorf("event %d: unexpected warning: %s", i, w)
		}
	}
	flagged := rec.Interval != nil && rec.Interval.DiscrepancyFlagged
	if flagged != (pocket || under || misread) {
		t.Errorf("event %d: flagged %v, misread %v, note %q", i, flagged, misread, r.Note)
	}
}

// checkUnits: for each drug, administered units + JW units = the whole units
// in the containers opened when they hold whole units (SPEC §5), and the
// lines' units add up to them.
func checkUnits(t *testing.T, cat *catalog.Catalog, i int, rec refill.Record) {
	t.Helper()
	for _, d := range rec.Drugs {
		drug, _ := cat.Drug(d.Drug)
		if opened := d.OpenedMCG.Div(drug.UnitMCG); opened.IsInteger() && d.Units+d.WasteUnits != opened.IntPart() {
			t.Errorf("event %d: %s units %d + JW %d != opened %s units", i, d.Drug, d.Units, d.WasteUnits, opened)
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

// demoCatalog is the catalog `pumpledger demo` runs with: the embedded one
// plus the synthetic morphine containers.
func demoCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	b, err := WithMorphine(catalog.DefaultJSON())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(bytes.NewReader(b), "demo catalog")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// features counts what the issue asks a demo to show.
type features struct {
	pockets, unders, corrections int
	undiluted, admixRefills      int
	admixPatients                map[string]bool
	wasteJW                      map[string]int // JW lines of refills that are not a first fill, by code
	firstFills, refills          int            // refills: those after a pump's first
}

func count(r replayed) features {
	f := features{admixPatients: map[string]bool{}, wasteJW: map[string]int{}, corrections: len(r.corrections)}
	for k, rec := range r.records {
		in := r.refills[k]
		switch {
		case strings.HasPrefix(in.Note, NotePocketFill):
			f.pockets++
		case strings.HasPrefix(in.Note, NoteUnderDelivery):
			f.unders++
		}
		if len(in.Solution) > 1 {
			f.admixRefills++
			f.admixPatients[in.MRN] = true
		}
		if in.RinseML.IsPositive() {
			f.firstFills++
			continue
		}
		f.refills++
		for _, d := range rec.Drugs {
			if d.Drug == "ziconotide" && !d.Diluted && len(rec.Drugs) == 1 {
				f.undiluted++
			}
		}
		for _, l := range rec.Lines {
			if slices.Contains(l.Modifiers, billing.JW) {
				f.wasteJW[l.Code]++
			}
		}
	}
	return f
}

// wantMistakes: one pocket fill per PocketFillEvery refills (at least one),
// and from minMistakeRefills refills on one under-delivery and a correction
// per CorrectionEvery (at least one).
func wantMistakes(t *testing.T, name string, f features, flagged int) {
	t.Helper()
	if f.refills == 0 {
		return
	}
	if flagged != f.pockets+f.unders {
		t.Errorf("%s: %d flagged, %d pocket fills + %d under-deliveries", name, flagged, f.pockets, f.unders)
	}
	if want := max(1, f.refills/PocketFillEvery); f.pockets < want*9/10 || f.pockets > want {
		t.Errorf("%s: %d pocket fills in %d refills, want about %d", name, f.pockets, f.refills, want)
	}
	if f.refills >= minMistakeRefills+2 && (f.unders != 1 || f.corrections < max(1, f.refills/CorrectionEvery*9/10)) {
		t.Errorf("%s: %d under-deliveries, %d corrections in %d refills", name, f.unders, f.corrections, f.refills)
	}
}

func TestGenerateReplaysThroughDerive(t *testing.T) {
	cat := demoCatalog(t)
	if err := Check(cat); err != nil {
		t.Fatal(err)
	}
	events := Generate(cat, Options{})
	r := replay(t, cat, events)
	f := count(r)
	wantMistakes(t, "default", f, len(r.flagged))
	if len(r.flagged) != 2 || f.corrections != 1 {
		t.Errorf("%d flagged discrepancies and %d corrections, want 2 (a pocket fill, an under-delivery) and 1", len(r.flagged), f.corrections)
	}
	counts := map[pumpledger.Kind]int{}
	models := map[string]bool{}
	for _, e := range events {
		counts[e.Kind]++
		if e.Implant != nil {
			models[e.Implant.Model] = true
		}
	}
	if counts[pumpledger.KindPatient] != DefaultPatients || counts[pumpledger.KindImplant] != DefaultPatients || counts[pumpledger.KindRefill] < 3*DefaultPatients || counts[pumpledger.KindReprogram] < DefaultPatients {
		t.Errorf("counts %v", counts)
	}
	// Every model labelled for ziconotide, and none that is not (Prometra:
	// morphine, baclofen and saline).
	for _, m := range cat.Pumps {
		if models[m.ID] == m.OffLabel("ziconotide") {
			t.Errorf("models %v, want the two SynchroMed II, not %s", models, m.ID)
		}
	}
	// Undiluted refills, an admixture patient, and JW lines beyond the
	// naive rinse, of both drugs.
	if f.undiluted == 0 || len(f.admixPatients) != 1 || f.admixRefills < 3 || f.wasteJW["J2278"] == 0 || f.wasteJW["J2274"] == 0 {
		t.Errorf("undiluted %d, admixture patients %v (%d refills), JW lines beyond the rinse %v", f.undiluted, f.admixPatients, f.admixRefills, f.wasteJW)
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
	// The bill carries the corrected refill's replacement, not the refill.
	for _, c := range r.corrections {
		for _, l := range r.lines {
			if l.EntryID == c.Voids {
				t.Errorf("the bill has a line of voided refill %s", c.Voids)
			}
		}
		if !slices.ContainsFunc(r.lines, func(l billing.Line) bool { return l.EntryID == c.Refill.ID }) {
			t.Errorf("the bill has no line of the replacement %s", c.Refill.ID)
		}
	}
	t.Logf("%d events, %d refills (%d with several NDCs), %d reprogrammings, %d lines; %+v", len(events), len(r.refills), multiNDC, r.reprogram, len(r.lines), f)

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

// With the embedded catalog alone (no morphine containers) there are no
// admixtures; the rest is the same history.
func TestGenerateWithoutMorphine(t *testing.T) {
	cat := catalog.Default()
	if !LacksMorphine(cat) {
		t.Fatal("the embedded catalog lists morphine containers; the demo's synthetic ones are no longer needed")
	}
	events := Generate(cat, Options{Patients: 10, Months: 6})
	f := count(replay(t, cat, events))
	if f.admixRefills != 0 || f.undiluted == 0 || f.wasteJW["J2278"] == 0 {
		t.Errorf("%+v", f)
	}
	// The patients who are not on an admixture have the same visits (not the
	// same deliberate mistakes: those are drawn among every refill).
	with := Generate(demoCatalog(t), Options{Patients: 10, Months: 6})
	mine := func(events []Event) []byte {
		var out []Event
		for _, e := range events {
			if e.Refill != nil && !Admixture(mrnIndex(e.Refill.MRN)) {
				r := *e.Refill
				r.ID, r.ResidualML, r.Note = "", decimal.Zero, ""
				out = append(out, Event{Kind: e.Kind, Refill: &r})
			}
		}
		return marshal(t, out)
	}
	if !bytes.Equal(mine(events), mine(with)) {
		t.Error("the ziconotide-only patients' refills depend on whether the catalog has morphine")
	}
}

func mrnIndex(mrn string) int {
	var n int
	fmt.Sscanf(mrn, "MRN-%d", &n)
	return n - 1001
}

func TestGenerateManyOptions(t *testing.T) {
	cat := demoCatalog(t)
	for _, opt := range []Options{
		{Patients: 1, Months: 1, Seed: 7},
		{Patients: 3, Months: 2, Seed: 99},
		{Patients: 12, Months: 12, Seed: 3},
		{Patients: 8, Months: 24, Seed: 1 << 40, Start: time.Date(2025, 6, 30, 8, 0, 0, 0, time.UTC)},
		{Patients: 250, Months: 6, Seed: 5},   // more patients than days to implant them: several a day
		{Patients: 100, Months: 36, Seed: 11}, // 1 in 200 pocket fills, several corrections
	} {
		events := Generate(cat, opt)
		r := replay(t, cat, events)
		f := count(r)
		wantMistakes(t, fmt.Sprintf("%+v", opt), f, len(r.flagged))
		implants, admix := 0, 0
		for _, e := range events {
			if e.Implant != nil {
				implants++
				admix += b2i(Admixture(mrnIndex(e.Implant.MRN)))
			}
		}
		if opt.Patients >= 12 && (implants != opt.Patients || len(f.admixPatients) != admix || admix < opt.Patients/5 || f.undiluted == 0) {
			t.Errorf("%+v: %d implants, admixture patients %d, %d undiluted refills", opt, implants, len(f.admixPatients), f.undiluted)
		}
	}
	for seed := range uint64(30) {
		replay(t, cat, Generate(cat, Options{Seed: seed}))
	}
}

// A long history ends near DefaultEnd, whatever today's date; the default
// one starts on DefaultStart.
func TestGenerateDateRange(t *testing.T) {
	cat := demoCatalog(t)
	for _, tc := range []struct {
		months                   int
		firstFrom, firstTo, last string // first event in [firstFrom, firstTo], last after last
	}{
		{6, "2026-01-05", "2026-01-09", "2026-06-15"},
		{10, "2026-01-02", "2026-01-09", "2026-10-01"},
		{24, "2024-11-02", "2024-11-08", "2026-10-01"},
		{60, "2021-11-02", "2021-11-08", "2026-10-01"},
	} {
		events := Generate(cat, Options{Months: tc.months, Patients: 10})
		var first, last string
		for _, e := range events {
			var d string
			switch {
			case e.Refill != nil:
				d = e.Refill.PerformedAt.Date()
			case e.Reprogram != nil:
				d = e.Reprogram.PerformedAt.Date()
			default:
				continue
			}
			if first == "" {
				first = d
			}
			last = d
		}
		if first < tc.firstFrom || first > tc.firstTo || last < tc.last || last >= DefaultEnd.Format(time.DateOnly) && tc.months > 6 {
			t.Errorf("%d months: first %s, last %s", tc.months, first, last)
		}
	}
}

// 2000 patients over 24 months, generated quickly, every patient implanted
// and the mistakes in proportion (its replay is left to the smaller ones).
func TestGenerateLarge(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a large history: run without -short and -race")
	}
	cat := demoCatalog(t)
	start := time.Now()
	events := Generate(cat, Options{Patients: 2000, Months: 24, Seed: 1})
	took := time.Since(start)
	var implants, refills, pockets, unders, corrections int
	admix := map[string]bool{}
	for _, e := range events {
		switch {
		case e.Implant != nil:
			implants++
		case e.Refill != nil:
			refills++
			pockets += b2i(strings.HasPrefix(e.Refill.Note, NotePocketFill))
			unders += b2i(strings.HasPrefix(e.Refill.Note, NoteUnderDelivery))
			if len(e.Refill.Solution) > 1 {
				admix[e.Refill.MRN] = true
			}
		case e.Correction != nil:
			corrections++
		}
	}
	if implants != 2000 || len(admix) != 400 || pockets < refills/250 || pockets > refills/PocketFillEvery || unders != 1 || corrections < refills/1250 {
		t.Errorf("%d implants, %d admixture patients, %d refills: %d pocket fills, %d under-deliveries, %d corrections", implants, len(admix), refills, pockets, unders, corrections)
	}
	t.Logf("%d events (%d refills) in %v", len(events), refills, took)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestGenerateDeterministic(t *testing.T) {
	cat := demoCatalog(t)
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
	e := marshal(t, Generate(cat, Options{Seed: 42, Patients: 100, Months: 24}))
	if f := marshal(t, Generate(cat, Options{Seed: 42, Patients: 100, Months: 24})); !bytes.Equal(e, f) {
		t.Fatal("the same seed gave different long histories")
	}
}

// The demo's catalog is the one it was given plus two synthetic morphine
// containers, said to be synthetic, the same bytes every time.
func TestWithMorphine(t *testing.T) {
	b, err := WithMorphine(catalog.DefaultJSON())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := WithMorphine(catalog.DefaultJSON())
	if !bytes.Equal(b, again) {
		t.Error("WithMorphine is not deterministic")
	}
	cat, err := catalog.Load(bytes.NewReader(b), "demo")
	if err != nil {
		t.Fatal(err)
	}
	def := catalog.Default()
	ps := cat.ProductsOf("morphine")
	if LacksMorphine(cat) || len(ps) != 2 || len(cat.Products) != len(def.Products)+2 || len(cat.Drugs) != len(def.Drugs) || len(cat.Pumps) != len(def.Pumps) {
		t.Fatalf("demo catalog: %d products (%d morphine), %d drugs", len(cat.Products), len(ps), len(cat.Drugs))
	}
	for _, p := range ps {
		if p.NDC.Labeler != "99999" || !strings.HasPrefix(p.Source, "SYNTHETIC, DEMO ONLY") || !strings.Contains(p.Labeler, "SYNTHETIC") {
			t.Errorf("morphine product %s (%s) is not marked synthetic: %s", p.Printed, p.Labeler, p.Source)
		}
	}
	if !strings.Contains(string(b), `"about": "DEMO CATALOG`) {
		t.Error("the demo catalog does not say what it is")
	}
	// The demo's coverage and diagnoses need the payer profiles and the list.
	if !reflect.DeepEqual(cat.Payers(), def.Payers()) || !reflect.DeepEqual(cat.Diagnoses(), def.Diagnoses()) ||
		cat.DiagnosesSource() != def.DiagnosesSource() || len(def.Payers()) == 0 || len(def.Diagnoses()) == 0 {
		t.Errorf("demo catalog: payers %v, %d diagnoses; want those of the embedded catalog", cat.PayerIDs(), len(cat.Diagnoses()))
	}
	if _, err := WithMorphine([]byte("not json")); err == nil {
		t.Error("WithMorphine accepted a broken catalog")
	}
}

func TestGenerateUntil(t *testing.T) {
	cat := demoCatalog(t)
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
	events := Generate(demoCatalog(t), Options{})
	s := Summary(events)
	for _, want := range []string{"5 synthetic patients (MRN-1001 to MRN-1005)", "5 pumps", "reprogrammings", "undiluted 25 mcg/mL refills",
		"admixture refills of ziconotide with morphine for 1 patient", "2 refills have a deliberate residual discrepancy", "under-delivery",
		"One refill was recorded with a misread residual and then corrected"} {
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
