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
// of its kind (the block's info string: json refill, json diagnosis, ...),
// every kind read from a file has one, and every field the parsers read is
// documented (a clinical kind's in its own section), so the reference cannot
// rot.
func TestDocsInputs(t *testing.T) {
	doc, err := os.ReadFile("docs/inputs.md")
	if err != nil {
		t.Fatal(err)
	}
	parsers := map[string]func([]byte) error{}
	for _, s := range pumpledger.Kinds() {
		if s.Parse != nil {
			parsers[string(s.Kind)] = func(b []byte) error { _, err := pumpledger.ParseInput(s.Kind, bytes.NewReader(b)); return err }
		}
	}
	for _, k := range []string{"refill", "reprogram", "patient", "diagnosis", "coverage", "authorization", "therapy", "trial", "consent", "assessment"} {
		if parsers[k] == nil {
			t.Errorf("kind %s is not read from a file", k)
		}
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
	for _, v := range []any{pumpledger.Refill{}, pumpledger.SolutionDrug{}, pumpledger.VialUse{}, pumpledger.Dose{}, pumpledger.Reprogram{}, pumpledger.Patient{}, pumpledger.Address{}} {
		for _, name := range jsonFields(v) {
			if !bytes.Contains(doc, []byte("| `"+name+"` |")) {
				t.Errorf("%T field %q has no row in docs/inputs.md", v, name)
			}
		}
	}
	for _, tt := range []struct {
		heading string
		v       any
	}{
		{"### Documents", pumpledger.Attachment{}},
		{"### Diagnosis", pumpledger.Diagnosis{}},
		{"### Coverage", pumpledger.Coverage{}},
		{"### Coverage", pumpledger.Subscriber{}},
		{"### Authorization", pumpledger.Authorization{}},
		{"### Therapy", pumpledger.Therapy{}},
		{"### Trial", pumpledger.Trial{}},
		{"### Consent", pumpledger.Consent{}},
		{"### Assessment", pumpledger.Assessment{}},
		{"## The practice (site)", pumpledger.Site{}},
	} {
		_, section, ok := bytes.Cut(doc, []byte("\n"+tt.heading+"\n"))
		if !ok {
			t.Errorf("docs/inputs.md has no section %q", tt.heading)
			continue
		}
		if end := bytes.Index(section, []byte("\n#")); end >= 0 {
			section = section[:end]
		}
		for _, name := range jsonFields(tt.v) {
			// id and mrn are said once for every clinical kind.
			if (name != "id" || tt.heading == "## The practice (site)") && name != "mrn" && !bytes.Contains(section, []byte("| `"+name+"` |")) {
				t.Errorf("%T field %q has no row in docs/inputs.md's %s", tt.v, name, tt.heading)
			}
		}
	}
}

// jsonFields are the JSON names of v's fields, leaving out those never in
// JSON ("-").
func jsonFields(v any) []string {
	rt := reflect.TypeOf(v)
	var out []string
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "-" {
			out = append(out, name)
		}
	}
	return out
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
