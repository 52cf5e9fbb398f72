package vial

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// LabelProducts are those of products (all of one drug) that a fill of
// mcgPerML may be drawn from as the drug's label allows: for a pump new to
// the drug (naive), only the label's first-fill strength, undiluted, and
// none when mcgPerML is another; otherwise every product but those of a
// strength used only undiluted, unless mcgPerML is that strength. A label
// without these rules (an older catalog) leaves products as they are.
func LabelProducts(l Label, products []Product, mcgPerML decimal.Decimal, naive bool) []Product {
	if naive && l.NaiveFillMCGPerML.IsPositive() {
		if !mcgPerML.Equal(l.NaiveFillMCGPerML) {
			return nil
		}
		return SameStrength(products, mcgPerML)
	}
	var out []Product
	for _, p := range products {
		if HasStrength(l.UndilutedOnly, p.MCGPerML) && !p.MCGPerML.Equal(mcgPerML) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// LabelBreaks says, in one phrase, what a fill of mcgPerML from products of
// the strengths given breaks of the label l of drug; "" when nothing. It is
// what `plan` says of a plan it does not recommend.
func LabelBreaks(drug string, l Label, strengths []decimal.Decimal, mcgPerML decimal.Decimal, naive bool) string {
	diluted := false
	for _, s := range strengths {
		diluted = diluted || !s.Equal(mcgPerML)
	}
	if naive && l.NaiveFillMCGPerML.IsPositive() && (diluted || !mcgPerML.Equal(l.NaiveFillMCGPerML)) {
		return fmt.Sprintf("a pump new to %s is first filled with %s mcg/mL undiluted, not %s", drug, l.NaiveFillMCGPerML, describeFill(strengths, mcgPerML))
	}
	for _, s := range strengths {
		if HasStrength(l.UndilutedOnly, s) && !s.Equal(mcgPerML) {
			return fmt.Sprintf("it dilutes %s mcg/mL %s to %s mcg/mL, and the label uses %s mcg/mL undiluted", s, drug, mcgPerML, s)
		}
	}
	return ""
}

// describeFill is "5 mcg/mL diluted from 100 mcg/mL containers" or "100
// mcg/mL undiluted".
func describeFill(strengths []decimal.Decimal, mcgPerML decimal.Decimal) string {
	var from []string
	for _, s := range strengths {
		if t := s.String() + " mcg/mL"; !s.Equal(mcgPerML) && !containsString(from, t) {
			from = append(from, t)
		}
	}
	if len(from) == 0 {
		return mcgPerML.String() + " mcg/mL undiluted"
	}
	return fmt.Sprintf("%s mcg/mL diluted from %s containers", mcgPerML, strings.Join(from, " and "))
}

// DescribeFill is describeFill of containers' products.
func DescribeFill(cs []Container, mcgPerML decimal.Decimal) string {
	return describeFill(Strengths(cs), mcgPerML)
}

// Strengths are the strengths of containers, in order, each once.
func Strengths(cs []Container) []decimal.Decimal {
	var out []decimal.Decimal
	for _, c := range cs {
		if !HasStrength(out, c.Product.MCGPerML) {
			out = append(out, c.Product.MCGPerML)
		}
	}
	return out
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
