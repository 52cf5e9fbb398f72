package pumpledger_test

import (
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
)

var dupKeyCases = []struct{ in, key, path string }{
	{`{"fill_ml": 20, "fill_ml": 2}`, "fill_ml", "fill_ml"},
	{`{"dose": {"drug": "a", "drug": "b"}}`, "drug", "dose.drug"},
	{`{"vials": [{"count": 1}, {"count": 1, "count": 2}]}`, "count", "vials[1].count"},
	{`[1, "x", {"a": 1, "a": 2}]`, "a", "[2].a"},
	{`{"a": {"b": 1}, "a": 2}`, "a", "a"},
	{`{"a": [[], {"b": {}}], "c": {"d": [1, {"e": 0, "e": 0}]}}`, "e", "c.d[1].e"},
	{`{"a": {"x": 1}, "b": {"x": 1}}`, "", ""}, // equal keys, other objects
	{`{"a": 1, "b": [{"a": 1}]}`, "", ""},
	{`{"a": 1, "a"`, "a", "a"}, // found before the JSON breaks
	{`not json`, "", ""},
	{``, "", ""},
}

// The one duplicate-key check of every input and the catalog: any depth,
// with the key's path.
func TestDuplicateKey(t *testing.T) {
	for _, tc := range dupKeyCases {
		key, path, ok := pumpledger.DuplicateKey([]byte(tc.in))
		if key != tc.key || path != tc.path || ok != (tc.key != "") {
			t.Errorf("DuplicateKey(%s) = %q, %q, %v; want %q, %q", tc.in, key, path, ok, tc.key, tc.path)
		}
	}
}

func FuzzDuplicateKey(f *testing.F) {
	for _, tc := range dupKeyCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		key, path, ok := pumpledger.DuplicateKey(data)
		if ok && !strings.HasSuffix(path, key) {
			t.Errorf("DuplicateKey(%q) = %q at %q", data, key, path)
		}
		if !ok && (key != "" || path != "") {
			t.Errorf("DuplicateKey(%q) = %q, %q with no duplicate", data, key, path)
		}
	})
}
