package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
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
	if code != 1 || out != "" || strings.Count(errs, "not sent again: claim ") != 8 ||
		!strings.Contains(errs, "Nothing new to send for 2026-02-01 to 2026-02-28: 8 claims sent before and unchanged since, 1 left out for what they lack, 10 lines are held back by their visits' error findings; nothing is written or recorded.") {
		t.Errorf("the month again: exit %d, stdout %q\n%s", code, out, errs)
	}
	if code, _, errs := c.run("", "bill", "--from", "2026-02-01", "--to", "2026-02-28", "--submit"); code != 2 || !strings.Contains(errs, "--submit records an interchange as sent; give --format 837p") {
		t.Errorf("--submit of a CSV: exit %d %s", code, errs)
	}
}

// submissions lists the claims sent for a period, golden
// (testdata/cmd/submissions-2026-02.golden, `go test ./cmd/pumpledger -run
// Submissions -update`, read by eye): the demo's February sent, then a
// visit voided and the month sent again: its claim voided by a frequency-8
// claim that names the interchange it voids. --json is the same rows;
// a bad range is one sentence naming the flag.
func TestSubmissions(t *testing.T) {
	t.Setenv("PUMPLEDGER_USER", "biller")
	c := newCLI(t)
	c.ok("", "demo")
	norm := newNormalizer()
	bill := []string{"bill", "--from", "2026-02-01", "--to", "2026-02-28", "--as-of", "2026-03-15", "--format", "837p", "--submit"}
	c.ok("", bill...)
	var items []clinic.Item
	if err := json.Unmarshal([]byte(c.ok("", "history", "--mrn", "MRN-1001", "--json")), &items); err != nil {
		t.Fatal(err)
	}
	visit := ""
	for _, it := range items {
		if it.Entry.Kind == pumpledger.KindReprogram && it.Entry.PerformedAt.Format(time.DateOnly) == "2026-02-09" {
			visit = it.Entry.ID
		}
	}
	c.ok("", "correct", "--entry", visit, "--reason", "entered on the wrong patient")
	c.ok("", bill...)

	out := c.ok("", "submissions", "--from", "2026-02-01", "--to", "2026-02-28")
	golden(t, "submissions-2026-02.golden", []byte(norm.apply(t, out)))
	var rows []clinic.SentClaim
	if err := json.Unmarshal([]byte(c.ok("", "submissions", "--from", "2026-02-09", "--to", "2026-02-09", "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].State != clinic.ClaimVoided || rows[1].Frequency != "8" || rows[1].Replaces != rows[0].ID ||
		rows[0].MRN != "MRN-1001" || len(rows[0].FileSHA256) != 64 || rows[0].RecordedBy != "biller" {
		t.Errorf("--json of 9 February: %+v", rows)
	}
	if out := c.ok("", "submissions", "--from", "2026-01-01", "--to", "2026-01-31", "--json"); out != "[]\n" {
		t.Errorf("a month with nothing sent: %q, want []", out)
	}
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--from", "2026-02-28", "--to", "2026-02-01"}, 1, "pumpledger: --to 2026-02-01 is before the first date, 2026-02-28; swap the two dates.\n"},
		{[]string{"--from", "Feb", "--to", "2026-02-28"}, 1, "pumpledger: --from must be a date like 2026-03-01, not \"Feb\".\n"},
	} {
		if code, out, errs := c.run("", append([]string{"submissions"}, tt.args...)...); code != tt.code || out != "" || errs != tt.err {
			t.Errorf("submissions %v: exit %d %q %q", tt.args, code, out, errs)
		}
	}
	if code, _, errs := c.run("", "submissions", "--from", "2026-02-01"); code != 2 || !strings.HasPrefix(errs, "pumpledger: submissions needs --to\n") {
		t.Errorf("no --to: exit %d %q", code, errs)
	}
}
