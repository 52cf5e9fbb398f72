// Package demo generates a realistic, entirely synthetic history of a
// ziconotide pump clinic: patients with pumps of every model labelled for
// ziconotide, a naive first fill with its rinse (25 mcg/mL undiluted, as the
// label asks), titration by reprogramming, refills every few weeks
// diluted from stronger vials, undiluted 25 mcg/mL refills once a patient's
// dose is stable, admixtures of ziconotide and preservative-free morphine,
// the waste the least-waste vial plans leave, a few deliberate residual
// discrepancies for the user to find, and a refill recorded with a misread
// residual and then corrected. The same options give byte-identical events;
// nothing here touches storage, the clock or the operating system's time
// zones.
//
// Every refill it generates passes refill.Derive when the events are replayed
// in order (the package's tests replay them as a ledger would).
package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
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

// Event is one entry to record, exactly one of its pointers set (the one Kind
// names).
type Event struct {
	Kind       pumpledger.Kind
	Patient    *pumpledger.Patient
	Implant    *pumpledger.Implant
	Refill     *pumpledger.Refill
	Reprogram  *pumpledger.Reprogram
	Correction *Correction
	// Record is a clinical record (a pointer to one of pumpledger's
	// clinical kinds' types), when Options.Records asks for them.
	Record any

	reviews *pumpledger.Refill // the refill a Review reviews, whose id it takes
}

// Correction voids a refill recorded with a mistake and records the right
// refill in its place (ledger.DB.Correct with a replacement refill).
type Correction struct {
	Voids  string             // id of the refill voided (an earlier event's)
	Reason string             // why, for the auditor
	By     string             // who corrects it: the refill's nurse
	At     pumpledger.Instant // when, shortly after the refill
	Refill *pumpledger.Refill // the replacement: the refill as it should have been recorded

	of *pumpledger.Refill // the refill voided, whose id Voids becomes
}

// Defaults and limits of Options.
const (
	DefaultPatients = 5
	DefaultMonths   = 6
	MaxPatients     = 20000
	MaxMonths       = 120
)

// DefaultStart is the first day of the default history: Monday 5 January
// 2026, 09:00 in the demo clinic's US Eastern wall clock (UTC−05:00).
var DefaultStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.FixedZone("", -5*3600))

// DefaultEnd is where a long history ends: Monday 2 November 2026. A history
// starts at DefaultStart, or earlier when it would otherwise run past
// DefaultEnd: Options.Months before DefaultEnd. The start never depends on
// today's date, so the same options give the same events on any day.
var DefaultEnd = time.Date(2026, 11, 2, 9, 0, 0, 0, time.FixedZone("", -5*3600))

// Options shape the history. The zero value gives the default history.
type Options struct {
	Patients int       // patients, each with one pump; 0 = DefaultPatients, at most MaxPatients
	Months   int       // length of the history; 0 = DefaultMonths, at most MaxMonths
	Seed     uint64    // same seed, same events
	Start    time.Time // first day; zero = DefaultStart, or Months before DefaultEnd if earlier
	// Until, if set, drops every event after it: a ledger refuses entries in
	// the future, so a caller recording the events passes its clock here.
	Until time.Time
	// Records adds each patient's clinical record (records.go): birth date,
	// sex and address, diagnoses, coverage, prior therapies, trial,
	// consent, authorizations and assessments.
	Records bool
}

// Notes that begin the refills whose residual was made deliberately far from
// the expected one, so that the demo shows flagged discrepancies: less left
// than expected (a pocket fill), and more (under-delivery).
const (
	NotePocketFill    = "DEMO DISCREPANCY:"
	NoteUnderDelivery = "DEMO UNDER-DELIVERY:"
)

// How often the deliberate mistakes come: one pocket-fill-like discrepancy
// per PocketFillEvery refills (at least one), one under-delivery, and one
// corrected misread residual per CorrectionEvery refills (at least one),
// these two in a history of at least minMistakeRefills refills.
const (
	PocketFillEvery   = 200
	CorrectionEvery   = 1000
	minMistakeRefills = 10
)

// Admixture reports whether the i-th patient (from 0) is on an admixture of
// ziconotide and morphine: one in five, spread over the pump models.
func Admixture(i int) bool { return (i+i/5)%5 == 2 }

// Demo staff: user names, not people.
var (
	nurses    = []string{"demo-rn1", "demo-rn2", "demo-rn3"}
	clinician = "demo-md1"
)

// models is the clinic's mix of pumps, assigned to patients in turn, less
// those the catalog does not label for ziconotide (with the embedded
// catalog, the Prometra: labelled for morphine, baclofen and saline).
var models = []string{"synchromed-ii-20", "prometra-ii-20", "synchromed-ii-40", "synchromed-ii-20", "prometra-ii-40"}

// concentrations (mcg/mL) a diluted fill is made up to, the weakest that
// lasts chosen. The half steps are what a prescriber's arithmetic gives (SPEC
// §6's 7.5 mcg/mL); from 100 mcg/1 mL vials into 20 mL they leave drug in a
// vial, which is discarded (JW).
var concentrations = []string{"5", "7.5", "10", "12.5", "15", "17.5", "20", "22.5", "25", "30", "35", "40", "45", "50", "60", "75", "100"}

// Admixture patients: ziconotide targets stay at or below admixMaxTarget so
// that both drugs fit in the fill; morphine runs at one of morphineDoses
// (mcg/day), the dose programmed in ziconotide and the morphine concentration
// made up at each refill to give that morphine dose at the programmed rate.
var (
	admixMaxTarget = decimal.RequireFromString("9.6")
	morphineDoses  = []string{"1000", "1500", "2000", "2500"}
)

// minUndilutedDays is how long an undiluted fill must last at the patient's
// dose to be worth it: longer than a diluted fill may stay (40 days).
const minUndilutedDays = 45

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
	ten     = decimal.NewFromInt(10)
	dec     = decimal.RequireFromString
	marginM = decimal.NewFromInt(1) // mL kept above the refill threshold at the planned horizon
	idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/pumpledger/pumpledger/demo"))
)

// Random streams besides each patient's own (stream i+1).
const (
	streamMistakes = 0x706f636b6574 // which refills get the deliberate discrepancies and the misread
	streamAdmix    = 1 << 62        // + i: the admixture choices of patient i
)

// setup is what the demo needs from the catalog.
type setup struct {
	drug          vial.Drug
	rinse         []vial.Product // undiluted naive-rinse strength (25 mcg/mL), single-dose: rinse and undiluted fills
	single        []vial.Product // every single-dose ziconotide container: diluted fills
	strongest     decimal.Decimal
	morphine      *vial.Drug     // nil: no admixtures (the catalog lists no morphine container)
	morphProducts []vial.Product // its containers
	pumps         []pump.Model
	stability     int // days a diluted fill may stay (40)
	naiveDays     int // days to the first refill of a naive pump (14)
	undilutedDays int // days an undiluted fill may stay (84); 0: no undiluted refills
	rinseML       decimal.Decimal
	startMax      decimal.Decimal
	stepMax       decimal.Decimal
	maxDose       decimal.Decimal
}

// Check says whether cat has what the demo needs: ziconotide with its label
// (naive rinse, stability days, dose limits), its 25 mcg/mL rinse containers
// and stronger containers to dilute, pump models, and the service codes
// 95990, 62369 and 62368. Generate returns no events when Check fails.
// Morphine containers are optional: without them there are no admixtures
// (see LacksMorphine).
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
	if l.UndilutedRefillDays >= minUndilutedDays {
		s.undilutedDays = l.UndilutedRefillDays
	}
	for _, p := range cat.ProductsOf(drug.Name) {
		if !p.SingleDose {
			continue
		}
		s.single = append(s.single, p)
		if p.MCGPerML.Equal(l.NaiveRinseMCGPerML) {
			s.rinse = append(s.rinse, p)
		}
		s.strongest = decimal.Max(s.strongest, p.MCGPerML)
	}
	if len(s.rinse) == 0 || !s.strongest.GreaterThan(l.NaiveRinseMCGPerML) {
		return nil, fmt.Errorf("the catalog needs single-dose ziconotide containers of %s mcg/mL (the naive rinse) and of a stronger concentration to dilute", l.NaiveRinseMCGPerML)
	}
	if m, ok := cat.Drug("morphine"); ok && len(cat.ProductsOf(m.Name)) > 0 && m.Name != drug.Name {
		s.morphine, s.morphProducts = &m, cat.ProductsOf(m.Name)
	}
	// Only models labelled for ziconotide (and the admixtures' morphine):
	// the clinic keeps to the device × drug matrix (a catalog without one
	// calls no model off-label).
	labelled := func(m pump.Model) bool {
		return !m.OffLabel(drug.Name) && (s.morphine == nil || !m.OffLabel(s.morphine.Name))
	}
	for _, id := range models {
		if m, ok := cat.Pump(id); ok && labelled(m) {
			s.pumps = append(s.pumps, m)
		}
	}
	if len(s.pumps) == 0 {
		for _, m := range cat.Pumps {
			if labelled(m) {
				s.pumps = append(s.pumps, m)
			}
		}
	}
	if len(s.pumps) == 0 {
		return nil, fmt.Errorf("the catalog labels no pump model for ziconotide")
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
// 3 × 2 mL rinse of undiluted 25 mcg/mL, then a fill of undiluted 25 mcg/mL,
// ziconotide alone, first refill within 14 days), then reprogrammings and refills as they fall, and the
// correction of a refill recorded with a misread residual. It returns nil
// when Check(cat) fails.
//
// The history starts at Options.Start, by default DefaultStart or, for a
// history that would run past DefaultEnd, Months before DefaultEnd. Implants
// spread over its first third, up to 9 days apart (several a day for many
// patients).
//
// Doses start at 1.2–2.4 mcg/day and rise in steps of at most 2.4 mcg/day,
// at least a week apart, towards each patient's target (never above the
// label's 19.2); some patients have one reduction. A change planned within 3
// days of a refill is made at the refill (62369), others are reprogrammings
// (62368).
//
// Refills come every 3 to 6 weeks (23 to 39 days, moved earlier off
// weekends), always before the 40-day limit of a diluted fill, before the
// due date the refill's record shows, and with at least 1 mL above the
// pump's refill threshold at the doses planned; each diluted fill's
// concentration is the weakest that lasts, its vials the least-waste
// combination of the single-dose containers the label lets be diluted (not
// the 25 mcg/mL, which is used undiluted; vial.PlanVials), which leaves
// drug to discard (JW) when no combination matches the fill. A patient whose
// dose is stable (no change planned for the label's 84 days) and at whose
// dose an undiluted 25 mcg/mL fill lasts at least 45 days gets undiluted
// refills from the 500 mcg/20 mL vials, each a few days before the fill
// would run low or reach its 84 days.
//
// One patient in five (Admixture) is on ziconotide with preservative-free
// morphine when the catalog lists morphine containers: the dose programmed in
// ziconotide, each fill's morphine concentration made up to a steady 1–2.5
// mg/day at the programmed rate, both drugs from their least-waste vials.
//
// The residual aspirated is the expected one (pump.Reconcile) to 0.1 mL with
// up to ±0.3 mL of noise, except: one refill in PocketFillEvery whose
// residual is well below it (a pocket-fill-like discrepancy, its note
// starting with NotePocketFill), one well above it (under-delivery,
// NoteUnderDelivery), and one in CorrectionEvery recorded with 10 mL too much
// (a misread syringe, which the discrepancy warning shows) and corrected by
// its nurse half an hour later (KindCorrection).
//
// Times are on the clinic's US Eastern wall clock with its daylight-saving
// offsets (UTC−05:00, UTC−04:00 from the second Sunday of March to the first
// Sunday of November), written as fixed offsets; visits fall on weekdays
// between 08:00 and 15:30, corrections before 16:30. IDs are UUIDs (version
// 5) of the seed and the event's position.
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
		if early := DefaultEnd.AddDate(0, -opt.Months, 0); early.Before(opt.Start) {
			opt.Start = early
		}
	}
	g := &gen{s: s, cat: cat, opt: opt, plans: map[planKey]planResult{}}
	startDay := civil(opt.Start)
	g.end = startDay.AddDate(0, opt.Months, 0)
	// Implants spread over the first third of the history, up to 9 days
	// apart; when there are more patients than days, several a day.
	span := max(1, int(g.end.Sub(startDay).Hours()/24)/3)
	gap := min(9, max(1, span/opt.Patients))
	for i := range opt.Patients {
		offset := i * gap
		if opt.Patients > span {
			offset = i * span / opt.Patients
		}
		g.patient(i, startDay.AddDate(0, 0, offset))
	}
	g.mistakes(rand.New(rand.NewPCG(opt.Seed, streamMistakes)))
	if opt.Records {
		g.billingGaps()
	}

	slices.SortStableFunc(g.items, func(a, b item) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if a.patient != b.patient {
			return a.patient - b.patient
		}
		return a.order - b.order
	})
	var out []Event
	n, records := 0, 0 // ids of the clinical records are counted apart: the others' stay as without them
	for _, it := range g.items {
		if !opt.Until.IsZero() && it.at.After(opt.Until) {
			continue
		}
		if it.ev.Record != nil {
			if rv, ok := it.ev.Record.(*pumpledger.Review); ok && it.ev.reviews != nil {
				rv.Refill = it.ev.reviews.ID // the refill came before it and has its id
			}
			setRecordID(it.ev.Record, uuid.NewSHA1(idSpace, fmt.Appendf(nil, "%d/r%d", opt.Seed, records)).String())
			records++
			out = append(out, it.ev)
			continue
		}
		id := uuid.NewSHA1(idSpace, fmt.Appendf(nil, "%d/%d", opt.Seed, n)).String()
		n++
		switch {
		case it.ev.Refill != nil:
			it.ev.Refill.ID = id
		case it.ev.Reprogram != nil:
			it.ev.Reprogram.ID = id
		case it.ev.Correction != nil:
			// The refill it voids came before it and has its id.
			it.ev.Correction.Voids = it.ev.Correction.of.ID
			it.ev.Correction.Refill.ID = id
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
	fills []*fillInfo // every refill after a pump's first, for the deliberate mistakes
	plans map[planKey]planResult
}

type item struct {
	at      time.Time
	patient int
	order   int // patient, implant, fill at the same instant
	ev      Event
}

type fillInfo struct {
	r         *pumpledger.Refill
	patient   int
	expected  decimal.Decimal
	threshold decimal.Decimal
	lastML    decimal.Decimal // what the previous fill put in the reservoir
}

// change is one planned dose, from its day on.
type change struct {
	day  time.Time // civil day (UTC midnight)
	dose decimal.Decimal
	note string
}

// Product sets a fill is planned from.
const (
	setRinse    = iota // the 25 mcg/mL containers: naive first fills (rinse first) and undiluted fills
	setSingle          // every single-dose ziconotide container: diluted fills
	setMorphine        // morphine containers
)

type planKey struct {
	set               int
	conc, fill, rinse string
}

type planResult struct {
	plan vial.Plan
	err  error
}

// plan is vial.PlanVials of a product set, remembered: a large history asks
// the same few questions tens of thousands of times.
func (g *gen) plan(set int, conc, fill, rinse decimal.Decimal) (vial.Plan, error) {
	k := planKey{set, conc.String(), fill.String(), rinse.String()}
	if r, ok := g.plans[k]; ok {
		return r.plan, r.err
	}
	// A diluted fill never dilutes a strength the label uses undiluted
	// (ziconotide 25 mcg/mL).
	products := vial.LabelProducts(g.s.drug.Label, g.s.single, conc, false)
	switch set {
	case setRinse:
		products = g.s.rinse
	case setMorphine:
		products = g.s.morphProducts
	}
	p, err := vial.PlanVials(products, conc, fill, rinse)
	g.plans[k] = planResult{p, err}
	return p, err
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
	admix := s.morphine != nil && Admixture(i)
	maxTarget := s.maxDose
	var morphDay decimal.Decimal // morphine mcg/day of an admixture
	if admix {
		// Their own stream: the other patients' histories do not depend on
		// whether the catalog has morphine.
		xrng := rand.New(rand.NewPCG(g.opt.Seed, streamAdmix+uint64(i)))
		morphDay = dec(morphineDoses[xrng.IntN(len(morphineDoses))])
		maxTarget = decimal.Min(maxTarget, admixMaxTarget)
	}
	plan := g.titration(rng, implantDay, maxTarget)
	firstAt := clinicTime(implantDay, 10*60+30*rng.IntN(8))
	reg := &pumpledger.Patient{MRN: mrn, Name: fmt.Sprintf("Demo Patient %02d", i+1)}
	var visits []time.Time // the refill visits, for the assessments
	if g.opt.Records {
		defer func() { g.records(i, reg, implantDay, firstAt, visits) }()
	}
	g.items = append(g.items,
		item{at: firstAt, patient: i, order: 0, ev: Event{Kind: pumpledger.KindPatient, Patient: reg}},
		item{at: firstAt, patient: i, order: 1, ev: Event{Kind: pumpledger.KindImplant, Implant: &pumpledger.Implant{MRN: mrn, Serial: serial, Model: m.ID, Date: implantDay.Format(time.DateOnly)}}})

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
		// The fill: naive (rinse, 14 days), undiluted (stable dose), or
		// diluted, with morphine for an admixture patient.
		undiluted, horizon := false, s.stability
		set, most := setSingle, s.strongest
		switch {
		case naive:
			horizon, set, most = s.naiveDays, setRinse, s.drug.Label.NaiveRinseMCGPerML
			r.RinseML = s.rinseML
			r.Note = fmt.Sprintf("First fill at implant: pump rinsed with 3 × 2 mL of undiluted %s mcg/mL ziconotide, each discarded.", s.drug.Label.NaiveRinseMCGPerML)
		case !admix && s.undilutedDays > 0 && stable(plan, day, s.undilutedDays):
			if n := lasts(plan, day, s.drug.Label.NaiveRinseMCGPerML, m, s.undilutedDays); n >= minUndilutedDays {
				undiluted, horizon, set = true, n, setRinse
			}
		}
		// A naive pump's first fill is the label's: the rinse strength
		// undiluted, ziconotide alone (an admixture's morphine comes at the
		// next refill).
		conc := s.drug.Label.NaiveRinseMCGPerML
		if !undiluted && !naive {
			conc = g.concentration(plan, day, horizon, m, most)
		}
		if !g.makeUp(r, set, conc, admix && !naive, morphDay, day) {
			return // cannot happen with the checked catalog and the admixture limits (tested)
		}
		if undiluted {
			r.Note = joinNote(r.Note, fmt.Sprintf("Stable dose: undiluted %s mcg/mL, which keeps %d days.", conc, s.undilutedDays))
		}
		if last != nil {
			iv, err := pump.Reconcile(*last, changes, at.UTC(), zero, m.DiscrepancyML)
			if err != nil {
				return
			}
			noise := decimal.NewFromInt(int64(rng.IntN(7) - 3)).Mul(tenth)
			res := iv.ExpectedResidualML.Round(1).Add(noise)
			r.ResidualML = decimal.Min(decimal.Max(res, zero), m.ReservoirML)
			g.fills = append(g.fills, &fillInfo{r: r, patient: i, expected: iv.ExpectedResidualML, threshold: m.DiscrepancyML, lastML: last.ML})
		}
		g.items = append(g.items, item{at: at, patient: i, order: 2, ev: Event{Kind: pumpledger.KindRefill, Refill: r}})
		visits = append(visits, at)
		fill := refill.FillOf(g.cat, *r)
		last, changes = &fill, nil

		// The next refill: within the naive limit; for an undiluted fill a
		// few days before it runs low (or its 84 days); else every 3 to 6
		// weeks before the stability limit. Moved to the Friday before a
		// weekend, and earlier still if the reservoir would near its
		// threshold or the fill pass its due date.
		var next time.Time
		switch {
		case naive:
			next = day.AddDate(0, 0, s.naiveDays-4+rng.IntN(4))
		case undiluted:
			next = day.AddDate(0, 0, max(23, horizon-2-rng.IntN(12)))
		default:
			next = day.AddDate(0, 0, 23+rng.IntN(min(42, s.stability)-23))
		}
		next = weekdayOnOrBefore(next)
		nextAt := clinicTime(next, 8*60+30*rng.IntN(16))
		// The record's due date counts the fill's dose only; a planned
		// reduction must not make the visit look late.
		stab, _ := refill.StabilityDays(g.cat, *r, map[string]bool{s.drug.Name: !naive})
		dueAt, _, _ := pump.NextRefill(fill, alarm(m), stab)
		for next.Sub(day) > 7*24*time.Hour {
			iv, err := pump.Reconcile(fill, g.plannedChanges(plan, day, next), nextAt.UTC(), zero, m.DiscrepancyML)
			if err == nil && iv.ExpectedResidualML.GreaterThanOrEqual(alarm(m).Add(marginM)) && nextAt.Before(dueAt) {
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
			g.items = append(g.items, item{at: pat, patient: i, order: 2, ev: Event{Kind: pumpledger.KindReprogram, Reprogram: rp}})
			changes = append(changes, pump.DoseChange{At: pat.UTC(), Drug: s.drug.Name, MCGPerDay: c.dose})
		}
		if !next.Before(g.end) {
			return
		}
		day, at, naive = next, nextAt, false
	}
}

// makeUp sets the refill's solution, vials and diluent: ziconotide at conc
// from the least-waste plan of the product set (after the rinse, if any),
// and for an admixture morphine at the concentration that gives morphDay
// mcg/day at the programmed rate, from its least-waste plan. If the two do
// not fit in the fill together, the morphine is made weaker (a quarter at a
// time). It reports false when no plan gives the fill.
func (g *gen) makeUp(r *pumpledger.Refill, set int, conc decimal.Decimal, admix bool, morphDay decimal.Decimal, day time.Time) bool {
	s := g.s
	zp, err := g.plan(set, conc, r.FillML, r.RinseML)
	if err != nil {
		return false
	}
	r.Solution = []pumpledger.SolutionDrug{{Drug: s.drug.Name, MCGPerML: conc}}
	r.Vials = nil
	for _, it := range zp.Items {
		r.Vials = append(r.Vials, pumpledger.VialUse{NDC: it.Product.Printed, Count: it.Count, Lot: lot(it.Product, day), Expires: expiry(day)})
	}
	r.DiluentML = zp.DiluentML
	if !admix {
		return true
	}
	hundred := decimal.NewFromInt(100)
	for q := 4; q > 0; q-- {
		// mcg/mL = mcg/day ÷ (mL/day), mL/day = dose ÷ conc; to 0.1 mg/mL.
		want := morphDay.Mul(decimal.NewFromInt(int64(q))).Mul(conc).Div(r.Dose.MCGPerDay.Mul(decimal.NewFromInt(4))).Round(-2)
		want = decimal.Max(want, hundred)
		mp, err := g.plan(setMorphine, want, r.FillML, zero)
		if err != nil || zp.DrugML.Add(mp.DrugML).GreaterThan(r.FillML) {
			continue
		}
		r.Solution = append(r.Solution, pumpledger.SolutionDrug{Drug: s.morphine.Name, MCGPerML: want})
		for _, it := range mp.Items {
			r.Vials = append(r.Vials, pumpledger.VialUse{NDC: it.Product.Printed, Count: it.Count, Lot: lot(it.Product, day), Expires: expiry(day)})
		}
		r.DiluentML = r.FillML.Sub(zp.DrugML).Sub(mp.DrugML)
		return true
	}
	return false
}

// stable reports whether no dose change is planned in the days after day,
// up to days of them.
func stable(plan []change, day time.Time, days int) bool {
	until := day.AddDate(0, 0, days)
	for _, c := range plan {
		if c.day.After(day) && !c.day.After(until) {
			return false
		}
	}
	return true
}

// lasts is how many days (at most most) a full reservoir at conc keeps at
// least 1 mL above the pump's refill threshold at the planned doses, a day
// more counted to err early, as concentration does: one less than the days
// after day whose planned doses first add up to more than it holds.
func lasts(plan []change, day time.Time, conc decimal.Decimal, m pump.Model, most int) int {
	left := conc.Mul(m.ReservoirML.Sub(alarm(m)).Sub(marginM))
	counted := 0
	for _, sg := range segments(plan, day.AddDate(0, 0, 1), most+1) {
		if sg.dose.IsPositive() {
			if fit := left.Div(sg.dose).Floor().IntPart(); fit < int64(sg.days) {
				return counted + int(fit)
			}
		}
		left = left.Sub(sg.dose.Mul(decimal.NewFromInt(int64(sg.days))))
		counted += sg.days
	}
	return most
}

// segment is a run of days at one planned dose.
type segment struct {
	dose decimal.Decimal
	days int
}

// segments are the planned doses of the n days from day on, in runs.
func segments(plan []change, day time.Time, n int) []segment {
	end := day.AddDate(0, 0, n) // first day after
	dose, _, _ := doseOn(plan, day)
	var out []segment
	cur := day
	for _, c := range plan { // in day order
		if !c.day.After(cur) {
			continue
		}
		if !c.day.Before(end) {
			break
		}
		out = append(out, segment{dose, daysBetween(cur, c.day)})
		cur, dose = c.day, c.dose
	}
	return append(out, segment{dose, daysBetween(cur, end)})
}

// daysBetween counts the civil days from a to b (UTC midnights).
func daysBetween(a, b time.Time) int { return int(b.Sub(a).Hours()+0.5) / 24 }

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// titration plans a patient's doses: a start of 1.2–2.4 mcg/day (never above
// the label's starting maximum), then every 7 to 14 days a step of 0.6, 1.2
// or, far from the target, 2.4 mcg/day (never above the label's step) up to
// a target of 3.6–14.4 mcg/day (never above maxTarget); once there, some
// patients have one reduction of 1.2 mcg/day (a side effect) and stay at the
// lower dose.
func (g *gen) titration(rng *rand.Rand, first time.Time, maxTarget decimal.Decimal) []change {
	s := g.s
	start := decimal.Min(dec([]string{"1.2", "1.8", "2.4"}[rng.IntN(3)]), s.startMax)
	target := decimal.Min(dec([]string{"3.6", "4.8", "6", "7.2", "8.4", "9.6", "12", "14.4"}[rng.IntN(8)]), maxTarget)
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
	for _, sg := range segments(plan, day, horizon+1) {
		mcg = mcg.Add(sg.dose.Mul(decimal.NewFromInt(int64(sg.days))))
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

// mistakes makes the deliberate ones, each on a different refill chosen at
// random (at least an hour before Until, so that a correction is not cut
// off): pocket fills (residual well below the expected one, as when drug
// went into the pump pocket at the previous refill), one under-delivery
// (well above it, as when the pump stalls), and misread residuals (10 mL
// too much charted), each corrected by its nurse 30 to 55 minutes later.
func (g *gen) mistakes(rng *rand.Rand) {
	var cands []*fillInfo
	for _, f := range g.fills {
		if !g.opt.Until.IsZero() && f.r.PerformedAt.UTC.After(g.opt.Until.Add(-time.Hour)) {
			continue
		}
		cands = append(cands, f)
	}
	if len(cands) == 0 {
		return
	}
	pockets, under, corrections := max(1, len(cands)/PocketFillEvery), 0, 0
	if len(cands) >= minMistakeRefills {
		under, corrections = 1, max(1, len(cands)/CorrectionEvery)
	}
	for _, k := range rng.Perm(len(cands)) {
		if pockets+under+corrections == 0 {
			return
		}
		f := cands[k]
		switch {
		case pockets > 0 && f.expected.Sub(f.threshold).Sub(dec("0.8")).GreaterThanOrEqual(dec("0.5")):
			low := f.expected.Sub(f.threshold).Sub(dec("0.8")).Sub(decimal.NewFromInt(int64(rng.IntN(6))).Mul(tenth))
			f.r.ResidualML = decimal.Max(low, zero).Round(1)
			f.r.Note = joinNote(NotePocketFill+" the residual aspirated is well below the expected one; the pump pocket was examined for drug "+
				"given into it at the last refill (a synthetic discrepancy, for the demo).", f.r.Note)
			pockets--
		case under > 0 && f.expected.Add(f.threshold).Add(dec("1.3")).LessThanOrEqual(f.lastML):
			high := f.expected.Add(f.threshold).Add(dec("0.8")).Add(decimal.NewFromInt(int64(rng.IntN(6))).Mul(tenth))
			f.r.ResidualML = high.Truncate(1)
			f.r.Note = joinNote(NoteUnderDelivery+" the residual aspirated is well above the expected one; the pump delivered less than "+
				"programmed, and the pump and catheter were evaluated for a stall or an occlusion (a synthetic discrepancy, for the demo).", f.r.Note)
			under--
		case corrections > 0 && f.r.ResidualML.GreaterThanOrEqual(dec("0.5")) && f.r.ResidualML.Add(ten).LessThanOrEqual(f.lastML):
			g.misread(f, rng)
			corrections--
		}
	}
}

// misread records f with 10 mL more residual than was aspirated (a syringe
// misread: 13.4 for 3.4), which the discrepancy warning shows the nurse,
// who corrects it 30 to 55 minutes later with the refill as it was.
func (g *gen) misread(f *fillInfo, rng *rand.Rand) {
	fixed := *f.r
	fixed.Solution = slices.Clone(f.r.Solution)
	fixed.Vials = slices.Clone(f.r.Vials)
	right, wrong := f.r.ResidualML, f.r.ResidualML.Add(ten)
	f.r.ResidualML = wrong
	at := f.r.PerformedAt.UTC.Add(time.Duration(30+rng.IntN(26)) * time.Minute).In(time.FixedZone("", f.r.PerformedAt.Offset))
	g.items = append(g.items, item{at: at, patient: f.patient, order: 3, ev: Event{Kind: pumpledger.KindCorrection, Correction: &Correction{
		Reason: fmt.Sprintf("Residual misread: %s mL was charted, %s mL was aspirated (syringe re-read after the discrepancy warning)", wrong, right),
		By:     f.r.Nurse, At: pumpledger.NewInstant(at), Refill: &fixed, of: f.r}}})
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
	var patients, implants, refills, firsts, reprograms, undiluted, admixRefills int
	var mrns []string
	modelCount := map[string]int{}
	admixPatients := map[string]bool{}
	var first, last string
	var low, high decimal.Decimal
	var pockets, unders, corrected []string
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
			r := e.Refill
			refills++
			switch {
			case r.RinseML.IsPositive():
				firsts++
			case len(r.Solution) == 1 && r.DiluentML.IsZero():
				undiluted++
			}
			if len(r.Solution) > 1 {
				admixRefills++
				admixPatients[r.MRN] = true
			}
			dose(r.Dose.MCGPerDay)
			when(r.PerformedAt)
			at := fmt.Sprintf("%s on %s", r.MRN, r.PerformedAt.Date())
			switch {
			case strings.HasPrefix(r.Note, NotePocketFill):
				pockets = append(pockets, at)
			case strings.HasPrefix(r.Note, NoteUnderDelivery):
				unders = append(unders, at)
			}
		case e.Reprogram != nil:
			reprograms++
			dose(e.Reprogram.Dose.MCGPerDay)
			when(e.Reprogram.PerformedAt)
		case e.Correction != nil && e.Correction.Refill != nil:
			r := e.Correction.Refill
			corrected = append(corrected, fmt.Sprintf("%s on %s", r.MRN, r.PerformedAt.Date()))
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
	fmt.Fprintf(&b, "%d refills and %d reprogrammings, %s to %s: %d first fills of a naive pump, with its rinse; "+
		"%d undiluted 25 mcg/mL refills (stable doses, 84 days); %d admixture refills of ziconotide with morphine for %d %s.\n",
		refills, reprograms, first, last, firsts, undiluted, admixRefills, len(admixPatients), plural(len(admixPatients), "patient", "patients"))
	if refills+reprograms > 0 {
		fmt.Fprintf(&b, "Ziconotide doses from %s to %s mcg/day (admixture doses are programmed in ziconotide).\n", low, high)
	}
	switch n := len(pockets) + len(unders); {
	case n == 1:
		fmt.Fprintf(&b, "One refill has a deliberate residual discrepancy: %s.\n", strings.Join(append(pockets, unders...), ""))
	case n > 1:
		fmt.Fprintf(&b, "%d refills have a deliberate residual discrepancy: %d less left than expected (like a pocket fill: %s)",
			n, len(pockets), list(pockets, 5))
		if len(unders) > 0 {
			fmt.Fprintf(&b, " and %d more (under-delivery: %s)", len(unders), list(unders, 5))
		}
		b.WriteString(".\n")
	}
	switch len(corrected) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "One refill was recorded with a misread residual and then corrected: %s.\n", corrected[0])
	default:
		fmt.Fprintf(&b, "%d refills were recorded with a misread residual and then corrected: %s.\n", len(corrected), list(corrected, 5))
	}
	return b.String()
}

// list joins at most n of xs, saying how many more there are.
func list(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(xs[:n], "; "), len(xs)-n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// EventTime is when an event happened: a visit's time, an implant's date, a
// correction's time; a patient is registered at the time of the event that
// follows it.
func EventTime(events []Event, i int) time.Time {
	for ; i < len(events); i++ {
		ev := events[i]
		switch {
		case ev.Refill != nil:
			return ev.Refill.PerformedAt.UTC
		case ev.Reprogram != nil:
			return ev.Reprogram.PerformedAt.UTC
		case ev.Correction != nil:
			return ev.Correction.At.UTC
		case ev.Implant != nil:
			t, _ := pumpledger.ParseDate(ev.Implant.Date)
			return t
		}
		switch r := ev.Record.(type) {
		case *pumpledger.Assessment:
			return r.At.UTC
		case *pumpledger.Review:
			return r.At.UTC
		}
		// Other records are charted at the implant visit: the next event's
		// time.
	}
	return time.Now() // nothing after it has a time
}
