package refill

import (
	"fmt"
	"strings"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

// Advice is the vial plan recommended for a fill: `plan`, and the plan the
// web app's refill form offers. The plan recommended is the least-waste
// plan the label allows (SPEC §8): a rinse means a pump new to the drug,
// whose first fill is the label's strength undiluted, and no plan dilutes
// a strength used only undiluted. A cheaper plan the label rules out is
// named, not offered.
type Advice struct {
	Drug vial.Drug
	Plan vial.Plan
	// Alternative is an undiluted plan where the recommended one dilutes
	// stronger vials (and so shortens the fill's stability).
	Alternative    vial.Undiluted
	HasAlternative bool
	// Cheapest is the least-waste plan of all, RuledOut what the label
	// says against it ("" when it is the plan recommended or allowed).
	Cheapest vial.Plan
	RuledOut string
	// Established is what the label asks of an undiluted fill of a dose
	// not yet established.
	Established string
	JSON        PlanOut
}

// Advise plans the containers of drug (a name, code or alias) for fill mL
// at conc mcg/mL after rinse mL. It refuses with EINVALID naming the
// command line's flag (drug, mcg-per-ml, fill-ml).
func Advise(cat *catalog.Catalog, drugName string, conc, fill, rinse decimal.Decimal) (Advice, error) {
	drug, ok := cat.Drug(drugName)
	if !ok {
		return Advice{}, pumpledger.Invalid("drug", "--drug %q is not in the catalog; see `pumpledger catalog`.", drugName)
	}
	products := cat.ProductsOf(drug.Name)
	if len(products) == 0 {
		return Advice{}, pumpledger.Invalid("drug", "The catalog lists no products of %s; add them to a site catalog (--catalog).", drug.Name)
	}
	naive := rinse.IsPositive()
	cheapest, cheapErr := vial.PlanVials(products, conc, fill, rinse)
	allowed := vial.LabelProducts(drug.Label, products, conc, naive)
	p, err := vial.PlanVials(allowed, conc, fill, rinse)
	src := ""
	if drug.Label.FillSource != "" {
		src = " (" + drug.Label.FillSource + ")"
	}
	if err != nil {
		if cheapErr == nil {
			if why := vial.LabelBreaks(drug.Name, drug.Label, planStrengths(cheapest), conc, naive); why != "" {
				fix := "plan another concentration"
				if naive && drug.Label.NaiveFillMCGPerML.IsPositive() {
					fix = "plan --mcg-per-ml " + drug.Label.NaiveFillMCGPerML.String()
				}
				return Advice{}, pumpledger.Invalid("mcg-per-ml", "No plan the %s label allows gives %s mL at %s mcg/mL%s: %s%s; %s.", drug.Name, fill, conc, afterRinse(rinse), why, src, fix)
			}
		}
		return Advice{}, pumpledger.Invalid("fill-ml", "No combination of the catalog's %s containers gives %s mL at %s mcg/mL (with a %s mL rinse); check the concentration and volume.", drug.Name, fill, conc, rinse)
	}
	a := Advice{Drug: drug, Plan: p, Cheapest: cheapest}
	a.JSON = planJSON(p, conc)
	if cheapErr == nil && cheapest.WasteMCG.Add(cheapest.RinseMCG).LessThan(p.WasteMCG.Add(p.RinseMCG)) {
		if why := vial.LabelBreaks(drug.Name, drug.Label, planStrengths(cheapest), conc, naive); why != "" {
			a.RuledOut = why + src
			a.JSON.RuledOutByLabel = &RuledOutPlan{PlanOut: planJSON(cheapest, conc), Breaks: a.RuledOut}
		}
	}
	if !p.Diluted(conc) && vial.HasStrength(drug.Label.UndilutedOnceEstablished, conc) && drug.Label.EstablishedDays > 0 {
		diluent := pumpledger.DefaultDiluent
		if len(drug.Label.Diluents) > 0 {
			diluent = drug.Label.Diluents[0]
		}
		a.Established = fmt.Sprintf("Undiluted %s mcg/mL is for a dose already established (no change in %d days); until then the label dilutes it with %s%s.",
			conc, drug.Label.EstablishedDays, diluent, src)
		a.JSON.LabelNote = a.Established
	}
	if a.Alternative, a.HasAlternative = vial.UndilutedAlternative(drug, allowed, p, conc, fill, rinse); a.HasAlternative {
		alt := planJSON(a.Alternative.Plan, conc)
		a.JSON.UndilutedAlternative = &alt
	}
	return a, nil
}

// PlanOut is `plan --json` (SPEC §7: vials, opened_mcg, waste_mcg).
type PlanOut struct {
	Vials                []PlanVial      `json:"vials"`
	OpenedMCG            decimal.Decimal `json:"opened_mcg"`
	WasteMCG             decimal.Decimal `json:"waste_mcg"`
	RinseMCG             decimal.Decimal `json:"rinse_mcg"`
	DrugML               decimal.Decimal `json:"drug_ml"`
	DiluentML            decimal.Decimal `json:"diluent_ml"`
	Diluted              bool            `json:"diluted"`
	UndilutedAlternative *PlanOut        `json:"undiluted_alternative,omitempty"`
	// RuledOutByLabel is a plan discarding less that the label rules out;
	// LabelNote what the label asks of the fill planned.
	RuledOutByLabel *RuledOutPlan `json:"ruled_out_by_label,omitempty"`
	LabelNote       string        `json:"label_note,omitempty"`
}

// RuledOutPlan is a plan that discards less than the one recommended but
// that the drug's label rules out, and what it breaks.
type RuledOutPlan struct {
	PlanOut
	Breaks string `json:"breaks"`
}

// PlanVial is one line of a plan: count containers of one NDC.
type PlanVial struct {
	NDC   string `json:"ndc"`
	Count int    `json:"count"`
}

func planJSON(p vial.Plan, conc decimal.Decimal) PlanOut {
	out := PlanOut{OpenedMCG: p.OpenedMCG, WasteMCG: p.WasteMCG, RinseMCG: p.RinseMCG, DrugML: p.DrugML, DiluentML: p.DiluentML, Diluted: p.Diluted(conc)}
	for _, it := range p.Items {
		out.Vials = append(out.Vials, PlanVial{NDC: it.Product.NDC.String(), Count: it.Count})
	}
	return out
}

func planStrengths(p vial.Plan) []decimal.Decimal {
	var out []decimal.Decimal
	for _, it := range p.Items {
		out = append(out, it.Product.MCGPerML)
	}
	return out
}

func afterRinse(rinse decimal.Decimal) string {
	if rinse.IsPositive() {
		return fmt.Sprintf(" after a %s mL rinse", rinse)
	}
	return ""
}

// PlanItems is "1 × NDC 70720-723-10 + 2 × NDC 70720-720-10".
func PlanItems(p vial.Plan) string {
	var items []string
	for _, it := range p.Items {
		items = append(items, fmt.Sprintf("%d × NDC %s", it.Count, it.Product.Printed))
	}
	return strings.Join(items, " + ")
}
