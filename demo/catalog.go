package demo

import (
	"encoding/json"
	"fmt"

	"github.com/pumpledger/pumpledger/catalog"
)

// The embedded catalog lists no morphine containers: SPEC §2 leaves them to
// the site (and catalog's tests hold it to that). The demo's admixtures need
// some, so it adds these two, which exist nowhere else. They look like the
// preservative-free intrathecal morphine a clinic stocks (10 and 25 mg/mL in
// 20 mL single-dose ampuls), but their NDCs are made up (labeler 99999):
// never bill them.
const morphineProducts = `[
  {"ndc": "99999-910-20", "drug": "morphine", "mcg_per_ml": "10000", "ml": "20", "single_dose": true,
   "labeler": "SYNTHETIC (pumpledger demo)",
   "source": "SYNTHETIC, DEMO ONLY: not a real product or NDC (labeler 99999). Added by pumpledger demo for its admixtures, like a preservative-free morphine 200 mg/20 mL (10 mg/mL) single-dose ampul; list your site's real morphine products instead"},
  {"ndc": "99999-925-20", "drug": "morphine", "mcg_per_ml": "25000", "ml": "20", "single_dose": true,
   "labeler": "SYNTHETIC (pumpledger demo)",
   "source": "SYNTHETIC, DEMO ONLY: not a real product or NDC (labeler 99999). Added by pumpledger demo for its admixtures, like a preservative-free morphine 500 mg/20 mL (25 mg/mL) single-dose ampul; list your site's real morphine products instead"}
]`

// LacksMorphine reports whether cat names morphine but lists no container of
// it, so that the demo has no admixtures unless it adds its synthetic ones
// (WithMorphine).
func LacksMorphine(cat *catalog.Catalog) bool {
	m, ok := cat.Drug("morphine")
	return ok && len(cat.ProductsOf(m.Name)) == 0
}

// WithMorphine returns the catalog file base (the embedded one, or a site's)
// with the demo's synthetic morphine containers added and its "about" saying
// so: a catalog for the demo's ledger only. The result is indented JSON with
// the keys in order, the same for the same base.
func WithMorphine(base []byte) ([]byte, error) {
	var file map[string]json.RawMessage
	if err := json.Unmarshal(base, &file); err != nil {
		return nil, fmt.Errorf("read the catalog: %w", err)
	}
	var products, extra []json.RawMessage
	if p, ok := file["products"]; ok {
		if err := json.Unmarshal(p, &products); err != nil {
			return nil, fmt.Errorf("read the catalog's products: %w", err)
		}
	}
	if err := json.Unmarshal([]byte(morphineProducts), &extra); err != nil {
		return nil, err
	}
	about := "DEMO CATALOG, written by pumpledger demo for its ledger only: the catalog it ran with, plus two SYNTHETIC " +
		"morphine products (labeler 99999, not real NDCs) for the demo's admixtures. Never use it for a clinic's ledger."
	if a, ok := file["about"]; ok {
		var was string
		if json.Unmarshal(a, &was) == nil && was != "" {
			about += " It was: " + was
		}
	}
	var err error
	if file["about"], err = json.Marshal(about); err != nil {
		return nil, err
	}
	if file["products"], err = json.Marshal(append(products, extra...)); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
