package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUserFromEnvironmentChecked: $PUMPLEDGER_USER is stored as who recorded
// the entry, so it is held to the rule of every stored text; nothing is
// written, not even a new ledger.
func TestUserFromEnvironmentChecked(t *testing.T) {
	t.Setenv("PUMPLEDGER_USER", "clerk\x1b]0;pwned\x07")
	c := noLedger(t)
	code, out, errs := c.run("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	if code != 1 || out != "" || !strings.HasPrefix(errs, "pumpledger: $PUMPLEDGER_USER has an invisible or control character (U+001B)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := os.Stat(c.db); !os.IsNotExist(err) {
		t.Errorf("a ledger was left at %s (%v)", c.db, err)
	}
	// --by names someone else: the variable is not used.
	c.ok("", "--by", "clerk", "init")
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

// change2 is a dose change after change1, before fill2.
const change2 = `{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-20T10:00:00-04:00","clinician":"drx",
 "dose":{"drug":"ziconotide","mcg_per_day":"3.6"},"procedure":"62368"}`

// TestDryRun: reprogram and correct --dry-run run the whole append (checks,
// derivation, the re-derivation of later entries) and write nothing: not a
// byte of the ledger or its key; what they show is what recording shows.
func TestDryRun(t *testing.T) {
	c := newCLI(t)
	c.seed()
	ids := entryIDs(t, c, "MRN-1")
	var fill1ID string
	for id, name := range ids {
		if name == "$refill-MRN-1" {
			fill1ID = id
		}
	}
	unchanged := func(what string, run func()) {
		t.Helper()
		before := readState(t, c)
		run()
		after := readState(t, c)
		if !bytes.Equal(before.file, after.file) || !bytes.Equal(before.key, after.key) || !bytes.Equal(before.content, after.content) {
			t.Errorf("%s wrote to the ledger", what)
		}
	}
	var preview string
	unchanged("reprogram --dry-run", func() { preview = c.ok(change2, "reprogram", "--file", "-", "--dry-run") })
	for _, want := range []string{"PREVIEW: nothing written", "Would record dose change for pump S1: ziconotide 3.6 mcg/day", "Next refill now due: "} {
		if !strings.Contains(preview, want) {
			t.Errorf("reprogram --dry-run says:\n%s\nwant %q", preview, want)
		}
	}
	unchanged("reprogram --dry-run --json", func() {
		if out := c.ok(change2, "reprogram", "--file", "-", "--dry-run", "--json"); !strings.Contains(out, `"dry_run": true`) {
			t.Errorf("reprogram --dry-run --json: %s", out)
		}
	})
	// A replacement refill with another lot: the correction and what it bills.
	repl := strings.Replace(fill1, `"lot":"L1"`, `"lot":"L9"`, 1)
	unchanged("correct --dry-run", func() {
		preview = c.ok(repl, "correct", "--entry", fill1ID, "--reason", "wrong lot", "--file", "-", "--dry-run")
	})
	for _, want := range []string{"PREVIEW: nothing written", "Would void entry " + fill1ID + ": wrong lot", "Would record its replacement as entry ", "JW units"} {
		if !strings.Contains(preview, want) {
			t.Errorf("correct --dry-run says:\n%s\nwant %q", preview, want)
		}
	}
	// Refused as the real correction is, with the same sentence.
	unchanged("a refused correct --dry-run", func() {
		bad := strings.Replace(fill1, `"fill_ml":"20"`, `"fill_ml":"21"`, 1)
		code, _, dryErr := c.run(bad, "correct", "--entry", fill1ID, "--reason", "x", "--file", "-", "--dry-run")
		_, _, realErr := c.run(bad, "correct", "--entry", fill1ID, "--reason", "x", "--file", "-")
		if code != 1 || dryErr != realErr {
			t.Errorf("exit %d, stderr %q; recording says %q", code, dryErr, realErr)
		}
	})
	// What the dry run showed is what recording shows.
	real := c.ok(change2, "reprogram", "--file", "-")
	_, dryDue, _ := strings.Cut(c.ok(strings.Replace(change2, "03-20", "03-21", 1), "reprogram", "--file", "-", "--dry-run"), "Next refill")
	_, realDue, _ := strings.Cut(c.ok(strings.Replace(change2, "03-20", "03-21", 1), "reprogram", "--file", "-"), "Next refill")
	if dryDue == "" || dryDue != realDue || !strings.HasPrefix(real, "Recorded dose change") {
		t.Errorf("the dry run said %q, recording %q", dryDue, realDue)
	}
	// Nothing to check against: refused, no ledger made.
	fresh := noLedger(t)
	if code, _, errs := fresh.run(change2, "reprogram", "--file", "-", "--dry-run"); code != 1 || !strings.Contains(errs, "No ledger at") {
		t.Errorf("dry run on no ledger: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(fresh.db); !os.IsNotExist(err) {
		t.Errorf("the dry run made a ledger")
	}
}

// TestAlreadyRecordedHintWorks: the command an "already recorded" refusal
// gives works as printed, once its placeholder FILE is named.
func TestAlreadyRecordedHintWorks(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok(fill2, "refill", "--file", "-")
	dir := t.TempDir()
	try := func(name, input, file string) {
		t.Helper()
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(input), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errs := c.run("", "refill", "--file", path)
		_, hint, ok := strings.Cut(errs, "`")
		hint, _, ok2 := strings.Cut(hint, "`")
		if code != 1 || !ok || !ok2 {
			t.Fatalf("%s: exit %d, stderr %q", name, code, errs)
		}
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		argv := shellWords(strings.Replace(hint, "FILE", path, 1))
		if argv[0] != "pumpledger" {
			t.Fatalf("%s: the hint %q is not a pumpledger command", name, hint)
		}
		if code, out, errs := c.run("", argv[1:]...); code != 0 || !strings.Contains(out, "Recorded its replacement") {
			t.Errorf("%s: `%s` as printed (%q): exit %d\n%s%s", name, hint, argv, code, out, errs)
		}
	}
	// The same id with other content: replace it with the input, its id removed.
	changed := strings.Replace(fill2, `"residual_ml":5.5`, `"residual_ml":5.6`, 1)
	_, noID, _ := strings.Cut(changed, `"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",`)
	try("same id", changed, "{"+noID)
	// Another refill at the same instant: replace it with the input as it is.
	again := strings.Replace(strings.Replace(changed, "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", unusedID, 1), `"residual_ml":5.6`, `"residual_ml":5.7`, 1)
	try("same instant", again, again)
}

// shellWords splits a command line as a shell would, for the simple quoting
// pumpledger's hints use: words, and "double-quoted words".
func shellWords(s string) []string {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			w, rest, _ := strings.Cut(s[1:], `"`)
			out, s = append(out, w), rest
			continue
		}
		w, rest, _ := strings.Cut(s, " ")
		out, s = append(out, w), rest
	}
	return out
}

// TestCatalogFileMustBeInForce: a --catalog file that is not the catalog the
// ledger has in force is refused by every command that derives from the
// ledger, a dry run as much as the command it previews: a file never
// silently stands in for what the ledger pins.
func TestCatalogFileMustBeInForce(t *testing.T) {
	c := newCLI(t)
	c.seed()
	// The embedded catalog, re-indented: other bytes, so not the one in force.
	var v any
	if err := json.Unmarshal([]byte(c.ok("", "catalog", "--default")), &v); err != nil {
		t.Fatal(err)
	}
	other, err := json.MarshalIndent(v, "", "   ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(path, other, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"", args("history", "--mrn", "MRN-1")},
		{"", args("bill", "--from", "2026-03-01", "--to", "2026-03-31")},
		{change2, args("reprogram", "--file", "-")},
		{change2, args("reprogram", "--file", "-", "--dry-run")},
		{"", args("correct", "--entry", "no-such-entry", "--reason", "x")},
		{"", args("correct", "--entry", "no-such-entry", "--reason", "x", "--dry-run")},
	} {
		before := readState(t, c)
		code, _, errs := c.run(tc.stdin, append([]string{"--catalog", path}, tc.args...)...)
		if code != 1 || !strings.Contains(errs, "holds its own catalog") || !strings.Contains(errs, "catalog adopt "+path) {
			t.Errorf("--catalog %s %s: exit %d, %q; want the file refused, naming catalog adopt", path, strings.Join(tc.args, " "), code, errs)
		}
		if after := readState(t, c); !bytes.Equal(before.content, after.content) {
			t.Errorf("--catalog %s %s wrote to the ledger", path, strings.Join(tc.args, " "))
		}
	}
}

// TestCatalogAdoptFileAnywhere: catalog adopt takes its FILE before, after
// or between its flags, and refuses none or two as usage errors.
func TestCatalogAdoptFileAnywhere(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "site.json")
	c := newCLI(t)
	var v any
	if err := json.Unmarshal([]byte(c.ok("", "catalog", "--default")), &v); err != nil {
		t.Fatal(err)
	}
	other, _ := json.MarshalIndent(v, "", "   ")
	if err := os.WriteFile(file, other, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{args(file, "--reason", "new prices"), 0, "Adopted site.json as catalog version 2"},
		{args("--reason", "new prices", file), 0, "Adopted site.json"},
		{args("--reason=new prices", file, "--from", "2026-01-01"), 0, "in force from 2026-01-01"},
		{args("--from", "2026-01-01", file, "--reason", "new prices"), 0, "in force from 2026-01-01"},
		{args("--reason", "new prices"), 2, "catalog adopt needs the catalog FILE"},
		{args(file, file, "--reason", "new prices"), 2, "unexpected argument"},
		{args(file), 2, "catalog adopt needs --reason"},
	} {
		c := newCLI(t)
		code, out, errs := c.run("", append([]string{"catalog", "adopt"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("catalog adopt %s: exit %d, %q %q; want exit %d and %q", strings.Join(tc.args, " "), code, out, errs, tc.code, tc.want)
		}
	}
}

// TestRefillDryRunRefusesWhatRecordingRefuses: a refill recorded late,
// before a dose change it makes underivable, is refused; its dry run
// previews the same append, re-derivation of the later entries included,
// so it is refused with the same sentence, not shown as fine.
func TestRefillDryRunRefusesWhatRecordingRefuses(t *testing.T) {
	cat, err := filepath.Abs("../../testdata/catalog-test.json")
	if err != nil {
		t.Fatal(err)
	}
	c := noLedger(t)
	c.ok("", "--catalog", cat, "init")
	c.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	c.ok("", "pump", "implant", "--mrn", "MRN-1", "--serial", "S1", "--model", "synchromed-ii-20", "--date", "2026-01-20")
	fill := func(at, solution, vials, diluent, dose string) string {
		return `{"mrn":"MRN-1","pump_serial":"S1","performed_at":"` + at + `","nurse":"jdoe","residual_ml":"0","fill_ml":"20",
			"solution":` + solution + `,"vials":` + vials + `,"diluent_ml":"` + diluent + `","dose":` + dose + `,"procedure":"95990"}`
	}
	c.ok(fill("2026-02-01T09:00:00Z", `[{"drug":"ziconotide","mcg_per_ml":"2.5"},{"drug":"morphine","mcg_per_ml":"5000"}]`,
		`[{"ndc":"70720-720-10","count":1,"lot":"A"},{"ndc":"99999-101-01","count":1,"lot":"B"}]`, "15.5", `{"drug":"ziconotide","mcg_per_day":"1.2"}`), "refill", "--file", "-")
	c.ok(`{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-02-05T09:00:00Z","clinician":"drx","dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"62368"}`, "reprogram", "--file", "-")
	// Morphine only, back-dated before the ziconotide dose change.
	late := fill("2026-02-03T09:00:00Z", `[{"drug":"morphine","mcg_per_ml":"5000"}]`, `[{"ndc":"99999-101-01","count":1,"lot":"C"}]`, "16", `{"drug":"morphine","mcg_per_day":"1000"}`)
	before := readState(t, c)
	dryCode, _, dryErr := c.run(late, "refill", "--file", "-", "--dry-run")
	if after := readState(t, c); !bytes.Equal(before.content, after.content) {
		t.Fatal("refill --dry-run wrote to the ledger")
	}
	code, _, realErr := c.run(late, "refill", "--file", "-")
	if code != 1 || !strings.Contains(realErr, "late refill") {
		t.Fatalf("recording the late refill: exit %d, %q; want it refused", code, realErr)
	}
	if dryCode != 1 || dryErr != realErr {
		t.Errorf("refill --dry-run: exit %d, %q; recording says %q", dryCode, dryErr, realErr)
	}
}
