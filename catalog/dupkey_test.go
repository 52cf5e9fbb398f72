package catalog_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/catalog"
)

// A key given twice in the catalog is refused, at any depth: encoding/json
// would keep the last silently (found by the bad-input catalogue's
// duplicate-key cases, seeded into FuzzLoad).
func TestLoadRefusesDuplicateKeys(t *testing.T) {
	def := string(catalog.DefaultJSON())
	for _, tc := range []struct{ old, new, want string }{
		{`"version": 1`, `"version": 1, "version": 1`, `"version" appears twice`},
		{`"name": "ziconotide"`, `"name": "ziconotide", "name": "morphine"`, `drugs entry: "name" is given twice`},
		{`"naive_rinse_mcg_per_ml": "25"`, `"naive_rinse_mcg_per_ml": "25", "naive_rinse_mcg_per_ml": "100"`, `"naive_rinse_mcg_per_ml" is given twice`},
	} {
		in := strings.Replace(def, tc.old, tc.new, 1)
		if in == def {
			t.Fatalf("%q is not in the default catalog", tc.old)
		}
		_, err := catalog.Load(bytes.NewReader([]byte(in)), "site.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "site.json line ") {
			t.Errorf("%s: %v, want a line-numbered refusal containing %q", tc.new, err, tc.want)
		}
	}
	// Equal keys in different objects are not duplicates.
	if _, err := catalog.Load(bytes.NewReader(catalog.DefaultJSON()), "default.json"); err != nil {
		t.Fatal(err)
	}
}
