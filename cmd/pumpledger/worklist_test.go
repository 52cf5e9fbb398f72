package main

import (
	"encoding/json"
	"testing"
)

// The worklist's text, golden (`go test ./cmd/pumpledger -run Worklist
// -update`; read the diff by eye): MRN-1's pump due within the week, and
// its flagged refill of 31 March, until a review names it.
func TestWorklist(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok(fill2, "refill", "--file", "-")
	out := c.ok("", "worklist", "--as-of", "2026-05-05")
	golden(t, "worklist.golden", []byte(out))

	var items []map[string]any
	if err := json.Unmarshal([]byte(c.ok("", "worklist", "--as-of", "2026-05-05", "--within", "2", "--json")), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0]["why"] != "review" || items[0]["refill"] != "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b" {
		t.Errorf("within 2 days: %v, want only the review", items)
	}
	c.ok(`{"mrn":"MRN-1","refill":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","at":"2026-04-01T10:00:00-04:00","clinician":"drx","finding":"syringe misread"}`, "review", "add", "--file", "-")
	if err := json.Unmarshal([]byte(c.ok("", "worklist", "--as-of", "2026-05-05", "--within", "2", "--json")), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 0 {
		t.Errorf("reviewed: %v, want nothing", items)
	}
	if code, _, errs := c.run("", "worklist", "--as-of", "5 May"); code != 1 || errs != "pumpledger: --as-of \"5 May\" is not a date; give it as YYYY-MM-DD.\n" {
		t.Errorf("a bad date: exit %d, %q", code, errs)
	}
}
