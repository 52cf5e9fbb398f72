package main

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"
)

// TestUserFromEnvironmentChecked: $PUMPLEDGER_USER is stored as who recorded
// the entry, so it is held to the rule of every stored text; nothing is
// written, not even a new ledger.
func TestUserFromEnvironmentChecked(t *testing.T) {
	t.Setenv("PUMPLEDGER_USER", "clerk\x1b]0;pwned\x07")
	c := newCLI(t)
	code, out, errs := c.run("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	if code != 1 || out != "" || !strings.HasPrefix(errs, "pumpledger: $PUMPLEDGER_USER has an invisible or control character (U+001B)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := os.Stat(c.db); !os.IsNotExist(err) {
		t.Errorf("a ledger was left at %s (%v)", c.db, err)
	}
	// --by names someone else: the variable is not used.
	c.ok("", "--by", "clerk", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
}

// TestBillCSVNeutralisesFormulas: an MRN a spreadsheet would run as a formula
// reaches the biller's CSV as text.
func TestBillCSVNeutralisesFormulas(t *testing.T) {
	c := newCLI(t)
	for _, mrn := range []string{"=1+2", "-2+3", "+1+1", "@SUM(1+1)"} {
		serial := "S" + mrn
		c.ok("", "patient", "add", "--mrn", mrn, "--name", "Test Patient")
		c.ok("", "pump", "implant", "--mrn", mrn, "--serial", serial, "--model", "synchromed-ii-20", "--date", "2026-02-20")
		c.ok(strings.NewReplacer(`"MRN-1"`, `"`+mrn+`"`, `"S1"`, `"`+serial+`"`).Replace(fill1), "refill", "--file", "-")
	}
	rows, err := csv.NewReader(strings.NewReader(c.ok("", "bill", "--from", "2026-03-01", "--to", "2026-03-31"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 5 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows[1:] {
		if mrn := r[1]; !strings.HasPrefix(mrn, "'") {
			t.Errorf("mrn cell %q reaches the spreadsheet raw", mrn)
		}
		if units := r[5]; strings.HasPrefix(units, "'") {
			t.Errorf("units cell %q is no longer a number", units)
		}
	}
}

// TestMRNsX12Carries: an MRN an X12 claim cannot carry is refused when the
// patient is registered, so that it cannot fail an X12 export of every
// patient's claims later; the longest MRN accepted fits CLM01.
func TestMRNsX12Carries(t *testing.T) {
	c := newCLI(t)
	for _, mrn := range []string{"MRN~1", "MRN*1", "MRN:1", "MRN^1", strings.Repeat("9", 30)} {
		if code, _, errs := c.run("", "patient", "add", "--mrn", mrn, "--name", "Test Patient"); code != 1 || !strings.Contains(errs, "--mrn") {
			t.Errorf("--mrn %q: exit %d, stderr %q", mrn, code, errs)
		}
	}
	long := strings.Repeat("9", 29)
	c.ok("", "patient", "add", "--mrn", long, "--name", "Test Patient")
	c.ok("", "pump", "implant", "--mrn", long, "--serial", "S1", "--model", "synchromed-ii-20", "--date", "2026-02-20")
	c.ok(strings.Replace(fill1, `"MRN-1"`, `"`+long+`"`, 1), "refill", "--file", "-")
	if x12 := c.ok("", "bill", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "x12"); !strings.Contains(x12, "CLM*"+long+"-20260301*") {
		t.Errorf("the X12 export has no claim of %s:\n%s", long, x12)
	}
}
