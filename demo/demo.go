// Package demo generates a realistic, entirely synthetic history of a
// ziconotide pump clinic: patients, implanted pumps, a naive first fill with
// its rinse, titration by reprogramming, refills every few weeks from diluted
// 100 mcg/mL vials, and one deliberate residual discrepancy for the user to
// find. The same options give byte-identical events; nothing here touches
// storage, the clock or the operating system's time zones.
//
// Every refill it generates passes refill.Derive when the events are replayed
// in order (the package's tests replay them as a ledger would).
package demo

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

// Event kinds.
const (
	KindPatient   = "patient"
	KindImplant   = "implant"
	KindRefill    = "refill"
	KindReprogram = "reprogram"
)

// Event is one entry to record, exactly one of its pointers set (the one Kind
// names).
type Event struct {
	Kind      string
	Patient   *pumpledger.Patient
	Implant   *pumpledger.Implant
	Refill    *pumpledger.Refill
	Reprogram *pumpledger.Reprogram
}

// Defaults and limits of Options.
const (
	DefaultPatients = 5
	DefaultMonths   = 6
	MaxPatients     = 20000
	MaxMonths       = 60
)

// DefaultStart is the first day of the default history: Monday 5 January
// 2026, 09:00 in the demo clinic's US Eastern wall clock (UTC−05:00).
var DefaultStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.FixedZone("", -5*3600))

// Options shape the history. The zero value gives the default history.
type Options struct {
	Patients int       // patients, each with one pump; 0 = DefaultPatients, at most MaxPatients
	Months   int       // length of the history; 0 = DefaultMonths, at most MaxMonths
	Seed     uint64    // same seed, same events
	Start    time.Time // first day; zero = DefaultStart
	// Until, if set, drops every event after it: a ledger refuses entries in
	// the future, so a caller recording the events passes its clock here.
	Until time.Time
}

// NotePocketFill begins the note of the refill whose residual was made
// deliberately low, so that the demo shows a flagged discrepancy.
const NotePocketFill = "DEMO DISCREPANCY:"

// Demo staff: user names, not people.
var (
	nurses    = []string{"demo-rn1", "demo-rn2", "demo-rn3"}
	clinician = "demo-md1"
)

// models is the clinic's mix of pumps, assigned to patients in turn.
var models = []string{"synchromed-ii-20", "prometra-ii-20", "synchromed-ii-40", "synchromed-ii-20", "prometra-ii-40"}

// concentrations (mcg/mL) a fill is made up to, smallest that lasts chosen.
var concentrations = []string{"5", "10", "15", "20", "25", "30", "40", "50", "60", "75", "100"}

// Procedures: a refill with no dose change, a refill with reprogramming,
// a reprogramming between refills (CPT, SPEC §4).
const (
	procRefill          = "95990"
	procRefillReprogram = "62369"
	procReprogram       = "62368"
)

var (
	zero    = decimal.Zero
	tenth   = decimal.RequireFromString("0.1")
	dec     = decimal.RequireFromString
	marginM = decimal.NewFromInt(1) // mL kept above the refill threshold at the planned horizon
	idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/pumpledger/pumpledger/demo"))
)

// setup is what the demo needs from the catalog.
type setup struct {
	drug      vial.Drug
	rinse     []vial.Product // undiluted naive-rinse strength (25 mcg/mL)
	refill    []vial.Product // the strongest strength (100 mcg/mL), catalog order
	pumps     []pump.Model
	stability int // days a diluted fill may stay (40)
	naiveDays int // days to the first refill of a naive pump (14)
	rinseML   decimal.Decimal
	startMax  decimal.Decimal
	stepMax   decimal.Decimal
	maxDose   decimal.Decimal
}

// Check says whether cat has what the demo needs: ziconotide with its label
// (naive rinse, stability days, dose limits), its 25 mcg/mL rinse containers
// and stronger containers to dilute, pump models, and the service codes
// 95990, 62369 and 62368. Generate returns no events when Check fails.
func Check(cat *catalog.Catalog) error {
	_, err := load(cat)
	return err
}

func load(cat *catalog.Catalog) (*setup, error) {
	if cat == nil {
		return nil, fmt.Errorf("no catalog")
	}
	drug, ok := cat.Drug("ziconotide")
	if !ok {
		return nil, fmt.Errorf("the catalog has no ziconotide; the demo is a ziconotide clinic")
	}
	l := drug.Label
	if !l.NaiveRinseML.IsPositive() || !l.NaiveRinseMCGPerML.IsPositive() || l.DilutedRefillDays < 22 || l.NaiveRefillDays < 9 ||
		!l.StartMaxMCGPerDay.IsPositive() || !l.StepMaxMCGPerDay.IsPositive() || !l.MaxMCGPerDay.IsPositive() {
		return nil, fmt.Errorf("the catalog's ziconotide label lacks the naive rinse, refill days or dose limits the demo titrates by")
	}
	s := &setup{drug: drug, stability: l.DilutedRefillDays, naiveDays: l.NaiveRefillDays, rinseML: l.NaiveRinseML,
		startMax: l.StartMaxMCGPerDay, stepMax: l.StepMaxMCGPerDay, maxDose: l.MaxMCGPerDay}
	strongest := zero
	for _, p := range cat.ProductsOf(drug.Name) {
		if p.MCGPerML.Equal(l.NaiveRinseMCGPerML) && p.SingleDose {
			s.rinse = append(s.rinse, p)
		}
		strongest = decimal.Max(strongest, p.MCGPerML)
	}
	for _, p := range cat.ProductsOf(drug.Name) {
		if p.MCGPerML.Equal(strongest) && strongest.GreaterThan(l.NaiveRinseMCGPerML) {
			s.refill = append(s.refill, p)
		}
	}
	if len(s.rinse) == 0 || len(s.refill) == 0 {
		return nil, fmt.Errorf("the catalog needs ziconotide containers of %s mcg/mL (the naive rinse) and of a stronger concentration to dilute", l.NaiveRinseMCGPerML)
	}
	for _, id := range models {
		if m, ok := cat.Pump(id); ok {
			s.pumps = append(s.pumps, m)
		}
	}
	if len(s.pumps) == 0 {
		s.pumps = cat.Pumps
	}
	for _, m := range s.pumps {
		if m.ReservoirML.Sub(m.AlarmML).LessThan(dec("5")) {
			return nil, fmt.Errorf("pump model %s leaves less than 5 mL above its refill threshold", m.ID)
		}
	}
	for _, code := range []string{procRefill, procRefillReprogram, procReprogram} {
		if _, ok := cat.Service(code); !ok {
			return nil, fmt.Errorf("the catalog has no service code %s", code)
		}
	}
	return s, nil
}

// Generate returns the synthetic history in chronological order: for each
// patient the registration, the implant, and the pump's first fill (naive:
// 3 × 2 mL rinse of undiluted 25 mcg/mL, then a diluted fill, first refill
// within 14 days), then reprogrammings and refills as they fall. It returns
// nil when Check(cat) fails.
//
// Doses start at 1.2–2.4 mcg/day and rise in steps of at most 2.4 mcg/day,
// at least a week apart, towards each patient's target (never above the
// label's 19.2); some patients have one reduction. A change planned within 3
// days of a refill is made at the refill (62369), others are reprogrammings
// (62368). Refills come every 3 to 6 weeks (23 to 39 days, moved earlier off
// weekends), always before the 40-day limit of a diluted fill, before the
// due date the refill's record shows, and with at least 1 mL above the
// pump's refill threshold at the doses planned; each
// fill's concentration is the weakest that lasts, its vials the least-waste
// combination (vial.PlanVials). The residual aspirated is the expected one
// (pump.Reconcile) to 0.1 mL with up to ±0.3 mL of noise, except one refill
// whose residual is well below it (a pocket-fill-like discrepancy, its note
// starting with NotePocketFill).
//
// Times are on the clinic's US Eastern wall clock with its daylight-saving
// offsets (UTC−05:00, UTC−04:00 from the second Sunday of March to the first
// Sunday of November), written as fixed offsets; visits fall on weekdays
// between 08:00 and 15:30. IDs are UUIDs (version 5) of the seed and the
// event's position.
func Generate(cat *catalog.Catalog, opt Options) []Event {
	s, err := load(cat)
	if err != nil {
		return nil
	}
	if opt.Patients <= 0 {
		opt.Patients = DefaultPatients
	}
	if opt.Months <= 0 {
		opt.Months = DefaultMonths
	}
	opt.Patients = min(opt.Patients, MaxPatients)
	opt.Months = min(opt.Months, MaxMonths)
	if opt.Start.IsZero() {
		opt.Start = DefaultStart
	}
	g := &gen{s: s, cat: cat, opt: opt}
	startDay := civil(opt.Start)
	g.end = startDay.AddDate(0, opt.Months, 0)
	// Implants spread over the first third of the history, a week or so apart.
	span := max(1, int(g.end.Sub(startDay).Hours()/24)/3)
	gap := min(9, max(1, span/opt.Patients))
	for i := range opt.Patients {
		g.patient(i, startDay.AddDate(0, 0, i*gap))
	}
	g.pocketFill(rand.New(rand.NewPCG(opt.Seed, 0x706f636b6574)))

	sort.SliceStable(g.items, func(i, j int) bool {
		a, b := g.items[i], g.items[j]
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		if a.patient != b.patient {
			return a.patient < b.patient
		}
		return a.order < b.order
	})
	var out []Event
	for _, it := range g.items {
		if !opt.Until.IsZero() && it.at.After(opt.Until) {
			continue
		}
		id := uuid.NewSHA1(idSpace, fmt.Appendf(nil, "%d/%d", opt.Seed, len(out))).String()
		switch {
		case it.ev.Refill != nil:
			it.ev.Refill.ID = id
		case it.ev.Reprogram != nil:
			it.ev.Reprogram.ID = id
		}
		out = append(out, it.ev)
	}
	return out
}

type gen struct {
	s     *setup
	cat   *catalog.Catalog
	opt   Options
	end   time.Time // first day after the history
	items []item
	fills []*fillInfo // every refill after a pump's first, for the discrepancy
}

type item struct {
	at      time.Time
	patient int
	order   int // patient, implant, fill at the same instant
	ev      Event
}

type fillInfo struct {
	r         *pumpledger.Refill
	expected  decimal.Decimal
	threshold decimal.Decimal
}

// change is one planned dose, from its day on.
type change struct {
	day  time.Time // civil day (UTC midnight)
	dose decimal.Decimal
	note string
}

func (g *gen) patient(i int, implantDay time.Time) {
	s := g.s
	rng := rand.New(rand.NewPCG(g.opt.Seed, uint64(i)+1))
	mrn := fmt.Sprintf("MRN-%d", 1001+i)
	m := s.pumps[i%len(s.pumps)]
	serial := fmt.Sprintf("DEMO-SN%04d", 1001+i)
	implantDay = weekdayOnOrAfter(implantDay.AddDate(0, 0, rng.IntN(3)))
	if !implantDay.Before(g.end) {
		return
	}
	plan := g.titration(rng, implantDay)
	firstAt := clinicTime(implantDay, 10*60+30*rng.IntN(8))
	g.items = append(g.items,
		item{at: firstAt, patient: i, order: 0, ev: Event{Kind: KindPatient, Patient: &pumpledger.Patient{MRN: mrn, Name: fmt.Sprintf("Demo Patient %02d", i+1)}}},
		item{at: firstAt, patient: i, order: 1, ev: Event{Kind: KindImplant, Implant: &pumpledger.Implant{MRN: mrn, Serial: serial, Model: m.ID, Date: implantDay.Format(time.DateOnly)}}})

	var last *pump.Fill
	var changes []pump.DoseChange
	day, at := implantDay, firstAt
	naive := true
	for {
		dose, changed, note := doseOn(plan, day)
		nurse := nurses[rng.IntN(len(nurses))]
		witness := nurses[(indexOf(nurses, nurse)+1+rng.IntN(len(nurses)-1))%len(nurses)]
		r := &pumpledger.Refill{MRN: mrn, PumpSerial: serial, PerformedAt: pumpledger.NewInstant(at), Nurse: nurse, Witness: witness,
			FillML: m.ReservoirML, Dose: pumpledger.Dose{Drug: s.drug.Name, MCGPerDay: dose}, Procedure: procRefill, Note: note}
		if changed && !naive {
			r.Procedure = procRefillReprogram
		}
		horizon := s.stability
		products := s.refill
		if naive {
			horizon = s.naiveDays
			products = s.rinse
			r.RinseML = s.rinseML
			r.Note = fmt.Sprintf("First fill at implant: pump rinsed with 3 × 2 mL of undiluted %s mcg/mL ziconotide, each discarded.", s.drug.Label.NaiveRinseMCGPerML)
		}
		conc := g.concentration(plan, day, horizon, m, products[0].MCGPerML)
		r.Solution = []pumpledger.SolutionDrug{{Drug: s.drug.Name, MCGPerML: conc}}
		p, err := vial.PlanVials(products, conc, r.FillML, r.RinseML)
		if err != nil {
			return // cannot happen with the checked catalog: every concentration is at most the containers'
		}
		for _, it := range p.Items {
			r.Vials = append(r.Vials, pumpledger.VialUse{NDC: it.Product.Printed, Count: it.Count, Lot: lot(it.Product, day), Expires: expiry(day)})
		}
		r.DiluentML = p.DiluentML
		if last != nil {
			iv, err := pump.Reconcile(*last, changes, at.UTC(), zero, m.DiscrepancyML)
			if err != nil {
				return
			}
			noise := decimal.NewFromInt(int64(rng.IntN(7) - 3)).Mul(tenth)
			res := iv.ExpectedResidualML.Round(1).Add(noise)
			r.ResidualML = decimal.Min(decimal.Max(res, zero), m.ReservoirML)
			g.fills = append(g.fills, &fillInfo{r: r, expected: iv.ExpectedResidualML, threshold: m.DiscrepancyML})
		}
		g.items = append(g.items, item{at: at, patient: i, order: 2, ev: Event{Kind: KindRefill, Refill: r}})
		fill := refill.FillOf(g.cat, *r)
		last, changes = &fill, nil

		// The next refill: within the naive limit, else every 3 to 6 weeks
		// before the stability limit, moved to the Friday before a weekend,
		// and earlier still if the reservoir would near its threshold.
		var next time.Time
		if naive {
			next = day.AddDate(0, 0, s.naiveDays-4+rng.IntN(4))
		} else {
			next = day.AddDate(0, 0, 23+rng.IntN(min(42, s.stability)-23))
		}
		next = weekdayOnOrBefore(next)
		nextAt := clinicTime(next, 8*60+30*rng.IntN(16))
		// The record's due date counts the fill's dose only; a planned
		// reduction must not make the visit look late.
		stab := s.stability
		if naive {
			stab = s.naiveDays
		}
		due, _ := pump.NextRefill(fill, alarm(m), stab)
		for next.Sub(day) > 7*24*time.Hour {
			iv, err := pump.Reconcile(fill, g.plannedChanges(plan, day, next), nextAt.UTC(), zero, m.DiscrepancyML)
			if err == nil && iv.ExpectedResidualML.GreaterThanOrEqual(alarm(m).Add(marginM)) && nextAt.Before(due.At) {
				break
			}
			next = weekdayOnOrBefore(next.AddDate(0, 0, -1))
			nextAt = clinicTime(next, 8*60+30*rng.IntN(16))
		}
		// A dose change planned within 3 days of the next refill is made at
		// it (the patient is seen then); changes stay at least 4 days apart,
		// the label's 24 hours and 3 increases a week with room to spare.
		if next.Before(g.end) {
			for k := range plan {
				if c := plan[k].day; c.After(day) && c.Sub(next).Abs() <= 3*24*time.Hour {
					plan[k].day = next
				}
			}
		}
		// Dose changes strictly between the two visits are reprogrammings;
		// one on the day of the next refill is made at that refill.
		for _, c := range plan {
			if !c.day.After(day) || !c.day.Before(next) || !c.day.Before(g.end) {
				continue
			}
			pat := clinicTime(c.day, 8*60+30*rng.IntN(16))
			rp := &pumpledger.Reprogram{MRN: mrn, PumpSerial: serial, PerformedAt: pumpledger.NewInstant(pat), Clinician: clinician,
				Dose: pumpledger.Dose{Drug: s.drug.Name, MCGPerDay: c.dose}, Procedure: procReprogram, Note: c.note}
			g.items = append(g.items, item{at: pat, patient: i, order: 2, ev: Event{Kind: KindReprogram, Reprogram: rp}})
			changes = append(changes, pump.DoseChange{At: pat.UTC(), Drug: s.drug.Name, MCGPerDay: c.dose})
		}
		if !next.Before(g.end) {
			return
		}
		day, at, naive = next, nextAt, false
	}
}

// titration plans a patient's doses: a start of 1.2–2.4 mcg/day (never above
// the label's starting maximum), then every 7 to 14 days a step of 0.6, 1.2
// or, far from the target, 2.4 mcg/day (never above the label's step) up to
// a target of 3.6–14.4 mcg/day (never above the label maximum); once there,
// some patients have one reduction of 1.2 mcg/day (a side effect) and stay
// at the lower dose.
func (g *gen) titration(rng *rand.Rand, first time.Time) []change {
	s := g.s
	start := decimal.Min(dec([]string{"1.2", "1.8", "2.4"}[rng.IntN(3)]), s.startMax)
	target := decimal.Min(dec([]string{"3.6", "4.8", "6", "7.2", "8.4", "9.6", "12", "14.4"}[rng.IntN(8)]), s.maxDose)
	plan := []change{{day: first, dose: start, note: ""}}
	cur, day, reduced := start, first, false
	for {
		day = weekdayOnOrAfter(day.AddDate(0, 0, 7+rng.IntN(8)))
		if !day.Before(g.end) {
			return plan
		}
		switch {
		case cur.LessThan(target):
			step := dec([]string{"0.6", "1.2", "1.2"}[rng.IntN(3)])
			if target.Sub(cur).GreaterThanOrEqual(dec("4.8")) && rng.IntN(2) == 0 {
				step = dec("2.4")
			}
			next := decimal.Min(decimal.Min(cur.Add(decimal.Min(step, s.stepMax)), target), s.maxDose)
			plan = append(plan, change{day: day, dose: next, note: fmt.Sprintf("Titration: %s to %s mcg/day; tolerating well.", cur, next)})
			cur = next
		case !reduced && rng.IntN(3) == 0 && cur.GreaterThan(dec("2.4")):
			next := cur.Sub(dec("1.2"))
			plan = append(plan, change{day: day, dose: next, note: fmt.Sprintf("Dose reduced from %s to %s mcg/day for dizziness.", cur, next)})
			cur, reduced, target = next, true, next // stays there
		}
	}
}

// doseOn is the planned dose on day, whether it changes that day, and the
// change's note.
func doseOn(plan []change, day time.Time) (decimal.Decimal, bool, string) {
	dose, changed, note := plan[0].dose, false, ""
	for _, c := range plan {
		if c.day.After(day) {
			break
		}
		dose, changed, note = c.dose, c.day.Equal(day), c.note
	}
	if !changed {
		note = ""
	}
	return dose, changed, note
}

// plannedChanges are the planned changes strictly between two visit days, at
// the earliest clinic time of their day: more drug delivered, so the check
// of the reservoir errs early.
func (g *gen) plannedChanges(plan []change, from, to time.Time) []pump.DoseChange {
	var out []pump.DoseChange
	for _, c := range plan {
		if c.day.After(from) && c.day.Before(to) {
			out = append(out, pump.DoseChange{At: clinicTime(c.day, 8*60).UTC(), Drug: g.s.drug.Name, MCGPerDay: c.dose})
		}
	}
	return out
}

// concentration is the weakest of the usual concentrations (at most the
// containers' own) at which a full reservoir, at the planned doses, stays at
// least 1 mL above the pump's refill threshold for horizon days.
func (g *gen) concentration(plan []change, day time.Time, horizon int, m pump.Model, most decimal.Decimal) decimal.Decimal {
	mcg := zero // planned mcg over the horizon, a day more to err high
	for k := 0; k <= horizon; k++ {
		d, _, _ := doseOn(plan, day.AddDate(0, 0, k))
		mcg = mcg.Add(d)
	}
	usable := m.ReservoirML.Sub(alarm(m)).Sub(marginM)
	for _, c := range concentrations {
		conc := dec(c)
		if conc.GreaterThan(most) {
			break
		}
		if mcg.LessThanOrEqual(conc.Mul(usable)) {
			return conc
		}
	}
	return most
}

// pocketFill lowers the residual of one refill well below the expected one,
// as when drug went into the pump pocket at the previous refill.
func (g *gen) pocketFill(rng *rand.Rand) {
	var cands []*fillInfo
	for _, f := range g.fills {
		if !g.opt.Until.IsZero() && f.r.PerformedAt.UTC.After(g.opt.Until) {
			continue
		}
		if f.expected.Sub(f.threshold).Sub(dec("0.8")).GreaterThanOrEqual(dec("0.5")) {
			cands = append(cands, f)
		}
	}
	if len(cands) == 0 {
		return
	}
	f := cands[rng.IntN(len(cands))]
	low := f.expected.Sub(f.threshold).Sub(dec("0.8")).Sub(decimal.NewFromInt(int64(rng.IntN(6))).Mul(tenth))
	f.r.ResidualML = decimal.Max(low, zero).Round(1)
	f.r.Note = NotePocketFill + " the residual aspirated is well below the expected one; the pump pocket was examined for drug " +
		"given into it at the last refill (a synthetic discrepancy, for the demo)."
}

func alarm(m pump.Model) decimal.Decimal { return m.AlarmML }

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// lot is a synthetic lot number: the product code and the month of use.
func lot(p vial.Product, day time.Time) string {
	return fmt.Sprintf("DEMO%s%s", p.NDC.Product, day.Format("0601"))
}

// expiry is the end of the month 18 months after the day.
func expiry(day time.Time) string {
	first := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	return first.AddDate(0, 19, -1).Format(time.DateOnly)
}

// civil is the calendar day of t on the clinic's wall clock, as UTC midnight.
func civil(t time.Time) time.Time {
	u := t.UTC()
	// The offset depends on the day; the day on the offset. Clinic hours are
	// far from midnight, so the offset of the UTC day is good enough to pick it.
	local := u.Add(time.Duration(easternOffset(u.Year(), u.Month(), u.Day())) * time.Second)
	return time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
}

// clinicTime is minutes after midnight of day on the clinic's wall clock.
func clinicTime(day time.Time, minutes int) time.Time {
	off := easternOffset(day.Year(), day.Month(), day.Day())
	return time.Date(day.Year(), day.Month(), day.Day(), minutes/60, minutes%60, 0, 0, time.FixedZone("", off))
}

// easternOffset is the US Eastern offset in seconds on a day (after 02:00):
// daylight time (−4 h) from the second Sunday of March to before the first
// Sunday of November, standard time (−5 h) otherwise (US rule since 2007).
func easternOffset(y int, m time.Month, d int) int {
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if !day.Before(nthSunday(y, time.March, 2)) && day.Before(nthSunday(y, time.November, 1)) {
		return -4 * 3600
	}
	return -5 * 3600
}

func nthSunday(y int, m time.Month, n int) time.Time {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	toSunday := (7 - int(first.Weekday())) % 7
	return first.AddDate(0, 0, toSunday+7*(n-1))
}

func weekdayOnOrAfter(day time.Time) time.Time {
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	return day
}

func weekdayOnOrBefore(day time.Time) time.Time {
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, -1)
	}
	return day
}

// Summary says in a few lines what events hold, without patient names.
func Summary(events []Event) string {
	var patients, implants, refills, firsts, reprograms int
	var mrns []string
	modelCount := map[string]int{}
	var first, last string
	var low, high decimal.Decimal
	var flagged []string
	dose := func(d decimal.Decimal) {
		if low.IsZero() || d.LessThan(low) {
			low = d
		}
		high = decimal.Max(high, d)
	}
	when := func(i pumpledger.Instant) {
		if first == "" || i.Date() < first {
			first = i.Date()
		}
		if i.Date() > last {
			last = i.Date()
		}
	}
	for _, e := range events {
		switch {
		case e.Patient != nil:
			patients++
			mrns = append(mrns, e.Patient.MRN)
		case e.Implant != nil:
			implants++
			modelCount[e.Implant.Model]++
		case e.Refill != nil:
			refills++
			if e.Refill.RinseML.IsPositive() {
				firsts++
			}
			dose(e.Refill.Dose.MCGPerDay)
			when(e.Refill.PerformedAt)
			if strings.HasPrefix(e.Refill.Note, NotePocketFill) {
				flagged = append(flagged, fmt.Sprintf("%s on %s", e.Refill.MRN, e.Refill.PerformedAt.Date()))
			}
		case e.Reprogram != nil:
			reprograms++
			dose(e.Reprogram.Dose.MCGPerDay)
			when(e.Reprogram.PerformedAt)
		}
	}
	if len(events) == 0 {
		return "Nothing generated.\n"
	}
	var ms []string
	for id, n := range modelCount {
		ms = append(ms, fmt.Sprintf("%d × %s", n, id))
	}
	sort.Strings(ms)
	sort.Slice(mrns, func(i, j int) bool { // MRN-999 before MRN-1000
		if len(mrns[i]) != len(mrns[j]) {
			return len(mrns[i]) < len(mrns[j])
		}
		return mrns[i] < mrns[j]
	})
	var b strings.Builder
	who := ""
	if len(mrns) > 0 {
		who = fmt.Sprintf(" (%s to %s)", mrns[0], mrns[len(mrns)-1])
	}
	fmt.Fprintf(&b, "%d synthetic patients%s, %d pumps (%s).\n", patients, who, implants, strings.Join(ms, ", "))
	fmt.Fprintf(&b, "%d refills (%d first fills of a naive pump, with its rinse) and %d reprogrammings, %s to %s.\n",
		refills, firsts, reprograms, first, last)
	if refills+reprograms > 0 {
		fmt.Fprintf(&b, "Ziconotide doses from %s to %s mcg/day.\n", low, high)
	}
	switch len(flagged) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "One refill has a deliberate residual discrepancy: %s.\n", flagged[0])
	default:
		fmt.Fprintf(&b, "%d refills have a deliberate residual discrepancy: %s.\n", len(flagged), strings.Join(flagged, "; "))
	}
	return b.String()
}
