package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/cmd")

// cli runs the command in-process against a ledger in dir.
type cli struct {
	t  *testing.T
	db string
}

// newCLI is a cli on a new ledger, made by init.
func newCLI(t *testing.T) *cli {
	c := noLedger(t)
	c.ok("", "init")
	return c
}

// noLedger is a cli on a --db path where there is no ledger.
func noLedger(t *testing.T) *cli { return &cli{t: t, db: filepath.Join(t.TempDir(), "l.db")} }

func (c *cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"--db", c.db}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("pumpledger %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

const fill1 = `{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-01T09:00:00-05:00","nurse":"jdoe",
 "residual_ml":"0","rinse_ml":"6","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"5"}],
 "vials":[{"ndc":"70720-723-10","count":1,"lot":"L1","expires":"2027-06-30"}],
 "diluent_ml":"16","dose":{"drug":"ziconotide","mcg_per_day":"1.2"},"procedure":"95990"}`

const change1 = `{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-11T10:00:00-04:00","clinician":"drx",
 "dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"62368"}`

const fill2 = `{"id":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-31T10:00:00-04:00","nurse":"jdoe","witness":"asmith",
 "residual_ml":5.5,"fill_ml":20,"solution":[{"drug":"J2277","mcg_per_ml":7.5}],
 "vials":[{"ndc":"70720-720-10","count":2,"lot":"L3","expires":"2027-06-30"}],
 "diluent_ml":18.5,"dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"95990"}`

func (c *cli) seed() {
	c.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	c.ok("", "pump", "implant", "--mrn", "MRN-1", "--serial", "S1", "--model", "synchromed-ii-20", "--date", "2026-02-20")
	c.ok(fill1, "refill", "--file", "-")
	c.ok(change1, "reprogram", "--file", "-")
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "cmd", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/pumpledger -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// The SPEC §6 worked example through the command, across the 8 March
// daylight-saving change (09:00 -05:00 to 10:00 -04:00 is 30 real days):
// refill --json carries the
// contract's names and figures.
func TestRefillJSONContract(t *testing.T) {
	c := newCLI(t)
	c.seed()
	out := c.ok(fill2, "refill", "--file", "-", "--json")
	var rec map[string]any
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatal(err)
	}
	iv := rec["interval"].(map[string]any)
	for k, want := range map[string]any{"days": "30", "expected_residual_ml": "8", "residual_ml": "5.5", "discrepancy_ml": "-2.5", "discrepancy_flagged": true} {
		if iv[k] != want {
			t.Errorf("interval.%s = %v, want %v", k, iv[k], want)
		}
	}
	d := rec["drugs"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"drug": "ziconotide", "code": "J2278", "dispensed_mcg": "150", "opened_mcg": "200", "waste_mcg": "50", "units": 150.0, "waste_units": 50.0} {
		if d[k] != want {
			t.Errorf("drugs[0].%s = %v, want %v", k, d[k], want)
		}
	}
	// Stable fields only: the id is given, so the whole record is golden.
	golden(t, "refill-worked-example.json", []byte(out))
}

func TestBillFormats(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok(fill2, "refill", "--file", "-")
	for _, f := range []string{"csv", "json", "x12"} {
		out := c.ok("", "bill", "--from", "2026-03-31", "--to", "2026-03-31", "--format", f)
		golden(t, "bill-2026-03-31."+f, []byte(out))
	}
}

// Refused input: exit 1, one sentence naming the field, nothing written.
func TestRefusalsWriteNothing(t *testing.T) {
	c := newCLI(t)
	c.seed()
	before := c.ok("", "verify")
	cases := []struct {
		name, input, field string
	}{
		{"unknown patient", strings.Replace(fill2, `"MRN-1"`, `"MRN-9"`, 1), "MRN-9"},
		{"unknown pump", strings.Replace(fill2, `"S1"`, `"S9"`, 1), "S9"},
		{"unknown NDC", strings.Replace(fill2, `70720-720-10`, `70720-999-10`, 1), "vials[0].ndc"},
		{"unknown drug", strings.Replace(fill2, `"J2277"`, `"aspirin"`, 1), "solution[0].drug"},
		{"fill above reservoir", strings.Replace(fill2, `"fill_ml":20`, `"fill_ml":21`, 1), "fill_ml"},
		{"residual above reservoir", strings.Replace(fill2, `"residual_ml":5.5`, `"residual_ml":25`, 1), "residual_ml"},
		{"zero fill", strings.Replace(fill2, `"fill_ml":20`, `"fill_ml":0`, 1), "fill_ml"},
		{"negative concentration", strings.Replace(fill2, `"mcg_per_ml":7.5`, `"mcg_per_ml":-7.5`, 1), "solution[0].mcg_per_ml"},
		{"containers short", strings.Replace(fill2, `"count":2`, `"count":1`, 1), "vials"},
		{"diluent off", strings.Replace(fill2, `"diluent_ml":18.5`, `"diluent_ml":18.3`, 1), "diluent_ml"},
		{"future", strings.Replace(fill2, `2026-03-31T10:00:00-04:00`, `2099-03-31T09:00:00-04:00`, 1), "performed_at"},
		{"float-looking garbage", strings.Replace(fill2, `"residual_ml":5.5`, `"residual_ml":"5,5"`, 1), "residual_ml"},
		{"misspelt field", strings.Replace(fill2, `"residual_ml"`, `"residual"`, 1), "residual"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := c.run(tc.input, "refill", "--file", "-")
			if code != 1 {
				t.Fatalf("exit %d, want 1; stdout %q stderr %q", code, out, errs)
			}
			if !strings.Contains(errs, tc.field) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("stderr %q: want one line naming %s", errs, tc.field)
			}
		})
	}
	if after := c.ok("", "verify"); after != before {
		t.Errorf("a refusal wrote: verify said %q, then %q", before, after)
	}
	// The same id with other content: a conflict, exit 1.
	c.ok(fill2, "refill", "--file", "-")
	if code, _, errs := c.run(strings.Replace(fill2, `"residual_ml":5.5`, `"residual_ml":5.6`, 1), "refill", "--file", "-"); code != 1 || !strings.Contains(errs, "different content") {
		t.Errorf("reused id: exit %d, %q", code, errs)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{{}, {"frobnicate"}, {"bill", "--from", "2026-01-01"}, {"refill"}, {"bill", "--from", "2026-01-01", "--to", "2026-01-02", "--format", "pdf"}, {"pump"}} {
		if code, _, _ := c.run("", args...); code != 2 {
			t.Errorf("pumpledger %v: exit %d, want 2", args, code)
		}
	}
}

// A flag package cannot read is said as a plain sentence naming the flag as
// typed, then the command's usage; never Go's "flag provided but not defined".
func TestFlagErrorsArePlainSentences(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"refill", "--fil", "-"}, "refill has no flag --fil; see its usage below."},
		{[]string{"refill", "-fil", "-"}, "refill has no flag -fil; see its usage below."},
		{[]string{"refill", "--fil=x.json"}, "refill has no flag --fil; see its usage below."},
		{[]string{"refill", "--file"}, "refill --file needs a value; see its usage below."},
		{[]string{"refill", "--file", "x.json", "--json=maybe"}, `refill --json must be true or false (or given alone), not "maybe"; see its usage below.`},
		{[]string{"demo", "--patients", "many"}, `demo --patients must be a whole number, not "many"; see its usage below.`},
		{[]string{"refill", "---file", "x.json"}, `refill cannot read "---file" as a flag: write --name or --name=value; see its usage below.`},
		{[]string{"--dbb", "x.db", "verify"}, "pumpledger has no flag --dbb; see the usage below."},
		{[]string{"pump", "implant", "--serail", "S1"}, "pump implant has no flag --serail; see its usage below."},
	} {
		code, out, errs := c.run("", tc.args...)
		first, rest, _ := strings.Cut(errs, "\n")
		if code != 2 || out != "" || first != "pumpledger: "+tc.want {
			t.Errorf("pumpledger %s: exit %d, stderr %q\nwant exit 2 and %q", strings.Join(tc.args, " "), code, errs, tc.want)
		}
		if !strings.Contains(rest, "Usage: pumpledger ") {
			t.Errorf("pumpledger %s: no usage after the sentence:\n%s", strings.Join(tc.args, " "), errs)
		}
		for _, goism := range []string{"flag provided", "not defined", "flag needs", "invalid value", "parse error", "bad flag syntax", "strconv"} {
			if strings.Contains(errs, goism) {
				t.Errorf("pumpledger %s: stderr has Go's wording %q:\n%s", strings.Join(tc.args, " "), goism, errs)
			}
		}
	}
}

// The usage table and the commands agree: each command of the table runs,
// and each flag a command declares is in its synopsis, so that its usage
// names every flag with the placeholder `pumpledger help` shows.
func TestUsageTableMatchesCommands(t *testing.T) {
	for _, cmd := range commands {
		if handler(cmd.name) == nil {
			t.Errorf("%s is in the usage but is no command", cmd.name)
			continue
		}
		var out bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
		if err := handler(cmd.name)(a, []string{"--help"}); !errors.Is(err, flag.ErrHelp) || a.fs == nil {
			t.Errorf("%s --help: %v", cmd.name, err)
			continue
		}
		metas, _ := synopsisFlags(cmd.args)
		a.fs.VisitAll(func(f *flag.Flag) {
			if _, ok := metas[f.Name]; !ok && !isGlobal(f.Name) {
				t.Errorf("%s declares --%s, which its synopsis %q lacks", cmd.name, f.Name, cmd.args)
			}
		})
		for name := range metas {
			if a.fs.Lookup(name) == nil {
				t.Errorf("%s's synopsis names --%s, which it does not declare", cmd.name, name)
			}
		}
	}
}

// The refill names its place in the ledger as verify counts entries (from
// 1), not the stored seq (from 0); --json keeps the seq as stored.
func TestRefillPositionCountsFromOne(t *testing.T) {
	c := newCLI(t)
	c.seed()
	out := c.ok(fill2, "refill", "--file", "-")
	m := regexp.MustCompile(`^Recorded refill \S+ \(entry (\d+) of the ledger\)\.\n`).FindStringSubmatch(out)
	v := regexp.MustCompile(`^ok: (\d+) entries`).FindStringSubmatch(c.ok("", "verify"))
	if m == nil || v == nil || m[1] != v[1] {
		t.Fatalf("the refill says %q, verify %q: want the last entry's number to be the count", m, v)
	}
	again := c.ok(fill2, "refill", "--file", "-")
	if !strings.HasPrefix(again, "Already recorded as entry "+"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b (entry "+v[1]+" of the ledger); nothing written.") {
		t.Errorf("again: %q", again)
	}
	if h := c.ok("", "history", "--mrn", "MRN-1"); !strings.Contains(h, "\n#"+v[1]+" refill 6b1f8a2e") || !strings.Contains(h, "\n#2 patient ") { // #1 pins the catalog
		t.Errorf("history does not number entries from 1 as verify counts them:\n%s", h)
	}
	var prove struct {
		Index int64 `json:"index"`
		Entry struct {
			Seq int64 `json:"seq"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "prove", "--entry", "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b")), &prove); err != nil || prove.Index != 5 || prove.Entry.Seq != 5 {
		t.Errorf("prove --json: seq %d index %d (%v); the stored seq, from 0, is 5", prove.Entry.Seq, prove.Index, err)
	}
}

// History names drugs as the catalog does, with what was typed beside it,
// and shows an entry recorded as a date (implant, explant) as that date.
func TestHistoryShowsCatalogNamesAndDates(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok(fill2, "refill", "--file", "-")
	c.ok(strings.NewReplacer(`"drug":"ziconotide"`, `"drug":"Prialt"`, "2026-03-11T10:00:00-04:00", "2026-04-02T10:00:00-04:00").Replace(change1), "reprogram", "--file", "-")
	c.ok("", "pump", "explant", "--mrn", "MRN-1", "--serial", "S1", "--date", "2026-04-03", "--reason", "end of therapy")
	hist := c.ok("", "history", "--mrn", "MRN-1")
	for _, tc := range []struct{ want, notWant string }{
		{"filled 20 mL of ziconotide 7.5 mcg/mL (as typed: J2277), dose ziconotide 2.4 mcg/day (95990)", "of J2277"},
		{"filled 20 mL of ziconotide 5 mcg/mL, dose ziconotide 1.2 mcg/day (95990)", "ziconotide 5 mcg/mL (as typed"},
		{"pump S1: ziconotide 2.4 mcg/day (as typed: Prialt) by drx (62368)", "Prialt 2.4"},
		{" implant ", ""},
		{"performed 2026-02-20, recorded ", "2026-02-20T00:00:00"},
		{"performed 2026-04-03, recorded ", "2026-04-03T00:00:00"},
		{"performed 2026-03-31T10:00:00-04:00, recorded ", ""},
	} {
		if !strings.Contains(hist, tc.want) || (tc.notWant != "" && strings.Contains(hist, tc.notWant)) {
			t.Errorf("history: want %q, not %q:\n%s", tc.want, tc.notWant, hist)
		}
	}
}

func TestCorrectionThroughCommand(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok(fill2, "refill", "--file", "-")
	fixed := strings.Replace(strings.Replace(fill2, `"residual_ml":5.5`, `"residual_ml":7.6`, 1), `"id":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",`, "", 1)
	c.ok(fixed, "correct", "--entry", "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "--reason", "residual misread", "--file", "-")
	hist := c.ok("", "history", "--mrn", "MRN-1")
	if !strings.Contains(hist, "VOIDED by") || !strings.Contains(hist, "residual misread") {
		t.Errorf("history does not show the voided entry with its reason:\n%s", hist)
	}
	bill := c.ok("", "bill", "--from", "2026-03-31", "--to", "2026-03-31", "--format", "csv")
	if strings.Contains(bill, "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b") {
		t.Errorf("bill still has lines of the voided entry:\n%s", bill)
	}
	if !strings.Contains(c.ok("", "verify"), "ok: 8 entries") {
		t.Error("verify after a correction does not count 8 entries")
	}
}

func TestLedgerFileIsPrivate(t *testing.T) {
	c := newCLI(t)
	c.seed()
	for _, p := range []string{c.db, c.db + ".key"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
}

func TestDemoIsDeterministicAndBills(t *testing.T) {
	a, b := newCLI(t), newCLI(t)
	outA := a.ok("", "demo", "--patients", "3", "--months", "3", "--seed", "7")
	b.ok("", "demo", "--patients", "3", "--months", "3", "--seed", "7")
	// The demo's admixtures need its catalog (the embedded one lists no
	// morphine containers), which it writes beside the ledger, where every
	// later command finds it without --catalog.
	billA := a.ok("", "bill", "--from", "2000-01-01", "--to", "2100-01-01", "--format", "json", "--allow-findings", "--as-of", "2026-12-01")
	billB := b.ok("", "bill", "--from", "2000-01-01", "--to", "2100-01-01", "--format", "json", "--allow-findings", "--as-of", "2026-12-01")
	if billA != billB {
		t.Error("the same seed gave different bills")
	}
	// The admixture patient's morphine bills as J2274 per drug, or inside
	// one J7799 line under Medicare's profile.
	if !strings.Contains(billA, `"J2278"`) || !(strings.Contains(billA, `"J2274"`) || strings.Contains(billA, `"J7799"`)) || !strings.Contains(outA, "Try next") {
		t.Errorf("demo bill has no J2278 line, no admixture line (J2274 or J7799), or demo prints no next steps:\n%s", outA)
	}
	if _, err := os.Stat(a.db + ".catalog.json"); err == nil {
		t.Errorf("the demo kept a catalog beside its ledger; the ledger pins it")
	}
	if list := a.ok("", "catalog", "list"); !strings.Contains(list, "demo-catalog.json") {
		t.Errorf("the demo's ledger does not pin its catalog:\n%s", list)
	}
	// It never writes into a ledger that holds anything (its clock is
	// backdated): running it again is refused, and nothing is written.
	before := a.ok("", "verify")
	if code, _, errs := a.run("", "demo", "--patients", "3", "--months", "3", "--seed", "7"); code != 1 || !strings.Contains(errs, "already holds") {
		t.Errorf("demo into a ledger with entries: exit %d, %q; want a refusal", code, errs)
	}
	if after := a.ok("", "verify"); after != before {
		t.Errorf("the refused demo wrote: %q then %q", before, after)
	}
}

// `make demo` prints the bill of the month the default demo's "Try next"
// shows: one with refills, JW lines beyond a naive pump's rinse and an
// admixture. The corrected refill is in history with its reason, and the
// bill carries its replacement, not it.
func TestDemoMakefileMonth(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^demo:[^\n]*\n(?:\t[^\n]*\n)*?\t[^\n]*--db \$\(DEMO_DB\) bill --from (\S+) --to (\S+)(?: --as-of \S+)?\n`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile's demo target prints no bill of a month")
	}
	from, to := string(m[1]), string(m[2])
	c := newCLI(t)
	out := c.ok("", "demo")
	if !strings.Contains(out, "bill --from "+from+" --to "+to+"\n") {
		t.Errorf("the demo suggests another month than the Makefile's %s to %s:\n%s", from, to, out)
	}
	for _, want := range []string{"undiluted 25 mcg/mL refills", "admixture refills of ziconotide with morphine for 1 patient",
		"2 refills have a deliberate residual discrepancy", "corrected", "JW lines", "Flagged for the nurse", "Corrected: "} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's summary lacks %q:\n%s", want, out)
		}
	}
	bill := c.ok("", "bill", "--from", from, "--to", to, "--allow-findings")
	var refills, jw, admixture int
	for _, l := range strings.Split(bill, "\n") {
		f := strings.Split(l, ",")
		if len(f) < 6 {
			continue
		}
		switch {
		case f[3] == "95990" || f[3] == "62369":
			refills++
		case f[3] == "J7799" && f[4] == "KD" && f[5] == "1" && strings.Contains(l, "morphine"):
			// The admixture patient is on Medicare: one J7799-KD line of
			// quantity 1 naming both drugs (A54100).
			admixture++
		case f[4] != "JW" && f[4] != "KD:JW":
		default:
			jw++
		}
	}
	if refills < 3 || jw < 2 || admixture == 0 {
		t.Errorf("the bill of %s to %s has %d refills, %d JW lines, %d J7799-KD admixture lines:\n%s", from, to, refills, jw, admixture, bill)
	}
	// The correction: in history with its reason; the bill has the
	// replacement's lines, not the voided refill's.
	hist := c.ok("", "history", "--mrn", regexp.MustCompile(`history --mrn (MRN-\d+)`).FindStringSubmatch(out)[1])
	v := regexp.MustCompile(`voids (\S+): (Residual misread[^;]*); replaced by (\S+)`).FindStringSubmatch(hist)
	if v == nil || !strings.Contains(hist, "[VOIDED by") {
		t.Fatalf("history shows no corrected refill:\n%s", hist)
	}
	all := c.ok("", "bill", "--from", "2000-01-01", "--to", "2100-12-31", "--allow-findings")
	if strings.Contains(all, v[1]) || !strings.Contains(all, v[3]) {
		t.Errorf("the bill has the voided refill %s or lacks its replacement %s", v[1], v[3])
	}
	// A catalog file given beside the ledger's own is refused, never a
	// silent replacement: the embedded one lacks the demo's morphine.
	embedded := filepath.Join(t.TempDir(), "embedded.json")
	if err := os.WriteFile(embedded, []byte(c.ok("", "catalog", "--default")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := c.run("", "--catalog", embedded, "bill", "--from", from, "--to", to); code != 1 || !strings.Contains(errs, "catalog adopt") {
		t.Errorf("bill with another catalog file: exit %d, %q; want a refusal naming catalog adopt", code, errs)
	}
}

// A refused command on a --db path with no ledger leaves no ledger and no
// key behind.
func TestRefusalOnNewPathLeavesNothing(t *testing.T) {
	c := noLedger(t)
	if code, _, _ := c.run(fill1, "refill", "--file", "-"); code != 1 {
		t.Fatalf("refill on a path with no ledger: exit %d, want 1", code)
	}
	for _, p := range []string{c.db, c.db + ".key", c.db + ".pub"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after a refused command (%v)", filepath.Base(p), err)
		}
	}
}

// plan keeps SPEC's least-waste answer, and beside a plan that dilutes
// stronger vials shows the undiluted one, whose fill keeps 84 days, not 40.
func TestPlanShowsUndilutedAlternative(t *testing.T) {
	c := newCLI(t)
	var out struct {
		Vials []struct {
			NDC   string `json:"ndc"`
			Count int    `json:"count"`
		} `json:"vials"`
		WasteMCG string `json:"waste_mcg"`
		Diluted  bool   `json:"diluted"`
		Alt      *struct {
			WasteMCG string `json:"waste_mcg"`
			Diluted  bool   `json:"diluted"`
		} `json:"undiluted_alternative"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "plan", "--drug", "ziconotide", "--mcg-per-ml", "25", "--fill-ml", "12", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	if out.WasteMCG != "0" || !out.Diluted || out.Alt == nil || out.Alt.WasteMCG != "200" || out.Alt.Diluted {
		t.Errorf("plan 12 mL of 25 mcg/mL = waste %s diluted %v alt %+v; want 0, true, and an undiluted alternative wasting 200", out.WasteMCG, out.Diluted, out.Alt)
	}
	// A naive pump's first fill lasts 14 days either way: no alternative.
	out.Alt = nil
	if err := json.Unmarshal([]byte(c.ok("", "plan", "--drug", "J2277", "--mcg-per-ml", "25", "--fill-ml", "20", "--rinse-ml", "6", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	if out.Alt != nil {
		t.Errorf("naive fill: an undiluted alternative %+v offered, though both last 14 days", out.Alt)
	}
	// SPEC §7's example.
	if err := json.Unmarshal([]byte(c.ok("", "plan", "--drug", "ziconotide", "--mcg-per-ml", "7.5", "--fill-ml", "20", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Vials) != 1 || out.Vials[0].NDC != "70720-0720-10" || out.Vials[0].Count != 2 || out.WasteMCG != "50" {
		t.Errorf("plan 150 mcg = %+v waste %s; want 2 × 70720-0720-10, waste 50", out.Vials, out.WasteMCG)
	}
}

// A dose change moves the next refill: the reservoir runs down faster.
func TestReprogramMovesNextRefill(t *testing.T) {
	c := newCLI(t)
	c.seed()
	var rec struct {
		Due string `json:"next_refill_due"`
	}
	if err := json.Unmarshal([]byte(c.ok(fill2, "refill", "--file", "-", "--json")), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Due != "2026-05-10" { // 0.32 mL/day would last 56 days; the 40-day limit comes first
		t.Fatalf("refill due %s, want 2026-05-10", rec.Due)
	}
	// 24 h later, 4.8 mcg/day: 20 − 0.32 = 19.68 mL left, at 0.64 mL/day
	// it reaches 2 mL after 27.625 days: 29 April 01:00 -04:00.
	up := strings.NewReplacer("2026-03-11T10:00:00-04:00", "2026-04-01T10:00:00-04:00", `"2.4"`, `"4.8"`).Replace(change1)
	var out struct {
		Due    string `json:"next_refill_due"`
		Reason string `json:"next_refill_reason"`
	}
	if err := json.Unmarshal([]byte(c.ok(up, "reprogram", "--file", "-", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	if out.Due != "2026-04-29" || !strings.Contains(out.Reason, "threshold") {
		t.Errorf("after the increase: due %s (%s); want 2026-04-29 by the reservoir threshold", out.Due, out.Reason)
	}
}

// A refill (95990) and a reprogramming (62368) of one patient on one date are
// not reported together (CPT): both the record and the bill say so.
func TestSameDayServiceCodesWarned(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok(fill2, "refill", "--file", "-")
	sameDay := strings.Replace(change1, "2026-03-11T10:00:00-04:00", "2026-03-31T15:00:00-04:00", 1)
	out := c.ok(sameDay, "reprogram", "--file", "-")
	if !strings.Contains(out, "62368") || !strings.Contains(out, "not reported with 95990") {
		t.Errorf("reprogram on the refill's date: no CPT warning:\n%s", out)
	}
	code, _, errs := c.run("", "bill", "--from", "2026-03-31", "--to", "2026-03-31")
	if code != 0 || !strings.Contains(errs, "[cpt-conflict] MRN-1 on 2026-03-31: 62368") {
		t.Errorf("bill: exit %d, stderr %q; want the same-day conflict", code, errs)
	}
	// Another day: no conflict.
	if _, _, errs := c.run("", "bill", "--from", "2026-03-01", "--to", "2026-03-11"); strings.Contains(errs, "cpt-conflict") {
		t.Errorf("bill of other days warns of a conflict: %q", errs)
	}
}

// History shows what the nurse wrote beside the figures: the witness of the
// waste and the note, every line of it.
func TestHistoryShowsWitnessAndNote(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok(strings.Replace(fill2, `"procedure":"95990"}`, `"procedure":"95990","note":"pocket checked\nno swelling"}`, 1), "refill", "--file", "-")
	out := c.ok("", "history", "--mrn", "MRN-1")
	for _, want := range []string{"   nurse jdoe, witness asmith\n", "   note: pocket checked\n         no swelling\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
}

// A FIFO (or any file that is not a regular one) named by --catalog, --file
// or --since is refused at once with one sentence; before, opening it waited
// for a writer that never came.
func TestNonRegularInputsRefused(t *testing.T) {
	c := newCLI(t)
	c.seed()
	fifo := filepath.Join(t.TempDir(), "in.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--catalog", fifo, "history", "--mrn", "MRN-1"},
		{"refill", "--file", fifo},
		{"reprogram", "--file", fifo},
		{"checkpoint", "--since", fifo},
	} {
		done := make(chan string, 1)
		go func() {
			code, _, errs := c.run("", args...)
			done <- fmt.Sprintf("exit %d: %s", code, errs)
		}()
		select {
		case got := <-done:
			if !strings.HasPrefix(got, "exit 1: pumpledger: ") || !strings.Contains(got, "in.fifo is a FIFO, not a regular file") || strings.Count(got, "\n") != 1 {
				t.Errorf("pumpledger %s: %q", strings.Join(args, " "), got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("pumpledger %s waits on the FIFO", strings.Join(args, " "))
		}
	}
}
