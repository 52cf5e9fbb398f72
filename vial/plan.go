package vial

import (
	"errors"
	"slices"
	"sort"

	"github.com/shopspring/decimal"
)

// PlanItem is a count of one product.
type PlanItem struct {
	Product Product
	Count   int
}

// Plan is the container combination that gives a fill (and rinse) with the
// least waste, as payers expect the billed units to come from (Noridian: the
// smallest vial combination that gives the dose; CGS: "to minimize wastage").
type Plan struct {
	Items      []PlanItem
	Containers int
	OpenedMCG  decimal.Decimal
	RinseMCG   decimal.Decimal
	FillMCG    decimal.Decimal
	WasteMCG   decimal.Decimal
	DrugML     decimal.Decimal // drug volume drawn into the reservoir
	DiluentML  decimal.Decimal // fill − drug volume
}

// ErrNoPlan means no combination of the products can give the fill.
var ErrNoPlan = errors.New("no combination of the catalog's containers gives this fill")

// maxCombinations bounds the search; a refill needs a handful of containers.
const maxCombinations = 1_000_000

// PlanVials finds the combination of products (all of one drug) giving fillML
// of mcgPerML after a rinse of rinseML, with the least drug discarded (waste
// plus rinse, what JW reports); among equals the fewest containers; among
// those, the one listing earlier catalog products.
//
// Containers are drawn weakest first (so a rinse uses the undiluted 25 mcg/mL
// strength the label asks for), then in catalog order. A combination whose
// drug volume alone exceeds the fill (no room for it) is not a plan.
func PlanVials(products []Product, mcgPerML, fillML, rinseML decimal.Decimal) (Plan, error) {
	return PlanVialsWithin(products, mcgPerML, fillML, rinseML, fillML)
}

// PlanVialsWithin is PlanVials for one drug of an admixture: its drawn
// volume must fit in roomML, what the fill leaves beside the other drugs'
// volumes. The least-waste plan of a drug alone may not fit there, and is
// then no better choice the nurse passed over.
func PlanVialsWithin(products []Product, mcgPerML, fillML, rinseML, roomML decimal.Decimal) (Plan, error) {
	if len(products) == 0 || !mcgPerML.IsPositive() || !fillML.IsPositive() || rinseML.IsNegative() || !roomML.IsPositive() {
		return Plan{}, ErrNoPlan
	}
	order := make([]Product, len(products))
	copy(order, products)
	sort.SliceStable(order, func(i, j int) bool { return order[i].MCGPerML.LessThan(order[j].MCGPerML) })
	// Products of one presentation (two labelers' 100 mcg/1 mL vials) are
	// interchangeable: keep the first, which wins every tie among them anyway,
	// so that they do not multiply the search past maxCombinations.
	uniq := order[:0]
	for _, p := range order {
		if !slices.ContainsFunc(uniq, func(q Product) bool {
			return q.MCGPerML.Equal(p.MCGPerML) && q.ML.Equal(p.ML) && q.SingleDose == p.SingleDose
		}) {
			uniq = append(uniq, p)
		}
	}
	order = uniq

	fillMCG := mcgPerML.Mul(fillML)
	strongest := decimal.Zero
	for _, p := range order {
		strongest = decimal.Max(strongest, p.MCGPerML)
	}
	need := fillMCG.Add(rinseML.Mul(strongest))
	// Upper count per product: enough on its own for rinse and fill.
	limits := make([]int, len(order))
	combos := 1
	for i, p := range order {
		if !p.MCG().IsPositive() {
			return Plan{}, ErrNoPlan
		}
		byMCG := need.Div(p.MCG()).Ceil().IntPart()
		byML := rinseML.Div(p.ML).Ceil().IntPart() + 1
		n := max(byMCG, byML)
		if n > 1000 {
			n = 1000
		}
		limits[i] = int(n)
		combos *= limits[i] + 1
		if combos > maxCombinations {
			return Plan{}, ErrNoPlan
		}
	}

	var best *Plan
	counts := make([]int, len(order))
	var walk func(k int)
	walk = func(k int) {
		if k < len(order) {
			for c := limits[k]; c >= 0; c-- { // most of earlier products first: they win ties
				counts[k] = c
				walk(k + 1)
			}
			counts[k] = 0
			return
		}
		var cs []Container
		for i, c := range counts {
			for range c {
				cs = append(cs, Container{Product: order[i], Line: i})
			}
		}
		if len(cs) == 0 {
			return
		}
		d, err := DrawOrdered(cs, rinseML, fillMCG)
		if err != nil || d.FillML.GreaterThan(roomML) {
			return
		}
		if best != nil {
			// Discarded = left in the containers + drawn for the rinse: both are
			// thrown away (JW), and a rinse drawn from stronger vials throws more.
			if c := d.WasteMCG.Add(d.RinseMCG).Cmp(best.WasteMCG.Add(best.RinseMCG)); c > 0 || (c == 0 && len(cs) >= best.Containers) {
				return
			}
		}
		p := Plan{Containers: len(cs), OpenedMCG: d.OpenedMCG, RinseMCG: d.RinseMCG,
			FillMCG: d.FillMCG, WasteMCG: d.WasteMCG, DrugML: d.FillML, DiluentML: fillML.Sub(d.FillML)}
		for i, c := range counts {
			if c > 0 {
				p.Items = append(p.Items, PlanItem{Product: order[i], Count: c})
			}
		}
		best = &p
	}
	walk(0)
	if best == nil {
		return Plan{}, ErrNoPlan
	}
	return *best, nil
}

// SameStrength returns the products of exactly strength mcgPerML: those an
// undiluted fill at that strength can come from. Mixing in a stronger vial
// makes the fill diluted, which ziconotide's label gives 40 days instead of 84.
func SameStrength(products []Product, mcgPerML decimal.Decimal) []Product {
	var out []Product
	for _, p := range products {
		if p.MCGPerML.Equal(mcgPerML) {
			out = append(out, p)
		}
	}
	return out
}

// Diluted reports whether the plan's fill is weaker than a container in it.
func (p Plan) Diluted(mcgPerML decimal.Decimal) bool {
	for _, it := range p.Items {
		if !it.Product.MCGPerML.Equal(mcgPerML) {
			return true
		}
	}
	return false
}

// Undiluted is an undiluted plan to weigh beside a least-waste plan that
// dilutes stronger vials, with the stability limit each fill gets.
type Undiluted struct {
	Plan          Plan
	DilutedDays   int // the limit of the least-waste plan's (diluted) fill
	UndilutedDays int // the limit of this plan's fill
}

// UndilutedAlternative is the least-waste plan from the products of exactly
// mcgPerML, to show beside p when p dilutes stronger vials: a diluted fill
// has a shorter stability limit (ziconotide: 40 days, not 84), which may
// cost more than the waste it saves, and the clinician weighs the two. ok is
// false when p is undiluted, no product has that strength, or the label
// gives both fills one limit. A rinse means a pump naive to the drug, whose
// first fill lasts the same either way (ziconotide: 14 days).
func UndilutedAlternative(drug Drug, products []Product, p Plan, mcgPerML, fillML, rinseML decimal.Decimal) (alt Undiluted, ok bool) {
	naive := rinseML.IsPositive()
	alt.DilutedDays, alt.UndilutedDays = drug.Label.StabilityDays(naive, true), drug.Label.StabilityDays(naive, false)
	same := SameStrength(products, mcgPerML)
	if !p.Diluted(mcgPerML) || len(same) == 0 || alt.DilutedDays == alt.UndilutedDays {
		return Undiluted{}, false
	}
	u, err := PlanVials(same, mcgPerML, fillML, rinseML)
	if err != nil {
		return Undiluted{}, false
	}
	alt.Plan = u
	return alt, true
}
