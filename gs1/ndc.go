package gs1

import (
	"strings"

	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/vial"
)

// Candidates are the 11-digit (5-4-2) NDCs that 10 digits can be: the GTIN
// drops the hyphens, so the padding zero may belong to any one segment
// (4-4-2, 5-3-2 or 5-4-1).
func Candidates(ndc10 string) []vial.NDC {
	if len(ndc10) != 10 || !digits(ndc10) {
		return nil
	}
	d := ndc10
	return []vial.NDC{
		{Labeler: "0" + d[:4], Product: d[4:8], Package: d[8:]}, // 4-4-2
		{Labeler: d[:5], Product: "0" + d[5:8], Package: d[8:]}, // 5-3-2
		{Labeler: d[:5], Product: d[5:9], Package: "0" + d[9:]}, // 5-4-1
	}
}

// Product is the catalog's product whose NDC the 10 digits are. The
// catalog, which knows each NDC's layout, decides; two of its products
// that read the same without hyphens are refused rather than guessed.
func Product(cat *catalog.Catalog, ndc10 string) (vial.Product, error) {
	var found []vial.Product
	for _, n := range Candidates(ndc10) {
		if p, ok := cat.Product(n); ok {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return vial.Product{}, invalid("NDC %s (from the GTIN) is not a product of the catalog in force; check the vial is one the clinic stocks, or add its product to a site catalog.", ndc10)
	}
	var names []string
	for _, p := range found {
		names = append(names, p.Printed)
	}
	return vial.Product{}, invalid("NDC %s (from the GTIN) is each of the catalog's %s; enter the NDC by hand as printed on the label.", ndc10, strings.Join(names, " and "))
}
