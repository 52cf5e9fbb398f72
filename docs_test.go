package pumpledger_test

import (
	"bytes"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
)

// TestDocsInputs: every example in docs/inputs.md is accepted by the parser
// of its kind (the block's info string: json refill, json reprogram, json
// patient), every kind has one, and every field the parsers read is
// documented, so the reference cannot rot.
func TestDocsInputs(t *testing.T) {
	doc, err := os.ReadFile("docs/inputs.md")
	if err != nil {
		t.Fatal(err)
	}
	parsers := map[string]func([]byte) error{
		"refill":    func(b []byte) error { _, err := pumpledger.ParseRefill(bytes.NewReader(b)); return err },
		"reprogram": func(b []byte) error { _, err := pumpledger.ParseReprogram(bytes.NewReader(b)); return err },
		"patient":   func(b []byte) error { _, err := pumpledger.ParsePatient(bytes.NewReader(b)); return err },
	}
	seen := map[string]int{}
	for _, m := range regexp.MustCompile("(?s)```json ([a-z]+)\n(.*?)```").FindAllSubmatch(doc, -1) {
		kind := string(m[1])
		parse, ok := parsers[kind]
		if !ok {
			t.Errorf("an example of unknown kind %q", kind)
			continue
		}
		seen[kind]++
		if err := parse(m[2]); err != nil {
			t.Errorf("the %s example %d is refused: %v\n%s", kind, seen[kind], err, m[2])
		}
	}
	for kind := range parsers {
		if seen[kind] == 0 {
			t.Errorf("no %s example", kind)
		}
	}
	for _, v := range []any{pumpledger.Refill{}, pumpledger.SolutionDrug{}, pumpledger.VialUse{}, pumpledger.Dose{}, pumpledger.Reprogram{}, pumpledger.Patient{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if !bytes.Contains(doc, []byte("| `"+name+"` |")) {
				t.Errorf("%s.%s (%q) has no row in docs/inputs.md", rt.Name(), rt.Field(i).Name, name)
			}
		}
	}
}

// TestREADMEStandsAlone: the README points to the inputs reference in the
// repository, never to a file a clone does not have.
func TestREADMEStandsAlone(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(readme, []byte("../")) {
		t.Error("README.md points outside the repository (../)")
	}
	if !bytes.Contains(readme, []byte("(docs/inputs.md)")) {
		t.Error("README.md does not point to docs/inputs.md")
	}
}
