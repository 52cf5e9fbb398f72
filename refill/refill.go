// Package refill derives everything one refill visit means from what the
// nurse recorded and what the pump held before: per drug the amounts
// dispensed, rinsed, opened and wasted with their billing units and
// modifiers; the claim lines; the interval since the last fill reconciled
// against the residual aspirated; when the next refill is due; and every
// warning. It is pure: the ledger hands it the pump's history.
package refill

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

// DiluentToleranceML is how far drawn drug plus diluent may be from the fill
// volume (SPEC §7): syringes are read to about 0.1 mL.
var DiluentToleranceML = decimal.RequireFromString("0.1")

// History is what was recorded for the pump before this visit.
type History struct {
	Model   pump.Model
	AlarmML decimal.Decimal // the pump's refill threshold (model's or programmed)
	// Last is the fill this refill replaces; nil for the pump's first fill.
	Last *pump.Fill
	// Changes are the dose changes programmed since Last.
	Changes []pump.DoseChange
	// Doses are every dose ever programmed on the pump (fills and changes), for
	// the label's titration checks.
	Doses []pump.DoseChange
	// Held names the drugs the pump has held before: a pump that has not held a
	// drug is naive to it (rinse, 14-day first refill).
	Held map[string]bool
}

// Record is the derived refill, printed by `refill --json` (SPEC §7).
type Record struct {
	ID               string         `json:"id"`
	Drugs            []DrugFigures  `json:"drugs"`
	Interval         *Interval      `json:"interval"`
	NextRefillDue    *string        `json:"next_refill_due"`
	NextRefillReason string         `json:"next_refill_reason,omitempty"`
	Warnings         []string       `json:"warnings"`
	Lines            []billing.Line `json:"lines"`
	// Work says how each figure was computed, one line each, for the nurse who
	// checks it and the auditor who recomputes it.
	Work []string `json:"work"`
}

// DrugFigures is what one drug of the solution came to: amounts, units and
// modifiers derived from its draw (the drug itself is vial.Drug).
type DrugFigures struct {
	Drug         string          `json:"drug"`
	Code         string          `json:"code"`
	MCGPerML     decimal.Decimal `json:"mcg_per_ml"`
	DispensedMCG decimal.Decimal `json:"dispensed_mcg"`
	RinseMCG     decimal.Decimal `json:"rinse_mcg"`
	OpenedMCG    decimal.Decimal `json:"opened_mcg"`
	WasteMCG     decimal.Decimal `json:"waste_mcg"`
	// KeptMCG is what is left in multi-dose containers: not waste, not billed.
	KeptMCG    decimal.Decimal `json:"kept_mcg,omitzero"`
	Units      int64           `json:"units"`
	WasteUnits int64           `json:"waste_units"`
	Modifiers  []string        `json:"modifiers"`
	Naive      bool            `json:"naive_pump"`
	Diluted    bool            `json:"diluted"`
}

// Interval is the reconciliation of the previous fill (SPEC §6).
type Interval struct {
	From               string                     `json:"from"`
	Days               decimal.Decimal            `json:"days"`
	ExpectedResidualML decimal.Decimal            `json:"expected_residual_ml"`
	ResidualML         decimal.Decimal            `json:"residual_ml"`
	DiscrepancyML      decimal.Decimal            `json:"discrepancy_ml"`
	ThresholdML        decimal.Decimal            `json:"discrepancy_threshold_ml"`
	DiscrepancyFlagged bool                       `json:"discrepancy_flagged"`
	InfusedMCG         map[string]decimal.Decimal `json:"infused_mcg"`
	ExpectedInfusedMCG map[string]decimal.Decimal `json:"expected_infused_mcg"`
}

// Derive checks a refill against the catalog and the pump's history and
// derives its record. It refuses (EINVALID, naming the field) what SPEC §7
// lists as refused input that needs the catalog or history; patient and pump
// ownership are the ledger's to check. now is the ledger clock.
func Derive(cat *catalog.Catalog, in pumpledger.Refill, h History, now time.Time) (Record, error) {
	d := deriver{cat: cat, in: in, h: h}
	if err := d.check(now); err != nil {
		return Record{}, err
	}
	if err := d.draw(); err != nil {
		return Record{}, err
	}
	if err := d.reconcile(); err != nil {
		return Record{}, err
	}
	d.fillWarnings()
	d.nextRefill()
	d.doseChecks()
	d.lines()
	if d.rec.Warnings == nil {
		d.rec.Warnings = []string{}
	}
	return d.rec, nil
}

type deriver struct {
	cat   *catalog.Catalog
	in    pumpledger.Refill
	h     History
	rec   Record
	drugs []vial.Drug        // solution drugs, resolved, in solution order
	conc  []decimal.Decimal  // their concentrations
	cont  [][]vial.Container // their containers, in the order listed
	draws []vial.Draw        // their draws
	svc   billing.Service
	// linesOnly: only the claim lines are wanted (Lines): no warnings or
	// working are written, which were most of a bill's time.
	linesOnly bool
}

func (d *deriver) warn(format string, args ...any) {
	if d.linesOnly {
		return
	}
	d.rec.Warnings = append(d.rec.Warnings, fmt.Sprintf(format, args...))
}

func (d *deriver) work(format string, args ...any) {
	if d.linesOnly {
		return
	}
	d.rec.Work = append(d.rec.Work, fmt.Sprintf(format, args...))
}

// check refuses what cannot be recorded.
func (d *deriver) check(now time.Time) error {
	in, m := d.in, d.h.Model
	d.rec.ID = in.ID
	if in.PerformedAt.UTC.After(now) {
		return pumpledger.Invalid("performed_at", "performed_at %s is in the future (now is %s); record a refill after it is done.",
			in.PerformedAt, now.In(time.FixedZone("", in.PerformedAt.Offset)).Format(time.RFC3339))
	}
	if d.h.Last != nil && !in.PerformedAt.UTC.After(d.h.Last.At) {
		return pumpledger.Invalid("performed_at", "performed_at %s is not after this pump's last fill at %s; check the date, or correct the earlier entry.",
			in.PerformedAt, d.h.Last.At.Format(time.RFC3339))
	}
	if in.FillML.GreaterThan(m.ReservoirML) {
		return pumpledger.Invalid("fill_ml", "fill_ml %s is more than the %s reservoir of %s mL; check the volume or the pump model.", in.FillML, m.ID, m.ReservoirML)
	}
	if in.ResidualML.GreaterThan(m.ReservoirML) {
		return pumpledger.Invalid("residual_ml", "residual_ml %s is more than the %s reservoir of %s mL; check the aspirated volume.", in.ResidualML, m.ID, m.ReservoirML)
	}
	return d.resolve()
}

// resolve finds the refill's service, drugs and containers in the catalog.
func (d *deriver) resolve() error {
	in := d.in
	svc, ok := d.cat.Service(in.Procedure)
	if !ok || !svc.Refill {
		return pumpledger.Invalid("procedure", "procedure %q is not a refill code; use one of %s.", in.Procedure, strings.Join(d.refillCodes(), ", "))
	}
	d.svc = svc
	index := map[string]int{}
	for i, s := range in.Solution {
		drug, ok := d.cat.Drug(s.Drug)
		if !ok {
			return pumpledger.Invalid(fmt.Sprintf("solution[%d].drug", i), "solution[%d].drug %q is not in the catalog; use a drug name or HCPCS code the catalog lists (%s).", i, s.Drug, d.drugNames())
		}
		if _, dup := index[drug.Name]; dup {
			return pumpledger.Invalid(fmt.Sprintf("solution[%d].drug", i), "solution[%d].drug %q is %s again; list each drug of the solution once.", i, s.Drug, drug.Name)
		}
		index[drug.Name] = i
		d.drugs = append(d.drugs, drug)
		d.conc = append(d.conc, s.MCGPerML)
	}
	d.cont = make([][]vial.Container, len(d.drugs))
	for i, v := range in.Vials {
		field := fmt.Sprintf("vials[%d].ndc", i)
		n, err := vial.ParseNDC(v.NDC)
		if err != nil {
			return pumpledger.Invalid(field, "%s %q is not an NDC; write it as printed (70720-720-10) or as 11 digits (70720-0720-10).", field, v.NDC)
		}
		p, ok := d.cat.Product(n)
		if !ok {
			return pumpledger.Invalid(field, "%s %s is not in the catalog; check the carton or add the product to the site catalog.", field, n)
		}
		k, ok := index[p.Drug]
		if !ok {
			return pumpledger.Invalid(field, "%s %s is %s, which the solution does not list; add it to solution or remove the vial.", field, n, p.Drug)
		}
		// ParseRefill bounds the count; a stored entry altered outside
		// pumpledger may not be (a count of 2^31 would exhaust memory).
		if v.Count < 1 || v.Count > pumpledger.MaxVialCount {
			return pumpledger.Invalid(fmt.Sprintf("vials[%d].count", i), "vials[%d].count %d must be from 1 to %d containers.", i, v.Count, pumpledger.MaxVialCount)
		}
		for range v.Count {
			d.cont[k] = append(d.cont[k], vial.Container{Product: p, Line: i, Lot: v.Lot})
		}
		if p.Verify {
			d.warn("NDC %s (%s) has a presentation inferred from a listing, not read off a label; check the carton says %s mcg in %s mL.", p.Printed, p.Labeler, p.MCG(), p.ML)
		}
		if v.Expires != "" {
			exp, _ := pumpledger.ParseDate(v.Expires)
			if in.PerformedAt.Date() > exp.Format(time.DateOnly) {
				lot := "lot " + v.Lot
				if v.Lot == "" {
					lot = "no lot recorded"
				}
				d.warn("EXPIRED: vials[%d] (NDC %s, %s) expired on %s, before this refill on %s.", i, n, lot, v.Expires, in.PerformedAt.Date())
			}
		}
		if v.Lot == "" {
			d.warn("vials[%d] (NDC %s) has no lot number; record it for the waste and audit trail.", i, n)
		}
	}
	for k, drug := range d.drugs {
		if len(d.cont[k]) == 0 {
			return pumpledger.Invalid("vials", "vials lists no container of %s, which the solution holds; add the vials it was drawn from.", drug.Name)
		}
	}
	dose, ok := d.cat.Drug(in.Dose.Drug)
	if _, inSolution := index[dose.Name]; !ok || !inSolution {
		return pumpledger.Invalid("dose.drug", "dose.drug %q is not a drug of the solution; give the dose of one of %s.", in.Dose.Drug, d.solutionNames())
	}
	return nil
}

func (d *deriver) refillCodes() []string {
	var out []string
	for _, s := range d.cat.Services {
		if s.Refill {
			out = append(out, s.Code)
		}
	}
	return out
}

func (d *deriver) drugNames() string {
	var out []string
	for _, x := range d.cat.Drugs {
		out = append(out, x.Name)
	}
	return strings.Join(out, ", ")
}

func (d *deriver) solutionNames() string {
	var out []string
	for _, x := range d.drugs {
		out = append(out, x.Name)
	}
	return strings.Join(out, ", ")
}

// rinseDrug is the drug the rinse is drawn from: the first of the solution
// whose label asks for a rinse of a naive pump, else the first.
func (d *deriver) rinseDrug() int {
	for k, drug := range d.drugs {
		if drug.Label.NaiveRinseML.IsPositive() {
			return k
		}
	}
	return 0
}

// draw draws each drug and checks the volumes add up.
func (d *deriver) draw() error {
	in := d.in
	rk := d.rinseDrug()
	drugML := decimal.Zero
	for k, drug := range d.drugs {
		rinse := decimal.Zero
		if k == rk {
			rinse = in.RinseML
		}
		fillMCG := d.conc[k].Mul(in.FillML)
		dr, err := vial.DrawOrdered(d.cont[k], rinse, fillMCG)
		if err != nil {
			return pumpledger.Invalid("vials", "vials hold %s mcg of %s but the rinse and fill need %s mcg; add containers or check the concentration.",
				dr.OpenedMCG, drug.Name, rinse.Mul(d.cont[k][0].Product.MCGPerML).Add(fillMCG))
		}
		d.draws = append(d.draws, dr)
		drugML = drugML.Add(dr.FillML)
		d.work("%s dispensed_mcg = %s mcg/mL × %s mL fill = %s", drug.Name, d.conc[k], in.FillML, dr.FillMCG)
		d.work("%s opened_mcg = %s = %s", drug.Name, describeOpened(d.cont[k]), dr.OpenedMCG)
		if dr.RinseMCG.IsPositive() {
			d.work("%s rinse_mcg = %s mL rinse drawn first from the containers = %s", drug.Name, rinse, dr.RinseMCG)
		}
		d.work("%s drug volume drawn = %s mL", drug.Name, dr.FillML)
	}
	total := drugML.Add(in.DiluentML)
	d.work("drug %s mL + diluent %s mL = %s mL (fill %s mL, tolerance %s mL)", drugML, in.DiluentML, total, in.FillML, DiluentToleranceML)
	if total.Sub(in.FillML).Abs().GreaterThan(DiluentToleranceML) {
		want := in.FillML.Sub(drugML)
		if want.IsNegative() {
			return pumpledger.Invalid("fill_ml", "The drug alone is %s mL, more than fill_ml %s; check the concentrations and the fill volume.", drugML, in.FillML)
		}
		return pumpledger.Invalid("diluent_ml", "diluent_ml %s does not add up: %s mL of drug plus diluent must make the %s mL fill, so diluent_ml should be %s.",
			in.DiluentML, drugML, in.FillML, want)
	}
	return nil
}

func describeOpened(cs []vial.Container) string {
	var parts []string
	for i := 0; i < len(cs); {
		j := i
		for j < len(cs) && cs[j].Product.NDC == cs[i].Product.NDC {
			j++
		}
		parts = append(parts, fmt.Sprintf("%d × %s mcg (%s)", j-i, cs[i].Product.MCG(), cs[i].Product.NDC))
		i = j
	}
	return strings.Join(parts, " + ")
}

// figures derives each drug's amounts, units and modifiers from its draw;
// with checks, also the rinse and vial-choice warnings.
func (d *deriver) figures(checks bool) {
	for k, drug := range d.drugs {
		dr := d.draws[k]
		jw := dr.WasteMCG.Add(dr.SingleDoseRinseMCG())
		x := DrugFigures{Drug: drug.Name, Code: drug.Code, MCGPerML: d.conc[k], DispensedMCG: dr.FillMCG, RinseMCG: dr.RinseMCG,
			OpenedMCG: dr.OpenedMCG, WasteMCG: dr.WasteMCG, KeptMCG: dr.KeptMCG,
			Units:      billing.AdministeredUnits(dr.FillMCG, drug.UnitMCG),
			WasteUnits: billing.DiscardedUnits(jw, drug.UnitMCG),
			Modifiers:  []string{},
			Naive:      !d.h.Held[drug.Name],
			Diluted:    diluted(d.cont[k], d.conc[k]),
		}
		switch {
		case !dr.AnySingleDose():
		case x.WasteUnits == 0:
			x.Modifiers = []string{billing.JZ}
		}
		d.work("%s waste_mcg = %s opened − %s dispensed − %s rinse%s = %s", drug.Name, dr.OpenedMCG, dr.FillMCG, dr.RinseMCG, keptNote(dr), dr.WasteMCG)
		d.work("%s units = ⌈%s mcg ÷ %s mcg per unit (%s)⌉ = %d", drug.Name, dr.FillMCG, drug.UnitMCG, drug.UnitText, x.Units)
		d.work("%s waste_units (JW) = ⌊(%s waste + %s single-dose rinse) ÷ %s⌋ = %d%s", drug.Name, dr.WasteMCG, dr.SingleDoseRinseMCG(), drug.UnitMCG, x.WasteUnits, jwNote(dr, x))
		d.rec.Drugs = append(d.rec.Drugs, x)
		if checks {
			d.rinseWarnings(k, x)
			d.vialChoice(k, jw)
		}
	}
}

// reconcile derives each drug's figures and the interval since the last fill.
func (d *deriver) reconcile() error {
	in := d.in
	d.figures(true)
	if d.h.Last == nil {
		if in.ResidualML.IsPositive() {
			d.work("residual_ml %s aspirated at the pump's first recorded fill: no earlier fill to reconcile it with", in.ResidualML)
		}
		return nil
	}
	iv, err := pump.Reconcile(*d.h.Last, d.h.Changes, in.PerformedAt.UTC, in.ResidualML, d.h.Model.DiscrepancyML)
	if err != nil {
		return pumpledger.Invalid("performed_at", "%v; check performed_at.", err)
	}
	from := wallClock(iv.From, d.h.Last.Offset).Format(time.RFC3339)
	d.rec.Interval = &Interval{From: from, Days: iv.Days, ExpectedResidualML: iv.ExpectedResidualML, ResidualML: iv.ResidualML,
		DiscrepancyML: iv.DiscrepancyML, ThresholdML: iv.ThresholdML, DiscrepancyFlagged: iv.Flagged,
		InfusedMCG: iv.InfusedMCG, ExpectedInfusedMCG: iv.ExpectedInfusedMCG}
	var terms []string
	for _, s := range iv.Segments {
		terms = append(terms, fmt.Sprintf("%s d × %s mL/d", s.Days, s.MLPerDay))
	}
	d.work("interval days = %s (from %s to %s, real time)", iv.Days, from, in.PerformedAt)
	d.work("expected_residual_ml = %s − %s = %s (not below zero)", iv.FillML, strings.Join(terms, " − "), iv.ExpectedResidualML)
	d.work("discrepancy_ml = %s aspirated − %s expected = %s; threshold %s mL", iv.ResidualML, iv.ExpectedResidualML, iv.DiscrepancyML, iv.ThresholdML)
	for _, drug := range sortedKeys(iv.InfusedMCG) {
		d.work("%s infused_mcg = (%s − %s) mL × %s mcg/mL = %s; expected %s", drug, iv.FillML, iv.ResidualML, d.h.Last.MCGPerML[drug], iv.InfusedMCG[drug], iv.ExpectedInfusedMCG[drug])
	}
	if iv.Flagged {
		kind := "MORE left than expected: under-delivery (a stall or an occlusion)"
		if iv.DiscrepancyML.IsNegative() {
			kind = "LESS left than expected: over-delivery or a POCKET FILL"
		}
		d.warn("RESIDUAL DISCREPANCY: aspirated %s mL, expected %s mL, discrepancy %s mL exceeds the %s mL threshold of %s; %s. Evaluate the patient and the pump before relying on this refill.",
			iv.ResidualML, iv.ExpectedResidualML, iv.DiscrepancyML, iv.ThresholdML, d.h.Model.ID, kind)
	}
	if iv.EmptyAt != nil {
		d.warn("The reservoir should have run dry at %s, before this refill: the patient may have gone without drug.",
			iv.EmptyAt.In(time.FixedZone("", in.PerformedAt.Offset)).Format(time.RFC3339))
	}
	if in.ResidualML.GreaterThan(d.h.Last.ML) {
		d.warn("residual_ml %s is more than the %s mL the pump was last filled with; check the aspirated volume.", in.ResidualML, d.h.Last.ML)
	}
	if last := d.h.Last; last.StabilityDays > 0 && iv.Days.GreaterThan(decimal.NewFromInt(int64(last.StabilityDays))) {
		d.warn("The fill of %s stayed %s days in the reservoir, past %s's stability limit of %d days: the patient received drug beyond its labelled stability. Refill within the limit; review the schedule.",
			from, iv.Days, last.StabilityDrug, last.StabilityDays)
	}
	return nil
}

// wallClock is instant t on the wall clock of offset (seconds east of UTC)
// it was written in.
func wallClock(t time.Time, offset int) time.Time {
	return t.In(time.FixedZone("", offset))
}

func keptNote(dr vial.Draw) string {
	if dr.KeptMCG.IsPositive() {
		return fmt.Sprintf(" − %s kept in multi-dose containers", dr.KeptMCG)
	}
	return ""
}

func jwNote(dr vial.Draw, x DrugFigures) string {
	switch {
	case !dr.AnySingleDose():
		return "; multi-dose containers only: neither JW nor JZ"
	case x.WasteUnits == 0:
		return "; no whole unit discarded: JZ on the administered line"
	}
	return ""
}

// vialChoice warns when the catalog offers a combination of containers that
// would have discarded less than the ones opened: payers deny JW lines when a
// better vial size existed (Noridian; CGS: "the smallest vial available ...
// to minimize wastage"). discarded is what JW reports for the drug.
func (d *deriver) vialChoice(k int, discarded decimal.Decimal) {
	for _, c := range d.cont[k] {
		if !c.Product.SingleDose {
			return // leftover in multi-dose containers is kept, not discarded
		}
	}
	rinse := decimal.Zero
	if k == d.rinseDrug() {
		rinse = d.in.RinseML
	}
	drug := d.drugs[k]
	var single []vial.Product // the rule compares single-dose sizes
	for _, p := range d.cat.ProductsOf(drug.Name) {
		if p.SingleDose {
			single = append(single, p)
		}
	}
	naive := d.rec.Drugs[k].Naive
	// Only plans the label allows are better choices: none dilutes a
	// strength used undiluted, and a naive pump's is the label's first fill.
	single = vial.LabelProducts(drug.Label, single, d.conc[k], naive)
	sameStrength := !d.rec.Drugs[k].Diluted && drug.Label.StabilityDays(naive, true) != drug.Label.StabilityDays(naive, false)
	if sameStrength {
		// An undiluted fill is compared with undiluted plans only: a plan
		// that wastes less by diluting stronger vials shortens the fill's
		// stability (ziconotide: 84 days to 40), which is not a better choice.
		// (A naive pump's first fill lasts 14 days either way.)
		single = vial.SameStrength(single, d.conc[k])
	}
	// In an admixture the plan must leave room for the other drugs as drawn.
	room := d.in.FillML
	for j, dr := range d.draws {
		if j != k {
			room = room.Sub(dr.FillML)
		}
	}
	p, err := plans.plan(d.cat, drug.Name, sameStrength, single, d.conc[k], d.in.FillML, rinse, room)
	if err != nil {
		return
	}
	best := p.WasteMCG.Add(p.RinseMCG)
	if !best.LessThan(discarded) {
		return
	}
	var items []string
	for _, it := range p.Items {
		items = append(items, fmt.Sprintf("%d × %s", it.Count, it.Product.NDC))
	}
	d.warn("The %s containers opened discard %s mcg; %s would discard %s mcg. Payers may deny the JW line when a better vial combination existed (see `pumpledger plan`).",
		drug.Name, discarded, strings.Join(items, " + "), best)
}

// planMemo remembers vial plans. The search is most of a refill's
// derivation, and a pump's history repeats a handful of fills (the same
// concentration and volume refill after refill), re-derived by every history
// and correction. A plan depends only on its inputs and the catalog, which
// never changes once loaded. Bounded: full, it starts again empty.
type planMemo struct {
	mu sync.Mutex
	m  map[planKey]planResult
}

type planKey struct {
	cat               *catalog.Catalog
	drug              string
	sameStrength      bool // single-dose products of the fill's strength only, not all
	conc, fill, rinse string
	room              string // mL the drug may take in the fill
}

type planResult struct {
	plan vial.Plan
	err  error
}

const maxPlans = 4096

var plans planMemo

func (m *planMemo) plan(cat *catalog.Catalog, drug string, sameStrength bool, products []vial.Product, conc, fill, rinse, room decimal.Decimal) (vial.Plan, error) {
	key := planKey{cat, drug, sameStrength, conc.String(), fill.String(), rinse.String(), room.String()}
	m.mu.Lock()
	r, ok := m.m[key]
	m.mu.Unlock()
	if ok {
		return r.plan, r.err
	}
	r.plan, r.err = vial.PlanVialsWithin(products, conc, fill, rinse, room)
	m.mu.Lock()
	if m.m == nil || len(m.m) >= maxPlans {
		m.m = map[planKey]planResult{}
	}
	m.m[key] = r
	m.mu.Unlock()
	return r.plan, r.err
}

// diluted: the fill is weaker than a container it was drawn from.
func diluted(cs []vial.Container, conc decimal.Decimal) bool {
	for _, c := range cs {
		if !c.Product.MCGPerML.Equal(conc) {
			return true
		}
	}
	return false
}

// StabilityDays is how long the fill of refill in may stay in the reservoir:
// the shortest label limit of its drugs (ziconotide: 14 days in a pump that
// had not held it, the held set, else 40 diluted and 84 undiluted), and the
// drug that sets it; 0 when no drug has one.
func StabilityDays(cat *catalog.Catalog, in pumpledger.Refill, held map[string]bool) (days int, drug string) {
	for _, s := range in.Solution {
		d, ok := cat.Drug(s.Drug)
		if !ok {
			continue
		}
		var cs []vial.Container
		for _, v := range in.Vials {
			if n, err := vial.ParseNDC(v.NDC); err == nil {
				if p, ok := cat.Product(n); ok && p.Drug == d.Name {
					cs = append(cs, vial.Container{Product: p})
				}
			}
		}
		n := d.Label.StabilityDays(!held[d.Name], diluted(cs, s.MCGPerML))
		if n > 0 && (days == 0 || n < days) {
			days, drug = n, d.Name
		}
	}
	return days, drug
}

// FillStability is the stability limit of fill (the fill of refill in), the
// next of a pump's fills in performed order, and the drug that sets it. held
// names the drugs the pump held before it (at implant, then each earlier
// fill's); the fill's drugs are added to it. A drug the pump had not held
// makes it naive (ziconotide: 14 days, whatever the strength). heldDays and
// heldDrug are HeldStability's: the limit when the pump held every drug,
// which nearly every fill is, so that a caller can compute it once per entry.
func FillStability(cat *catalog.Catalog, in pumpledger.Refill, fill pump.Fill, held map[string]bool, heldDays int, heldDrug string) (days int, drug string) {
	all := true
	for d := range fill.MCGPerML {
		all = all && held[d]
	}
	days, drug = heldDays, heldDrug
	if !all {
		days, drug = StabilityDays(cat, in, held)
	}
	for d := range fill.MCGPerML {
		held[d] = true
	}
	return days, drug
}

// HeldStability is the stability limit of fill (the fill of refill in) in a
// pump that held each of its drugs before, and the drug that sets it: see
// FillStability.
func HeldStability(cat *catalog.Catalog, in pumpledger.Refill, fill pump.Fill) (days int, drug string) {
	held := make(map[string]bool, len(fill.MCGPerML))
	for d := range fill.MCGPerML {
		held[d] = true
	}
	return StabilityDays(cat, in, held)
}

func dueReason(reason, drug string) string {
	if drug == "" {
		return reason
	}
	return strings.Replace(reason, "the drug's", drug+"'s", 1)
}

// NextRefillAfter is when the fill in the reservoir (h.Last, with the
// changes since) is due for refill once dose change next is programmed: the
// reservoir's expected volume at next.At, run down at the new dose to the
// refill threshold, or the fill's stability limit, whichever is first. Now is
// true when the reservoir is expected to be at or below the threshold
// already: due at once, whatever the dose. The date is on the wall clock of
// offset (seconds east of UTC).
func NextRefillAfter(h History, next pump.DoseChange, offset int) (due Due, ok bool) {
	if h.Last == nil {
		return Due{}, false
	}
	iv, err := pump.Reconcile(*h.Last, h.Changes, next.At, decimal.Zero, decimal.Zero)
	if err != nil {
		return Due{}, false
	}
	zone := time.FixedZone("", offset)
	if !iv.ExpectedResidualML.GreaterThan(h.AlarmML) {
		return Due{Date: next.At.In(zone).Format(time.DateOnly), Now: true,
			Reason: fmt.Sprintf("the reservoir is expected to hold %s mL, at or below the %s mL refill threshold: refill now", iv.ExpectedResidualML, h.AlarmML)}, true
	}
	left := pump.Fill{At: next.At, ML: iv.ExpectedResidualML, MCGPerML: h.Last.MCGPerML, Dose: next}
	at, reason, ok := pump.NextRefill(left, h.AlarmML, 0)
	if h.Last.StabilityDays > 0 {
		limit := h.Last.At.Add(time.Duration(h.Last.StabilityDays) * 24 * time.Hour)
		if !ok || limit.Before(at) {
			at, reason = limit, fmt.Sprintf("the drug's stability limit of %d days after the fill of %s", h.Last.StabilityDays, wallClock(h.Last.At, h.Last.Offset).Format(time.DateOnly))
			ok = true
		}
	}
	if !ok {
		return Due{}, false
	}
	return Due{Date: at.In(zone).Format(time.DateOnly), Reason: dueReason(reason, h.Last.StabilityDrug)}, true
}

// Due is when a fill is due for refill, on the clinic's wall clock.
type Due struct {
	Date   string // YYYY-MM-DD
	Reason string // one plain phrase
	Now    bool   // the reservoir is already at or below its threshold
}

func (d *deriver) rinseWarnings(k int, x DrugFigures) {
	drug, l := d.drugs[k], d.drugs[k].Label
	if !l.NaiveRinseML.IsPositive() {
		if k == d.rinseDrug() && d.in.RinseML.IsPositive() {
			d.warn("rinse_ml %s is recorded but no drug of the solution has a label rinse; the rinse was drawn from the %s containers and is reported as discarded (JW).", d.in.RinseML, drug.Name)
		}
		return
	}
	rinse := d.in.RinseML
	if k != d.rinseDrug() {
		rinse = decimal.Zero
	}
	switch {
	case x.Naive && !rinse.Equal(l.NaiveRinseML):
		d.warn("This pump has not held %s before: the label asks for a rinse of %s mL (3 × 2 mL) of undiluted %s mcg/mL, each discarded; rinse_ml is %s.",
			drug.Name, l.NaiveRinseML, l.NaiveRinseMCGPerML, rinse)
	case !x.Naive && rinse.IsPositive():
		d.warn("rinse_ml %s is recorded but this pump has held %s before; the rinse is for a naive pump. It is reported as discarded (JW).", rinse, drug.Name)
	}
	if rinse.IsPositive() && l.NaiveRinseMCGPerML.IsPositive() {
		for _, c := range d.draws[k].Containers {
			if c.RinseML.IsPositive() && !c.Product.MCGPerML.Equal(l.NaiveRinseMCGPerML) {
				d.warn("The rinse was drawn from %s mcg/mL containers (NDC %s); the label rinses with undiluted %s mcg/mL. List the %s mcg/mL vials first.",
					c.Product.MCGPerML, c.Product.NDC, l.NaiveRinseMCGPerML, l.NaiveRinseMCGPerML)
				break
			}
		}
	}
}

// nextRefill sets when the next refill is due: the reservoir threshold at the
// new dose or the earliest stability limit of the solution's drugs.
func (d *deriver) nextRefill() {
	in := d.in
	days, which := StabilityDays(d.cat, in, d.h.Held)
	fill := FillOf(d.cat, in)
	at, reason, ok := pump.NextRefill(fill, d.h.AlarmML, days)
	if !ok {
		d.warn("No next refill date: the dose is zero and no drug of the solution has a stability limit; set a follow-up by hand.")
		return
	}
	date := at.In(time.FixedZone("", in.PerformedAt.Offset)).Format(time.DateOnly)
	d.rec.NextRefillDue = &date
	d.rec.NextRefillReason = dueReason(reason, which)
	d.work("next_refill_due = %s: %s", date, d.rec.NextRefillReason)
	if !in.FillML.GreaterThan(d.h.AlarmML) {
		d.warn("fill_ml %s is at or below the pump's %s mL refill threshold: the pump is due for refill now.", in.FillML, d.h.AlarmML)
	}
}

// doseChecks adds the label's titration warnings for the new dose, and
// the procedure code's when it does not fit what the dose did (RefillCPT).
func (d *deriver) doseChecks() {
	in := d.in
	drug, _ := d.cat.Drug(in.Dose.Drug)
	next := pump.DoseChange{At: in.PerformedAt.UTC, Drug: drug.Name, MCGPerDay: in.Dose.MCGPerDay}
	d.rec.Warnings = append(d.rec.Warnings, labelWarnings(d.cat, d.h, FillOf(d.cat, in).MCGPerML, next)...)
	if m, ok := RefillCPT(d.cat, in, d.h); ok {
		d.warn("%s", m.Warning())
	}
}

// labelWarnings checks a new dose against the label of every drug of the
// solution, not only the one the dose is given in: in an admixture, a
// morphine dose also sets the ziconotide the patient gets (the same mL/day
// at ziconotide's concentration). concs are the concentrations the new dose
// runs at. Each drug's history is the doses of the fill in the reservoir,
// converted the same way; the dose drug's own history is every dose of it.
func labelWarnings(cat *catalog.Catalog, h History, concs map[string]decimal.Decimal, next pump.DoseChange) []string {
	var warn []string
	for _, name := range sortedKeys(concs) {
		drug, ok := cat.Drug(name)
		if !ok || !hasLimits(drug.Label) {
			continue
		}
		equiv := next
		if name != next.Drug {
			if equiv, ok = convert(next, concs, name); !ok {
				continue
			}
		}
		hist := doseHistory(h, name)
		for _, w := range pump.CheckDose(drug, hist, equiv, h.Held[name]) {
			if name != next.Drug {
				w = fmt.Sprintf("The %s dose gives %s %s mcg/day: %s", next.Drug, name, equiv.MCGPerDay, w)
			}
			warn = append(warn, w)
		}
	}
	if next.MCGPerDay.IsZero() {
		warn = append(warn, "The dose is 0 mcg/day: the pump delivers nothing until reprogrammed.")
	}
	return warn
}

// doseHistory is every earlier dose of drug in mcg/day of drug: the doses of
// the fill in the reservoir converted at its concentrations (a change given
// in morphine is also a ziconotide step), and before that fill the doses
// given in drug itself (older fills' concentrations are not at hand).
func doseHistory(h History, drug string) []pump.DoseChange {
	var hist []pump.DoseChange
	for _, d := range h.Doses {
		if d.Drug == drug && (h.Last == nil || d.At.Before(h.Last.At)) {
			hist = append(hist, d)
		}
	}
	if h.Last != nil {
		for _, c := range append([]pump.DoseChange{h.Last.Dose}, h.Changes...) {
			if x, ok := convert(c, h.Last.MCGPerML, drug); ok {
				hist = append(hist, x)
			}
		}
	}
	return hist
}

// convert expresses dose c (in mcg/day of c.Drug) in mcg/day of drug, at the
// concentrations concs: the same mL/day.
func convert(c pump.DoseChange, concs map[string]decimal.Decimal, drug string) (pump.DoseChange, bool) {
	if c.Drug == drug {
		return c, true
	}
	from, to := concs[c.Drug], concs[drug]
	if !from.IsPositive() || !to.IsPositive() {
		return pump.DoseChange{}, false
	}
	return pump.DoseChange{At: c.At, Drug: drug, MCGPerDay: c.MCGPerDay.Mul(to).DivRound(from, pump.Scale)}, true
}

func hasLimits(l vial.Label) bool {
	return l.StartMaxMCGPerDay.IsPositive() || l.StepMaxMCGPerDay.IsPositive() || l.MaxMCGPerDay.IsPositive() || l.MaxIncreasesPerWeek > 0
}

// Lines derives a recorded refill's claim lines. They depend on the refill
// and the catalog only, never on the pump's history (units, JW and JZ come
// from what was drawn; the rinse is the nurse's rinse_ml), so a bill reads
// the refills of its dates, not every pump's chain. They equal the lines of
// Derive (tested).
//
// Of the refill they depend on the procedure, the solution, each vial's NDC
// and count, the fill, rinse and diluent volumes and the dose's drug, and
// on nothing else but the patient, date and id each line carries, and so
// does whether they can be derived at all: a bill derives each such shape
// once (ledger's billed). A change here that reads another field must be
// made there too; TestLinesDependOnBillableFields fails until it is.
func Lines(cat *catalog.Catalog, in pumpledger.Refill) ([]billing.Line, error) {
	d := deriver{cat: cat, in: in, linesOnly: true}
	if err := d.resolve(); err != nil {
		return nil, err
	}
	if err := d.draw(); err != nil {
		return nil, err
	}
	d.figures(false)
	d.lines()
	return d.rec.Lines, nil
}

// lines builds the claim lines: per drug the administered line(s) and JW
// line(s), one per NDC, then the pump-service line.
func (d *deriver) lines() {
	in := d.in
	base := billing.Line{DateOfService: in.PerformedAt.Date(), MRN: in.MRN, EntryID: in.ID}
	for k, drug := range d.drugs {
		dr, x := d.draws[k], d.rec.Drugs[k]
		var given, thrown []billing.Part
		multi := map[string]bool{} // NDCs of multi-dose containers: neither JW nor JZ
		for _, c := range dr.Containers {
			ndc := c.Product.NDC.Digits()
			multi[ndc] = !c.Product.SingleDose
			given = append(given, billing.Part{NDC: ndc, MCG: c.FillMCG, ML: c.FillML})
			if c.Product.SingleDose {
				leftML := c.Product.ML.Sub(c.RinseML).Sub(c.FillML)
				thrown = append(thrown, billing.Part{NDC: ndc, MCG: c.RinseMCG.Add(c.LeftMCG), ML: c.RinseML.Add(leftML)})
			}
		}
		for _, s := range billing.Split(given, drug.UnitMCG, true) {
			l := base
			l.Code, l.Modifiers, l.Units, l.NDC, l.NDCQty, l.NDCUnit, l.Drug, l.MCG = drug.Code, x.Modifiers, s.Units, s.NDC, s.Qty, "ML", drug.Name, s.MCG
			if multi[s.NDC] {
				l.Modifiers = []string{}
			}
			l.Description = fmt.Sprintf("%s %s mcg administered (placed in the reservoir)", drug.Name, s.MCG)
			d.rec.Lines = append(d.rec.Lines, l)
		}
		for _, s := range billing.Split(thrown, drug.UnitMCG, false) {
			l := base
			l.Code, l.Modifiers, l.Units, l.NDC, l.NDCQty, l.NDCUnit, l.Drug, l.MCG = drug.Code, []string{billing.JW}, s.Units, s.NDC, s.Qty, "ML", drug.Name, s.MCG
			l.Description = fmt.Sprintf("%s %s mcg discarded from single-dose containers (rinse and remainder)", drug.Name, s.MCG)
			d.rec.Lines = append(d.rec.Lines, l)
		}
	}
	l := base
	l.Code, l.Modifiers, l.Units, l.Description = d.svc.Code, []string{}, 1, d.svc.Description
	d.rec.Lines = append(d.rec.Lines, l)
}

// FillOf is the fill a refill leaves in the reservoir, with drug names
// resolved through the catalog (an entry may say "J2277").
func FillOf(cat *catalog.Catalog, in pumpledger.Refill) pump.Fill {
	f := pump.Fill{At: in.PerformedAt.UTC, Offset: in.PerformedAt.Offset, ML: in.FillML, MCGPerML: map[string]decimal.Decimal{}}
	for _, s := range in.Solution {
		f.MCGPerML[canonical(cat, s.Drug)] = s.MCGPerML
	}
	f.Dose = pump.DoseChange{At: f.At, Drug: canonical(cat, in.Dose.Drug), MCGPerDay: in.Dose.MCGPerDay}
	return f
}

func canonical(cat *catalog.Catalog, key string) string {
	if d, ok := cat.Drug(key); ok {
		return d.Name
	}
	return key
}

func sortedKeys(m map[string]decimal.Decimal) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
