package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/internal/x12check"
)

// The demo's February 2026 as whole 837P interchanges (testdata/cmd/
// demo-2026-02*.837p, `go test ./cmd/pumpledger -run 837P -update`, read
// by eye): as `make demo` bills it, the visits with error findings held
// back and the claim the ledger cannot fill refused on stderr; and with
// --allow-findings, every claim it can fill (the admixture's J7799-KD line
// with its narrative among them). Each passes the X222A1 check and is read
// by node-x12, a parser written by others.
func TestBill837PGolden(t *testing.T) {
	c := newCLI(t)
	c.ok("", "demo")
	var files []string
	for _, tt := range []struct {
		name, refused string
		args          []string
	}{
		{"demo-2026-02.837p", "refused: claim MRN-1005-20260225 (MRN-1005, 2026-02-25) is not written; it needs a diagnosis on file by 2026-02-25 (pumpledger diagnosis add).\n", nil},
		{"demo-2026-02-all.837p", "refused: claim MRN-1005-20260211 (MRN-1005, 2026-02-11) is not written; it needs a diagnosis on file by 2026-02-11 (pumpledger diagnosis add).\n", []string{"--allow-findings"}},
	} {
		code, out, errs := c.run("", append([]string{"bill", "--from", "2026-02-01", "--to", "2026-02-28", "--as-of", "2026-03-15", "--format", "837p"}, tt.args...)...)
		if code != 0 || !strings.Contains(errs, tt.refused) {
			t.Errorf("%s: exit %d, stderr lacks %q:\n%s", tt.name, code, tt.refused, errs)
		}
		golden(t, tt.name, []byte(out))
		for _, err := range x12check.Check(out) {
			t.Errorf("%s: %v", tt.name, err)
		}
		files = append(files, filepath.Join("..", "..", "testdata", "cmd", tt.name))
	}
	if !strings.Contains(c.ok("", "bill", "--from", "2026-02-01", "--to", "2026-02-28", "--as-of", "2026-03-15", "--format", "837p", "--allow-findings"), "SV1*HC:J7799:KD::::") {
		t.Error("the month's admixture has no J7799-KD line with its narrative")
	}
	nodeX12(t, files...)
}

// nodeX12 parses files with node-x12 (tools/x12check, installed by `make
// deps`), strictly: envelope counts and control numbers, every segment read.
func nodeX12(t *testing.T, files ...string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the 837P files are not parsed by node-x12 (CI installs node)")
	}
	dir := filepath.Join("..", "..", "tools", "x12check")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "node-x12")); err != nil {
		t.Fatal("node-x12 is not installed: run `make deps`")
	}
	cmd := exec.Command(node, append([]string{filepath.Join(dir, "check.js")}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("node-x12 refuses the 837P: %v\n%s", err, out)
	}
}

// bill --submit records the claims sent; history shows each; the same
// month again sends none of them; --submit needs the 837P.
func TestBillSubmit(t *testing.T) {
	c := newCLI(t)
	c.ok("", "demo")
	args := []string{"bill", "--from", "2026-02-01", "--to", "2026-02-28", "--as-of", "2026-03-15", "--format", "837p"}
	code, _, errs := c.run("", append(args, "--submit")...)
	if code != 0 || !strings.Contains(errs, "submitted: 8 claims recorded as sent (see history).\n") {
		t.Fatalf("--submit: exit %d\n%s", code, errs)
	}
	h := c.ok("", "history", "--mrn", "MRN-1001")
	if !regexp.MustCompile(`submission .*\n   claim MRN-1001-20260209 of 2026-02-09 sent as original \(frequency 1\): 1 lines, \$130\.00, interchange 000000120 sha256 [0-9a-f]{64}, covered by the checkpoint of tree size 120\n   visits [^\n]+\n   to DEMO MEDICARE B \(payer id 15202, profile medicare-part-b\), member DEMO7808181\n`).MatchString(h) {
		t.Errorf("history does not show the claim sent:\n%s", h)
	}
	code, out, errs := c.run("", args...)
	if code != 1 || out != "" || strings.Count(errs, "not sent again: claim ") != 8 {
		t.Errorf("the month again: exit %d, stdout %q\n%s", code, out, errs)
	}
	if code, _, errs := c.run("", "bill", "--from", "2026-02-01", "--to", "2026-02-28", "--submit"); code != 2 || !strings.Contains(errs, "--submit records an interchange as sent; give --format 837p") {
		t.Errorf("--submit of a CSV: exit %d %s", code, errs)
	}
}
