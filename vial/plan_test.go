package vial_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/vial"
)

// zicProducts are the ziconotide products in the default catalog's order.
var zicProducts = []vial.Product{zic100, zic100E, zic500, zic500T, zic25}

func describe(p vial.Plan) string {
	var parts []string
	for _, it := range p.Items {
		parts = append(parts, fmt.Sprintf("%d×%s", it.Count, it.Product.Printed))
	}
	return strings.Join(parts, "+")
}

func TestPlanVials(t *testing.T) {
	tests := []struct {
		name                       string
		products                   []vial.Product
		mcgPerML, fillML, rinseML  string
		want                       string // describe(plan)
		containers                 int
		opened, rinse, fill, waste string
		drugML, diluentML          string
	}{
		{
			name: "SPEC: 150 mcg takes two 100 mcg vials", products: zicProducts, mcgPerML: "7.5", fillML: "20", rinseML: "0",
			want: "2×70720-720-10", containers: 2, opened: "200", rinse: "0", fill: "150", waste: "50", drugML: "1.5", diluentML: "18.5",
		},
		{
			name: "SPEC: 64.35 mcg takes one 100 mcg vial", products: zicProducts, mcgPerML: "3.25", fillML: "19.8", rinseML: "0",
			want: "1×70720-720-10", containers: 1, opened: "100", rinse: "0", fill: "64.35", waste: "35.65", drugML: "0.6435", diluentML: "19.1565",
		},
		{
			name: "SPEC: naive 6 mL rinse then 350 mcg undiluted from one 500 mcg/20 mL vial", products: zicProducts, mcgPerML: "25", fillML: "14", rinseML: "6",
			want: "1×70720-723-10", containers: 1, opened: "500", rinse: "150", fill: "350", waste: "0", drugML: "14", diluentML: "0",
		},
		{
			name: "ties on waste go to the fewest containers: one 5 mL vial, not five 1 mL", products: zicProducts, mcgPerML: "25", fillML: "20", rinseML: "0",
			// 500 mcg at 25 mcg/mL: the 20 mL vial also wastes nothing, one container;
			// the weakest is drawn (and so tried) first and wins the tie.
			want: "1×70720-723-10", containers: 1, opened: "500", rinse: "0", fill: "500", waste: "0", drugML: "20", diluentML: "0",
		},
		{
			name: "fewest containers among 100 mcg/mL products", products: []vial.Product{zic100, zic500}, mcgPerML: "100", fillML: "5", rinseML: "0",
			want: "1×68118-722-10", containers: 1, opened: "500", rinse: "0", fill: "500", waste: "0", drugML: "5", diluentML: "0",
		},
		{
			name: "least waste beats fewest containers", products: []vial.Product{zic100, zic500}, mcgPerML: "20", fillML: "20", rinseML: "0",
			want: "4×70720-720-10", containers: 4, opened: "400", rinse: "0", fill: "400", waste: "0", drugML: "4", diluentML: "16",
		},
		{
			name: "a vial too weak to fit in the fill is not a plan", products: zicProducts, mcgPerML: "50", fillML: "2", rinseML: "0",
			// 100 mcg from the 25 mcg/mL vial is 4 mL, more than the 2 mL fill.
			want: "1×70720-720-10", containers: 1, opened: "100", rinse: "0", fill: "100", waste: "0", drugML: "1", diluentML: "1",
		},
		{
			// The rinse is discarded drug too (JW): a plan that rinses with
			// 100 mcg/mL vials to leave nothing behind discards 600 mcg, more than
			// the 400 mcg of one 25 mcg/mL vial, and is not what the label rinses with.
			name: "naive rinse with a small fill: least drug discarded, rinse included", products: zicProducts, mcgPerML: "5", fillML: "20", rinseML: "6",
			want: "1×70720-723-10", containers: 1, opened: "500", rinse: "150", fill: "100", waste: "250", drugML: "4", diluentML: "16",
		},
		{
			// 4000 mcg: 8 × 500 mcg/5 mL. Two labelers' identical vials must not
			// multiply the search into "no plan".
			name: "40 mL undiluted 100 mcg/mL", products: zicProducts, mcgPerML: "100", fillML: "40", rinseML: "0",
			want: "8×68118-722-10", containers: 8, opened: "4000", rinse: "0", fill: "4000", waste: "0", drugML: "40", diluentML: "0",
		},
		{
			name: "identical presentations: the first listed wins the tie", products: []vial.Product{zic100E, zic100}, mcgPerML: "10", fillML: "20", rinseML: "0",
			want: "2×68118-720-10", containers: 2, opened: "200", rinse: "0", fill: "200", waste: "0", drugML: "2", diluentML: "18",
		},
		{
			name: "multi-dose: what is left is kept, so one container has no waste", products: []vial.Product{morMulti}, mcgPerML: "1000", fillML: "20", rinseML: "0",
			want: "1×99999-102-01", containers: 1, opened: "100000", rinse: "0", fill: "20000", waste: "0", drugML: "2", diluentML: "18",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := vial.PlanVials(tt.products, dec(tt.mcgPerML), dec(tt.fillML), dec(tt.rinseML))
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(p); got != tt.want {
				t.Errorf("plan %s, want %s", got, tt.want)
			}
			if p.Containers != tt.containers {
				t.Errorf("Containers = %d, want %d", p.Containers, tt.containers)
			}
			eq(t, "OpenedMCG", p.OpenedMCG, tt.opened)
			eq(t, "RinseMCG", p.RinseMCG, tt.rinse)
			eq(t, "FillMCG", p.FillMCG, tt.fill)
			eq(t, "WasteMCG", p.WasteMCG, tt.waste)
			eq(t, "DrugML", p.DrugML, tt.drugML)
			eq(t, "DiluentML", p.DiluentML, tt.diluentML)
		})
	}
}

func TestPlanVialsNone(t *testing.T) {
	tests := []struct {
		name                      string
		products                  []vial.Product
		mcgPerML, fillML, rinseML string
	}{
		{"no products", nil, "5", "20", "0"},
		{"zero concentration", zicProducts, "0", "20", "0"},
		{"zero fill", zicProducts, "5", "0", "0"},
		{"negative rinse", zicProducts, "5", "20", "-1"},
		{"stronger than any container", zicProducts, "150", "20", "0"},
		{"product with no content", []vial.Product{product("99999-000-01", "ziconotide", "0", "1", true)}, "5", "20", "0"},
		{"too many combinations", []vial.Product{
			product("99999-001-01", "ziconotide", "100", "0.1", true), product("99999-001-02", "ziconotide", "100", "0.2", true),
			product("99999-001-03", "ziconotide", "100", "0.3", true), product("99999-001-04", "ziconotide", "100", "0.7", true),
		}, "100", "20", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := vial.PlanVials(tt.products, dec(tt.mcgPerML), dec(tt.fillML), dec(tt.rinseML))
			if !errors.Is(err, vial.ErrNoPlan) {
				t.Fatalf("PlanVials = %s, %v; want ErrNoPlan", describe(p), err)
			}
		})
	}
}

// The plan's waste is never more than what any single product alone wastes:
// a brute-force check over small fills.
func TestPlanVialsNoWorseThanOneProduct(t *testing.T) {
	for fill := 1; fill <= 20; fill++ {
		for _, conc := range []string{"1", "2.5", "5", "7.5", "10", "25"} {
			fillML := dec(fmt.Sprint(fill))
			p, err := vial.PlanVials(zicProducts, dec(conc), fillML, dec("0"))
			if err != nil {
				t.Fatalf("fill %d mL of %s: %v", fill, conc, err)
			}
			need := dec(conc).Mul(fillML)
			for _, prod := range zicProducts {
				n := int(need.Div(prod.MCG()).Ceil().IntPart())
				d, err := vial.DrawOrdered(containers(repeat(prod, n)...), dec("0"), need)
				if err != nil || d.FillML.GreaterThan(fillML) {
					continue
				}
				if p.WasteMCG.GreaterThan(d.WasteMCG) {
					t.Errorf("fill %d mL of %s: plan %s wastes %s, %d×%s wastes %s", fill, conc, describe(p), p.WasteMCG, n, prod.Printed, d.WasteMCG)
				}
			}
		}
	}
}

func repeat(p vial.Product, n int) []vial.Product {
	out := make([]vial.Product, n)
	for i := range out {
		out[i] = p
	}
	return out
}

// Beside a least-waste plan that dilutes stronger vials, the undiluted one
// is offered when the label gives the two fills different limits.
func TestUndilutedAlternative(t *testing.T) {
	zic := vial.Drug{Name: "ziconotide", Label: vial.Label{NaiveRefillDays: 14, DilutedRefillDays: 40, UndilutedRefillDays: 84}}
	noLimits := vial.Drug{Name: "ziconotide"}
	tests := []struct {
		name                   string
		drug                   vial.Drug
		conc, fill, rinse      string
		planRinse              string // the rinse p is planned with, if not rinse
		want                   string // describe(alternative), "" for none
		dilutedDays, undiluted int
	}{
		{name: "12 mL of 25 mcg/mL: 3 × 100 mcg diluted wastes 0, the 500 mcg vial 200", drug: zic, conc: "25", fill: "12", rinse: "0",
			want: "1×70720-723-10", dilutedDays: 40, undiluted: 84},
		// (Planned without the rinse, so that the plan is diluted.)
		{name: "a naive pump lasts 14 days either way", drug: zic, conc: "25", fill: "12", rinse: "6", planRinse: "0"},
		{name: "the least-waste plan is undiluted already", drug: zic, conc: "25", fill: "20", rinse: "0"},
		{name: "no product of the strength", drug: zic, conc: "7.5", fill: "20", rinse: "0"},
		{name: "a label without limits", drug: noLimits, conc: "25", fill: "12", rinse: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conc, fill, rinse := dec(tt.conc), dec(tt.fill), dec(tt.rinse)
			planRinse := rinse
			if tt.planRinse != "" {
				planRinse = dec(tt.planRinse)
			}
			p, err := vial.PlanVials(zicProducts, conc, fill, planRinse)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && tt.name != "the least-waste plan is undiluted already" && !p.Diluted(conc) {
				t.Fatalf("the case's plan %s is undiluted: it tests nothing", describe(p))
			}
			alt, ok := vial.UndilutedAlternative(tt.drug, zicProducts, p, conc, fill, rinse)
			if tt.want == "" {
				if ok {
					t.Errorf("alternative %s offered, want none", describe(alt.Plan))
				}
				return
			}
			if !ok || describe(alt.Plan) != tt.want || alt.DilutedDays != tt.dilutedDays || alt.UndilutedDays != tt.undiluted {
				t.Errorf("alternative %s (ok %v), %d days instead of %d; want %s, %d instead of %d",
					describe(alt.Plan), ok, alt.DilutedDays, alt.UndilutedDays, tt.want, tt.dilutedDays, tt.undiluted)
			}
		})
	}
}
