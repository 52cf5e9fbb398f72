package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fhir writes the Bundle to stdout or to a new 0600 file, the same bytes;
// an existing --out, a bad date and an unknown patient are each refused
// with one sentence, exit 1, the existing file untouched.
func TestFHIRCommand(t *testing.T) {
	c := newCLI(t)
	c.seed()
	bundle := c.ok("", "fhir", "--mrn", "MRN-1")
	for _, want := range []string{`"resourceType": "Bundle"`, `"type": "collection"`, `"resourceType": "Procedure"`, `"code": "62368"`} {
		if !strings.Contains(bundle, want) {
			t.Errorf("fhir printed no %s", want)
		}
	}
	out := filepath.Join(t.TempDir(), "b.json")
	if got, want := c.ok("", "fhir", "--mrn", "MRN-1", "--out", out), "Wrote the FHIR R4 Bundle of MRN-1 (9 resources) to "+out+".\n"; got != want {
		t.Errorf("fhir --out printed %q, want %q", got, want)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("the bundle file is %v, want 0600: it is PHI", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(out); string(b) != bundle {
		t.Error("the file differs from what stdout printed")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", out}, "pumpledger: The file " + out + " exists; remove it or choose another name for --out.\n"},
		{[]string{"--from", "2026-3-1"}, "pumpledger: --from must be a date like 2026-03-01, not \"2026-3-1\".\n"},
		{[]string{"--from", "2026-03-31", "--to", "2026-03-01"}, "pumpledger: --to 2026-03-01 is before the first date, 2026-03-31; swap the two dates.\n"},
	} {
		code, _, errs := c.run("", append([]string{"fhir", "--mrn", "MRN-1"}, tc.args...)...)
		if code != 1 || errs != tc.want {
			t.Errorf("fhir %v: exit %d, %q; want exit 1, %q", tc.args, code, errs, tc.want)
		}
	}
	if code, _, errs := c.run("", "fhir", "--mrn", "MRN-9"); code != 1 || !strings.HasPrefix(errs, "pumpledger: Unknown patient MRN-9;") {
		t.Errorf("unknown patient: exit %d, %q", code, errs)
	}
	if b, _ := os.ReadFile(out); string(b) != bundle {
		t.Error("a refused export changed the existing file")
	}
}
