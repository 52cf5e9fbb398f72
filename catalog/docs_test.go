package catalog_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/pumpledger/pumpledger/catalog"
)

// TestDocsCatalog: the example in docs/catalog.md loads, and every field of
// the embedded catalog's payer profiles and diagnoses has a row there, so the
// reference cannot rot.
func TestDocsCatalog(t *testing.T) {
	doc, err := os.ReadFile("../docs/catalog.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json catalog\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/catalog.md has no example")
	}
	c, err := catalog.Load(bytes.NewReader(m[1]), "docs/catalog.md")
	if err != nil {
		t.Fatalf("the example is refused: %v", err)
	}
	if p, ok := c.Payer("acme-health"); !ok || p.Code("ziconotide", "J2278") != "J2277" || !p.NeedsPriorAuth("J2278") {
		t.Errorf("the example's payer: %+v, %v", p, ok)
	}
	if d, ok := c.Diagnosis("G894"); !ok || d != "Chronic pain syndrome" {
		t.Errorf("the example's G89.4: %q, %v", d, ok)
	}
	var def struct {
		Drugs     []map[string]json.RawMessage `json:"drugs"`
		Pumps     []map[string]json.RawMessage `json:"pumps"`
		Payers    []map[string]json.RawMessage `json:"payers"`
		Diagnoses []map[string]json.RawMessage `json:"diagnoses"`
	}
	if err := json.Unmarshal(catalog.DefaultJSON(), &def); err != nil || len(def.Payers) == 0 || len(def.Diagnoses) == 0 {
		t.Fatalf("the embedded catalog: %v", err)
	}
	var label map[string]json.RawMessage
	if err := json.Unmarshal(def.Drugs[0]["label"], &label); err != nil {
		t.Fatalf("the embedded catalog's first label: %v", err)
	}
	for _, obj := range append(def.Pumps, label) {
		for key := range obj {
			if !bytes.Contains(doc, []byte("| `"+key+"` |")) {
				t.Errorf("pump or label field %q has no row in docs/catalog.md", key)
			}
		}
	}
	for _, obj := range def.Payers {
		for key := range obj {
			if !bytes.Contains(doc, []byte("| `"+key+"` |")) {
				t.Errorf("payer field %q has no row in docs/catalog.md", key)
			}
		}
	}
	for key := range def.Diagnoses[0] {
		if !bytes.Contains(doc, []byte(`"`+key+`"`)) {
			t.Errorf("diagnosis field %q is not in docs/catalog.md", key)
		}
	}
	for _, key := range []string{"payers", "diagnoses", "diagnoses_source"} {
		if !bytes.Contains(doc, []byte("`"+key+"`")) {
			t.Errorf("section %q is not in docs/catalog.md", key)
		}
	}
}
