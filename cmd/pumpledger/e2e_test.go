package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

// End-to-end tests: the real binary, built once per test run, run as a
// separate process in a fresh working directory, as a nurse or a biller
// would run it. The other tests of this package call run() in-process; these
// check what only a process shows: the exit status, what goes to which
// stream, the default ledger path, the file lock held by another process.
//
// Golden files: testdata/cmd/e2e-*.golden, rewritten with
// `go test ./cmd/pumpledger -run E2E -update`; read the diff by eye.

var e2eBuild struct {
	once sync.Once
	dir  string // holds the binary; removed by TestMain
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if e2eBuild.dir != "" {
		os.RemoveAll(e2eBuild.dir)
	}
	os.Exit(code)
}

// pumpledgerBinary builds the command once per test run and returns its path.
func pumpledgerBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("end-to-end tests need the go tool on PATH to build the binary; it is not there")
	}
	e2eBuild.once.Do(func() {
		if e2eBuild.dir, e2eBuild.err = os.MkdirTemp("", "pumpledger-e2e-"); e2eBuild.err != nil {
			return
		}
		e2eBuild.path = filepath.Join(e2eBuild.dir, "pumpledger")
		cmd := exec.Command(goTool, "build", "-o", e2eBuild.path, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			e2eBuild.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if e2eBuild.err != nil {
		t.Fatal(e2eBuild.err)
	}
	return e2eBuild.path
}

// proc runs the binary in one working directory (a fresh temp dir, where the
// default ledger ./pumpledger.db lives), with PUMPLEDGER_DB unset and
// PUMPLEDGER_USER set, so nothing of the machine's environment leaks in.
type proc struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

type outcome struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func newProc(t *testing.T) *proc {
	p := &proc{t: t, bin: pumpledgerBinary(t), dir: t.TempDir()}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PUMPLEDGER_") {
			p.env = append(p.env, kv)
		}
	}
	p.env = append(p.env, "PUMPLEDGER_USER=clerk")
	p.ok("", "init")
	return p
}

// db is the default ledger in the working directory.
func (p *proc) db() string { return filepath.Join(p.dir, "pumpledger.db") }

// file writes a file in the working directory and returns its name.
func (p *proc) file(name, content string) string {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), []byte(content), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return name
}

func (p *proc) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Dir, cmd.Env = p.dir, p.env
	return cmd
}

// run runs the binary to its exit (killed after a minute: a hang fails).
func (p *proc) run(stdin string, args ...string) outcome {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := p.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	start := time.Now()
	err := cmd.Run()
	o := outcome{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		o.code = exit.ExitCode()
	default:
		p.t.Fatalf("pumpledger %s: %v (after %v)\nstderr: %s", strings.Join(args, " "), err, o.elapsed, o.stderr)
	}
	return o
}

// ok runs a command that must succeed with nothing on stderr.
func (p *proc) ok(stdin string, args ...string) string {
	p.t.Helper()
	o := p.run(stdin, args...)
	if o.code != 0 || o.stderr != "" {
		p.t.Fatalf("pumpledger %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), o.code, o.stdout, o.stderr)
	}
	return o.stdout
}

// bill runs a bill that must succeed: exit 0, and on stderr only the
// pre-billing check's warnings (a ledger without coverage has some), no
// error and nothing held back.
func (p *proc) bill(args ...string) string {
	p.t.Helper()
	o := p.run("", append([]string{"bill"}, args...)...)
	for _, l := range strings.Split(strings.TrimSuffix(o.stderr, "\n"), "\n") {
		if l != "" && !strings.HasPrefix(l, "warning: ") {
			p.t.Fatalf("pumpledger bill %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), o.code, o.stdout, o.stderr)
		}
	}
	if o.code != 0 {
		p.t.Fatalf("pumpledger bill %s: exit %d\nstderr: %s", strings.Join(args, " "), o.code, o.stderr)
	}
	return o.stdout
}

var verifyOK = regexp.MustCompile(`^ok: (\d+) entries match the tree \(root [0-9a-f]{16}…\), (\d+) signed checkpoints checked(?:, \d+ stored documents? checked against (?:its|their) SHA-256)?\.\n$`)

// count is the number of entries `verify` reports for the ledger at args (--db …).
func (p *proc) count(args ...string) int {
	p.t.Helper()
	out := p.ok("", append(args, "verify")...)
	m := verifyOK.FindStringSubmatch(out)
	if m == nil {
		p.t.Fatalf("verify printed %q", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// seed records the SPEC §6 worked example up to its second fill, through
// files in the working directory, as main_test.go's seed does in-process.
func (p *proc) seed() {
	p.t.Helper()
	p.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	p.ok("", "pump", "implant", "--mrn", "MRN-1", "--serial", "S1", "--model", "synchromed-ii-20", "--date", "2026-02-20")
	p.ok("", "refill", "--file", p.file("fill1.json", fill1))
	p.ok("", "reprogram", "--file", p.file("change1.json", change1))
	p.file("fill2.json", fill2)
}

const fill2ID = "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

// normalizer replaces what differs between runs with stable placeholders:
// the random UUIDs, numbered by first appearance, and the instants of the
// real clock (recording times), which fall between lo and hi.
type normalizer struct {
	lo, hi time.Time
	keep   map[string]bool // ids given in the input: stable, kept
}

var (
	uuidRE    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	instantRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z`)
)

func newNormalizer(ids ...string) *normalizer {
	n := &normalizer{lo: time.Now().Add(-time.Minute), keep: map[string]bool{}}
	for _, id := range ids {
		n.keep[id] = true
	}
	return n
}

func (n *normalizer) apply(t *testing.T, s string) string {
	t.Helper()
	hi := time.Now().Add(time.Minute)
	seen := map[string]string{}
	s = uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if n.keep[id] {
			return id
		}
		if _, ok := seen[id]; !ok {
			seen[id] = fmt.Sprintf("<uuid-%d>", len(seen)+1)
		}
		return seen[id]
	})
	return instantRE.ReplaceAllStringFunc(s, func(v string) string {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z", "2006-01-02 15:04Z"} {
			if at, err := time.Parse(layout, v); err == nil {
				if at.After(n.lo) && at.Before(hi) {
					return "<recorded-at>"
				}
				return v
			}
		}
		return v
	})
}

// The SPEC §6 worked example through the binary: a preview that writes
// nothing, the recorded refill, the same refill again (stored once), the
// patient's history, and the month's bill in each format. Human-readable
// output is golden.
func TestE2EWorkedExample(t *testing.T) {
	p := newProc(t)
	norm := newNormalizer(fill2ID)
	p.seed()
	if n := p.count(); n != 5 { // the catalog pinned, then the seed's 4
		t.Fatalf("after the seed verify counts %d entries, want 5", n)
	}
	before, _ := os.ReadFile(p.db())

	dry := p.ok("", "refill", "--file", "fill2.json", "--dry-run")
	golden(t, "e2e-refill-dry-run.golden", []byte(norm.apply(t, dry)))
	if after, _ := os.ReadFile(p.db()); !bytes.Equal(before, after) {
		t.Error("refill --dry-run changed the ledger file")
	}

	rec := p.ok("", "refill", "--file", "fill2.json")
	golden(t, "e2e-refill-recorded.golden", []byte(norm.apply(t, rec)))
	// The refill is the 6th entry (the 1st pins the catalog): counted from
	// 1, as verify counts them.
	for _, want := range []string{"Recorded refill " + fill2ID + " (entry 6 of the ledger).",
		"Since the fill of", "(30 days): expected residual 8 mL, aspirated 5.5 mL, discrepancy -2.5 mL (FLAGGED, beyond the 1 mL threshold).",
		"Infused ziconotide: 72.5 mcg (expected 60 mcg).", "J2278-JW  50 units", "RESIDUAL DISCREPANCY"} {
		if !strings.Contains(rec, want) {
			t.Errorf("the recorded refill lacks %q:\n%s", want, rec)
		}
	}
	// The preview and the record differ only in their first line, and in
	// the record's readiness for billing (the check of what was recorded),
	// which follows.
	recorded, ready, _ := strings.Cut(rec, "\nBefore this visit can be billed")
	if _, d, _ := strings.Cut(dry, "\n"); !strings.HasSuffix(strings.TrimRight(recorded, "\n"), strings.TrimRight(d, "\n")) || !strings.Contains(ready, "[no-coverage]") && !strings.Contains(ready, "No coverage is recorded") {
		t.Errorf("the preview and the recorded refill differ beyond their first line:\n%s\n---\n%s", dry, rec)
	}
	if n := p.count(); n != 6 {
		t.Errorf("after the refill verify counts %d entries, want 6", n)
	}
	// README's "A worked example" shows this output as it is.
	if readme, err := os.ReadFile(filepath.Join("..", "..", "README.md")); err != nil {
		t.Error(err)
	} else if !bytes.Contains(readme, []byte("$ pumpledger refill --file refill.json\n"+rec+"```\n")) {
		t.Error(`README.md's "A worked example" does not show the refill's output as printed now; copy it from testdata/cmd/e2e-refill-recorded.golden`)
	}
	again := p.ok("", "refill", "--file", "fill2.json")
	if !strings.HasPrefix(again, "Already recorded as entry "+fill2ID+" (entry 6 of the ledger); nothing written.\n") {
		t.Errorf("the same refill recorded twice:\n%s", again)
	}
	if n := p.count(); n != 6 {
		t.Errorf("the same refill twice: verify counts %d entries, want 6", n)
	}

	hist := p.ok("", "history", "--mrn", "MRN-1")
	golden(t, "e2e-history.golden", []byte(norm.apply(t, hist)))

	for _, f := range []string{"csv", "json", "x12"} {
		o := p.run("", "bill", "--from", "2026-03-01", "--to", "2026-03-31", "--format", f)
		// No coverage is recorded: the pre-billing check's findings are
		// warnings (on stderr), and nothing is held back.
		if o.code != 0 || strings.Contains(o.stderr, "error:") || strings.Contains(o.stderr, "held back") || !strings.Contains(o.stderr, "warning: MRN-1 2026-03-01 [no-coverage]") {
			t.Fatalf("bill --format %s: exit %d, stderr %q", f, o.code, o.stderr)
		}
		golden(t, "e2e-bill-2026-03."+f+".golden", []byte(norm.apply(t, o.stdout)))
	}
}

// Every command of SPEC §7, and backup, catalog, prove, checkpoint --since,
// pump explant and help, through the binary.
func TestE2ECommands(t *testing.T) {
	p := newProc(t)

	// patient add, pump implant: the default ledger in the working
	// directory, created 0600 with its key.
	out := p.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	if !regexp.MustCompile(`^Registered patient MRN-1 \(entry ` + uuidRE.String() + `\)\.\n$`).MatchString(out) {
		t.Errorf("patient add printed %q", out)
	}
	if strings.Contains(out, "Test Patient") {
		t.Errorf("patient add prints the name (PHI): %q", out)
	}
	for _, f := range []string{p.db(), p.db() + ".key"} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want a 0600 file", f, st, err)
		}
	}
	out = p.ok("", "pump", "implant", "--mrn", "MRN-1", "--serial", "S1", "--model", "synchromed-ii-20", "--date", "2026-02-20")
	if !strings.HasPrefix(out, "Implanted pump S1 (synchromed-ii-20) in patient MRN-1 on 2026-02-20 (entry ") {
		t.Errorf("pump implant printed %q", out)
	}

	// refill from a file, reprogram from a file (text), --json.
	out = p.ok("", "refill", "--file", p.file("fill1.json", fill1))
	if !strings.Contains(out, "First recorded fill of this pump") || !strings.Contains(out, "Next refill due: 2026-03-15") {
		t.Errorf("first refill:\n%s", out)
	}
	out = p.ok("", "reprogram", "--file", p.file("change1.json", change1))
	if !strings.HasPrefix(out, "Recorded dose change for pump S1: ziconotide 2.4 mcg/day at 2026-03-11T10:00:00-04:00 (entry ") ||
		!strings.Contains(out, "Next refill now due: 2026-03-15") {
		t.Errorf("reprogram:\n%s", out)
	}
	// refill --json, from stdin (--file -): the contract's names and figures.
	var rec struct {
		ID       string `json:"id"`
		Interval struct {
			Flagged bool `json:"discrepancy_flagged"`
		} `json:"interval"`
		Due string `json:"next_refill_due"`
	}
	out = p.ok(fill2, "refill", "--file", "-", "--json")
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatalf("refill --json: %v\n%s", err, out)
	}
	if rec.ID != fill2ID || !rec.Interval.Flagged || rec.Due != "2026-05-10" {
		t.Errorf("refill --json: %+v", rec)
	}
	for k, want := range map[string]string{"days": "30", "expected_residual_ml": "8", "residual_ml": "5.5", "discrepancy_ml": "-2.5"} {
		if !strings.Contains(out, fmt.Sprintf("%q: %q", k, want)) {
			t.Errorf("refill --json lacks %s = %s:\n%s", k, want, out)
		}
	}
	// reprogram --json.
	var rep map[string]any
	later := strings.Replace(change1, "2026-03-11T10:00:00-04:00", "2026-04-02T10:00:00-04:00", 1)
	if err := json.Unmarshal([]byte(p.ok("", "reprogram", "--file", p.file("change2.json", later), "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if id, _ := rep["id"].(string); !uuidRE.MatchString(id) || rep["next_refill_due"] == nil {
		t.Errorf("reprogram --json: %v", rep)
	}

	// correct without --file: void a patient registered by mistake.
	p.ok("", "patient", "add", "--mrn", "MRN-3", "--name", "Registered By Mistake")
	var hist3 []struct {
		Entry struct {
			ID string `json:"id"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(p.ok("", "history", "--mrn", "MRN-3", "--json")), &hist3); err != nil || len(hist3) != 1 || hist3[0].Entry.ID == "" {
		t.Fatalf("history --json of MRN-3: %v %+v", err, hist3)
	}
	out = p.ok("", "correct", "--entry", hist3[0].Entry.ID, "--reason", "registered twice")
	if !strings.HasPrefix(out, "Voided entry "+hist3[0].Entry.ID+": registered twice (correction ") {
		t.Errorf("correct without --file: %q", out)
	}
	// correct with --file: the second fill's residual was misread.
	fixed := strings.Replace(strings.Replace(fill2, `"residual_ml":5.5`, `"residual_ml":7.6`, 1), `"id":"`+fill2ID+`",`, "", 1)
	out = p.ok("", "correct", "--entry", fill2ID, "--reason", "residual misread", "--file", p.file("fixed.json", fixed))
	if !strings.HasPrefix(out, "Voided entry "+fill2ID+": residual misread (correction ") || !strings.Contains(out, "Recorded its replacement as entry ") {
		t.Errorf("correct --file: %q", out)
	}

	// history, text and --json.
	out = p.ok("", "history", "--mrn", "MRN-1")
	for _, want := range []string{"History of patient MRN-1: 8 entries", "[VOIDED by ", "residual misread", "voids " + fill2ID, "aspirated 7.6 mL"} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(p.ok("", "history", "--mrn", "MRN-1", "--json")), &items); err != nil || len(items) != 8 {
		t.Errorf("history --json: %v, %d items, want 8", err, len(items))
	}

	// bill: the replacement's lines, not the voided refill's.
	out = p.bill("--from", "2026-03-31", "--to", "2026-03-31", "--format", "csv")
	if strings.Contains(out, fill2ID) || strings.Count(out, "\n") != 4 {
		t.Errorf("bill after the correction:\n%s", out)
	}
	var lines []map[string]any
	if err := json.Unmarshal([]byte(p.bill("--from", "2026-03-01", "--to", "2026-03-31", "--format", "json")), &lines); err != nil || len(lines) != 7 {
		t.Errorf("bill --format json: %v, %d lines, want 7", err, len(lines))
	}
	if out = p.bill("--from", "2026-03-01", "--to", "2026-03-31", "--format", "x12"); strings.Count(out, "CLM*") != 3 {
		t.Errorf("bill --format x12: want 3 claims:\n%s", out)
	}

	// plan, text and --json (SPEC §7's example).
	out = p.ok("", "plan", "--drug", "ziconotide", "--mcg-per-ml", "7.5", "--fill-ml", "20")
	if !strings.Contains(out, "2 × NDC 70720-720-10") || !strings.Contains(out, "waste 50 mcg") {
		t.Errorf("plan:\n%s", out)
	}
	if out = p.ok("", "plan", "--drug", "J2277", "--mcg-per-ml", "7.5", "--fill-ml", "20", "--json"); !strings.Contains(out, `"ndc": "70720-0720-10"`) || !strings.Contains(out, `"waste_mcg": "50"`) {
		t.Errorf("plan --json:\n%s", out)
	}

	// pump explant, on another patient's pump.
	p.ok("", "patient", "add", "--mrn", "MRN-2", "--name", "Second Patient")
	p.ok("", "pump", "implant", "--mrn", "MRN-2", "--serial", "S2", "--model", "synchromed-ii-40", "--date", "2026-01-10")
	if out = p.ok("", "pump", "explant", "--mrn", "MRN-2", "--serial", "S2", "--date", "2026-04-01", "--reason", "battery end of life"); !strings.HasPrefix(out, "Explanted pump S2 on 2026-04-01 (entry ") {
		t.Errorf("pump explant: %q", out)
	}

	// verify, checkpoint, checkpoint --since, prove.
	n := p.count()
	if n != 14 { // the catalog pinned, then 13
		t.Errorf("verify counts %d entries, want 14", n)
	}
	o := p.run("", "checkpoint")
	if o.code != 0 || !strings.HasPrefix(o.stdout, "pumpledger/") || !strings.Contains(o.stdout, fmt.Sprintf("\n%d\n", n)) || !strings.Contains(o.stdout, "\n— pumpledger/") ||
		!strings.HasPrefix(o.stderr, "verifier key: pumpledger/") {
		t.Errorf("checkpoint: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	p.file("cp.txt", o.stdout)
	p.ok("", "patient", "add", "--mrn", "MRN-4", "--name", "Later Patient")
	if o = p.run("", "checkpoint", "--since", "cp.txt"); o.code != 0 || !strings.HasPrefix(o.stderr, fmt.Sprintf("consistent: the tree of %d entries extends the checkpoint of %d in cp.txt (", n+1, n)) {
		t.Errorf("checkpoint --since: exit %d, stderr %q", o.code, o.stderr)
	}
	var proof struct {
		Index    int      `json:"index"`
		TreeSize int      `json:"tree_size"`
		Proof    []string `json:"proof"`
	}
	if err := json.Unmarshal([]byte(p.ok("", "prove", "--entry", fill2ID)), &proof); err != nil || proof.Index != 5 || proof.TreeSize != n+1 || len(proof.Proof) == 0 {
		t.Errorf("prove: %v %+v", err, proof)
	}

	// backup, and verify of the copy: without a public key it cannot
	// check the signatures and says so; with LEDGER.pub alone (no private
	// key) it verifies.
	if out = p.ok("", "backup", "--out", "copy.db"); !strings.HasPrefix(out, "Wrote copy.db (") {
		t.Errorf("backup: %q", out)
	}
	if o := p.run("", "--db", "copy.db", "verify"); o.code != 1 || !strings.Contains(o.stderr, "No public key at copy.db.pub") {
		t.Errorf("verify of the copy without its public key: exit %d, %q", o.code, o.stderr)
	}
	pub, _ := os.ReadFile(p.db() + ".pub")
	p.file("copy.db.pub", string(pub))
	if m := p.count("--db", "copy.db"); m != n+1 {
		t.Errorf("the copy verifies %d entries, want %d", m, n+1)
	}
	// The older checkpoint holds for the copy too.
	if o = p.run("", "--db", "copy.db", "checkpoint", "--since", "cp.txt"); o.code != 0 {
		t.Errorf("checkpoint --since against the copy: exit %d, %q", o.code, o.stderr)
	}
	if o = p.run("", "backup", "--out", "copy.db"); o.code != 1 || !strings.Contains(o.stderr, "The backup file copy.db exists; choose a new file.") {
		t.Errorf("backup over an existing file: exit %d, %q; want a refusal", o.code, o.stderr)
	}

	// catalog: the embedded catalog, as JSON.
	var cat map[string]any
	if err := json.Unmarshal([]byte(p.ok("", "catalog")), &cat); err != nil || len(cat) == 0 {
		t.Errorf("catalog is not a JSON object: %v", err)
	}
}

// demo fills a new ledger; its next steps work as printed.
func TestE2EDemo(t *testing.T) {
	p := newProc(t)
	out := p.ok("", "demo", "--patients", "3", "--months", "2", "--seed", "7")
	if !strings.Contains(out, "Try next") {
		t.Errorf("demo prints no next steps:\n%s", out)
	}
	n := p.count()
	if n < 3*3 {
		t.Errorf("demo of 3 patients: %d entries", n)
	}
	// The demo's catalog (with its synthetic morphine) is pinned in its
	// ledger: the bill needs no file beside it.
	if o := p.run("", "bill", "--from", "2000-01-01", "--to", "2100-12-31"); o.code != 0 || !strings.Contains(o.stdout, "J2278") {
		t.Errorf("bill of the demo: exit %d, %q\n%s", o.code, o.stderr, o.stdout)
	}
	if o := p.run("", "demo", "--patients", "3", "--months", "2"); o.code != 1 || p.count() != n {
		t.Errorf("demo into a ledger with entries: exit %d, %q; want a refusal writing nothing", o.code, o.stderr)
	}
}

// help, --help and -h: the general usage; help CMD and CMD --help: the
// command's synopsis and each of its flags described; a group (pump,
// patient): each subcommand's. On stdout, exit 0, nothing written.
func TestE2EHelp(t *testing.T) {
	p := newProc(t)
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"help", "help"}, {"--db", "x.db", "--help"}} {
		o := p.run("", args...)
		if o.code != 0 || !strings.HasPrefix(o.stdout, "pumpledger keeps the ledger") || o.stderr != "" {
			t.Errorf("pumpledger %s: exit %d, stdout %.80q, stderr %q", strings.Join(args, " "), o.code, o.stdout, o.stderr)
		}
		for _, c := range commands {
			if !strings.Contains(o.stdout, "\n  "+c.synopsis()+" ") && !strings.Contains(o.stdout, "\n  "+c.synopsis()+"\n") {
				t.Errorf("pumpledger %s does not list %s", strings.Join(args, " "), c.synopsis())
			}
		}
	}
	for cmd, flags := range map[string][]string{
		"patient add":  {"mrn MRN", "name NAME"},
		"pump implant": {"mrn MRN", "serial S", "model ID", "date YYYY-MM-DD", "alarm-ml V", "held DRUGS"},
		"pump explant": {"mrn MRN", "serial S", "date YYYY-MM-DD", "reason TEXT"},
		"refill":       {"file F", "json", "dry-run"},
		"reprogram":    {"file F", "json"},
		"correct":      {"entry ID", "reason TEXT", "file F", "json"},
		"history":      {"mrn MRN", "json"},
		"bill":         {"from DATE", "to DATE", "format csv|json|x12|837p"},
		"plan":         {"drug D", "mcg-per-ml C", "fill-ml V", "rinse-ml R", "json"},
		"verify":       nil,
		"checkpoint":   {"since FILE"},
		"prove":        {"entry ID"},
		"backup":       {"out FILE"},
		"catalog":      nil,
		"demo":         {"patients N", "months M", "seed S", "users"},
	} {
		c, _ := lookupCommand(cmd)
		for _, args := range [][]string{append(strings.Fields(cmd), "--help"), append(strings.Fields(cmd), "-h"), append([]string{"help"}, strings.Fields(cmd)...)} {
			o := p.run("", args...)
			if o.code != 0 || !strings.HasPrefix(o.stdout, "Usage: pumpledger "+c.synopsis()+"\n  "+c.summary+"\n") || o.stderr != "" {
				t.Errorf("pumpledger %s: exit %d\nstdout %q\nstderr %q", strings.Join(args, " "), o.code, o.stdout, o.stderr)
			}
			// Each flag with a description after it (below it when the flag is long).
			for _, f := range append(flags, "db PATH", "catalog FILE", "by NAME") {
				if !regexp.MustCompile(`\n  --` + regexp.QuoteMeta(f) + `(  +|\n {10,})\S`).MatchString(o.stdout) {
					t.Errorf("pumpledger %s does not describe --%s:\n%s", strings.Join(args, " "), f, o.stdout)
				}
			}
		}
	}
	// A group's help: the usage of each of its subcommands.
	for _, tc := range []struct {
		args []string
		subs []string
	}{
		{[]string{"pump", "--help"}, []string{"pump implant", "pump explant"}},
		{[]string{"pump", "-h"}, []string{"pump implant", "pump explant"}},
		{[]string{"help", "pump"}, []string{"pump implant", "pump explant"}},
		{[]string{"patient", "--help"}, []string{"patient add"}},
		{[]string{"help", "patient"}, []string{"patient add"}},
	} {
		o := p.run("", tc.args...)
		if o.code != 0 || o.stderr != "" || strings.Count(o.stdout, "Usage: pumpledger ") != len(tc.subs) {
			t.Errorf("pumpledger %s: exit %d\nstdout %q\nstderr %q", strings.Join(tc.args, " "), o.code, o.stdout, o.stderr)
		}
		for _, sub := range tc.subs {
			c, _ := lookupCommand(sub)
			if !strings.Contains(o.stdout, "Usage: pumpledger "+c.synopsis()+"\n") || !strings.Contains(o.stdout, "\n  --mrn MRN ") {
				t.Errorf("pumpledger %s lacks the usage of %s:\n%s", strings.Join(tc.args, " "), sub, o.stdout)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(p.dir, "x.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("help created a ledger (%v)", err)
	}
}

// Usage errors: exit 2; the sentence naming the problem, then the usage of
// that command (its synopsis and flags), or for no or an unknown command the
// list of commands; on stderr, nothing written.
func TestE2EUsageErrors(t *testing.T) {
	p := newProc(t)
	p.seed()
	n := p.count()
	before, _ := os.ReadFile(p.db())
	for _, tc := range []struct {
		args      []string
		want      string // the first line
		usageOf   string // whose usage follows: a command, or "" for the general usage
		alsoUsage string // a second usage that follows (a group's second subcommand)
	}{
		{[]string{"refill", "--file", "fill2.json", "--bogus"}, "pumpledger: refill has no flag --bogus; see its usage below.\n", "refill", ""},
		{[]string{"refill"}, "pumpledger: refill needs --file\n", "refill", ""},
		{[]string{"reprogram", "--json"}, "pumpledger: reprogram needs --file\n", "reprogram", ""},
		{[]string{"frobnicate"}, "pumpledger: unknown command \"frobnicate\"\n", "", ""},
		{[]string{}, "pumpledger: no command given\n", "", ""},
		{[]string{"help", "frobnicate"}, "pumpledger: unknown command \"frobnicate\"\n", "", ""},
		{[]string{"--bogus", "verify"}, "pumpledger: pumpledger has no flag --bogus; see the usage below.\n", "", ""},
		{[]string{"bill", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "pdf"}, "pumpledger: bill: --format must be csv, json, x12 or 837p, not \"pdf\"\n", "bill", ""},
		{[]string{"pump"}, "pumpledger: pump needs a subcommand (implant, explant)\n", "pump implant", "pump explant"},
		{[]string{"pump", "remove"}, "pumpledger: pump has no subcommand \"remove\"; use implant or explant\n", "pump implant", "pump explant"},
		{[]string{"patient"}, "pumpledger: patient needs a subcommand (add)\n", "patient add", ""},
		{[]string{"pump", "implant", "--mrn", "MRN-1"}, "pumpledger: pump implant needs --serial\n", "pump implant", ""},
		{[]string{"verify", "extra"}, "pumpledger: verify: unexpected argument \"extra\"\n", "verify", ""},
		{[]string{"demo", "--patients", "0"}, "pumpledger: demo: --patients must be between 1 and", "demo", ""},
	} {
		o := p.run("", tc.args...)
		name := "pumpledger " + strings.Join(tc.args, " ")
		if o.code != 2 || o.stdout != "" || !strings.HasPrefix(o.stderr, tc.want) {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %q\nwant exit 2 and %q", name, o.code, o.stdout, o.stderr, tc.want)
			continue
		}
		_, rest, _ := strings.Cut(o.stderr, "\n")
		if tc.usageOf == "" {
			if rest != "\n"+generalUsage() {
				t.Errorf("%s: after the sentence, not the general usage:\n%s", name, o.stderr)
			}
			continue
		}
		c, _ := lookupCommand(tc.usageOf)
		if !strings.HasPrefix(rest, "\nUsage: pumpledger "+c.synopsis()+"\n  "+c.summary+"\n") ||
			(c.args != "" && !strings.Contains(rest, "\nFlags:\n  --")) || !strings.Contains(rest, "\nGlobal flags") {
			t.Errorf("%s: after the sentence, not the usage of %s:\n%s", name, tc.usageOf, o.stderr)
		}
		if strings.Contains(rest, "Run 'pumpledger help' for usage.") {
			t.Errorf("%s: still points to help instead of showing the usage:\n%s", name, o.stderr)
		}
		wantUsages := 1
		if tc.alsoUsage != "" {
			wantUsages = 2
			if a, _ := lookupCommand(tc.alsoUsage); !strings.Contains(rest, "\nUsage: pumpledger "+a.synopsis()+"\n") {
				t.Errorf("%s: lacks the usage of %s:\n%s", name, tc.alsoUsage, o.stderr)
			}
		}
		if got := strings.Count(rest, "Usage: pumpledger "); got != wantUsages {
			t.Errorf("%s: %d usages, want %d:\n%s", name, got, wantUsages, o.stderr)
		}
	}
	if after, _ := os.ReadFile(p.db()); !bytes.Equal(before, after) || p.count() != n {
		t.Error("a usage error changed the ledger")
	}
}

// Each refusal: exit 1, one line on stderr naming the field, and nothing
// written (verify counts the same entries; the file's bytes and its key's
// are unchanged). The base input is accepted, so the refusal is the edit's.
func TestE2ERefusals(t *testing.T) {
	p := newProc(t)
	p.seed()
	p.ok("", "refill", "--file", "fill2.json")
	p.ok("", "patient", "add", "--mrn", "MRN-2", "--name", "Second Patient")
	p.ok("", "pump", "implant", "--mrn", "MRN-2", "--serial", "S2", "--model", "synchromed-ii-40", "--date", "2026-01-10")
	// A third fill, 30 days after the second, with the residual expected.
	fill3 := strings.NewReplacer(`"id":"`+fill2ID+`",`, "", "2026-03-31T10:00:00-04:00", "2026-04-30T10:00:00-04:00", `"residual_ml":5.5`, `"residual_ml":10.4`).Replace(fill2)
	if out := p.ok("", "refill", "--file", p.file("fill3.json", fill3), "--dry-run"); strings.Contains(out, "WARNING") {
		t.Fatalf("the base refill is not clean:\n%s", out)
	}
	n := p.count()
	before := readState(t, &cli{t: t, db: p.db()})
	pageSize := bboltPageSize(t, p.db())
	edit := func(old, new string) string {
		if !strings.Contains(fill3, old) {
			t.Fatalf("%q is not in the base refill", old)
		}
		return strings.Replace(fill3, old, new, 1)
	}
	cases := []struct {
		name, input string
		args        []string
		field       string
	}{
		{"unknown patient", edit(`"MRN-1"`, `"MRN-9"`), nil, "MRN-9"},
		{"pump not the patient's", edit(`"S1"`, `"S2"`), nil, "S2"},
		{"unknown pump", edit(`"S1"`, `"S9"`), nil, "S9"},
		{"future performed_at", edit("2026-04-30T10:00:00-04:00", "2099-04-30T10:00:00-04:00"), nil, "performed_at"},
		{"diluent off", edit(`"diluent_ml":18.5`, `"diluent_ml":18.3`), nil, "diluent_ml"},
		{"short vials", edit(`"count":2`, `"count":1`), nil, "vials"},
		{"reused id, other content", strings.Replace(fill2, `"residual_ml":5.5`, `"residual_ml":5.6`, 1), nil, fill2ID},
		{"malformed NDC", edit("70720-720-10", "70720-72O-10"), nil, "vials[0].ndc"},
		{"unknown NDC", edit("70720-720-10", "70720-999-10"), nil, "vials[0].ndc"},
		{"unknown drug", edit(`"J2277"`, `"aspirin"`), nil, "solution[0].drug"},
		{"fill above the reservoir", edit(`"fill_ml":20`, `"fill_ml":21`), nil, "fill_ml"},
		{"residual above the reservoir", edit(`"residual_ml":10.4`, `"residual_ml":25`), nil, "residual_ml"},
		{"zero concentration", edit(`"mcg_per_ml":7.5`, `"mcg_per_ml":0`), nil, "solution[0].mcg_per_ml"},
		{"two refills at one instant", strings.Replace(edit("2026-04-30T10:00:00-04:00", "2026-03-31T10:00:00-04:00"), `"residual_ml":10.4`, `"residual_ml":5.5`, 1), nil, "A refill of pump S1 at 2026-03-31T10:00:00-04:00 is already recorded"},
		{"dry run of a refused refill", edit(`"fill_ml":20`, `"fill_ml":21`), []string{"--dry-run"}, "fill_ml"},
		{"reprogram of an unknown pump", strings.Replace(change1, `"S1"`, `"S9"`, 1), []string{"reprogram"}, "S9"},
		{"correct an unknown entry", "", []string{"correct", "--entry", "00000000-0000-4000-8000-000000000000", "--reason", "typo"}, "00000000-0000-4000-8000-000000000000"},
		{"implant of an unknown model", "", []string{"pump", "implant", "--mrn", "MRN-1", "--serial", "S7", "--model", "pump-9000", "--date", "2026-03-01"}, "pump-9000"},
		{"plan of an unknown drug", "", []string{"plan", "--drug", "aspirin", "--mcg-per-ml", "5", "--fill-ml", "20"}, "aspirin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"refill", "--file", p.file("refused.json", tc.input)}
			switch {
			case len(tc.args) > 0 && tc.args[0] == "reprogram":
				args = []string{"reprogram", "--file", "refused.json"}
			case len(tc.args) > 0 && strings.HasPrefix(tc.args[0], "--"):
				args = append(args, tc.args...)
			case len(tc.args) > 0:
				args = tc.args
			}
			o := p.run("", args...)
			t.Logf("pumpledger %s: %s", strings.Join(args, " "), strings.TrimSpace(o.stderr))
			if o.code != 1 || o.stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit 1 and nothing on stdout", o.code, o.stdout)
			}
			if !strings.HasPrefix(o.stderr, "pumpledger: ") || strings.Count(o.stderr, "\n") != 1 || !strings.HasSuffix(o.stderr, "\n") || !strings.Contains(o.stderr, tc.field) {
				t.Errorf("stderr %q: want one line naming %s", o.stderr, tc.field)
			}
			if m := p.count(); m != n {
				t.Errorf("verify counts %d entries after the refusal, %d before", m, n)
			}
			after := readState(t, &cli{t: t, db: p.db()})
			if !bytes.Equal(after.content, before.content) {
				t.Errorf("the ledger's keys and values changed")
			}
			if !bytes.Equal(after.key, before.key) {
				t.Error("the key file changed")
			}
			if !bytes.Equal(after.file, before.file) {
				t.Errorf("the ledger file changed: pages %v", changedPages(before.file, after.file, pageSize))
			}
			before = after
		})
	}
	// The base itself is recorded: the refusals were the edits'.
	p.ok("", "refill", "--file", "fill3.json")
	if m := p.count(); m != n+1 {
		t.Errorf("the base refill: %d entries, want %d", m, n+1)
	}
}

// bboltPageSize is the page size the ledger file was created with.
func bboltPageSize(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.Info().PageSize
}

// changedPages lists the pages of size ps that differ between a and b.
func changedPages(a, b []byte, ps int) []int {
	var pages []int
	for off := 0; off < max(len(a), len(b)); off += ps {
		pa, pb := a[min(off, len(a)):min(off+ps, len(a))], b[min(off, len(b)):min(off+ps, len(b))]
		if !bytes.Equal(pa, pb) {
			pages = append(pages, off/ps)
		}
	}
	return pages
}

// A mistyped --db (a path where no ledger is) is refused by every command
// but init, in one sentence that says how to create one, and nothing is
// created there: before init, a write made a second ledger with its own key.
func TestE2ERefusalCreatesNoLedger(t *testing.T) {
	p := newProc(t)
	p.seed()
	const typo = "pumpledgr.db"
	want := "pumpledger: No ledger at " + typo + "; create one with `pumpledger init --db " + typo + "`.\n"
	for _, args := range [][]string{
		{"patient", "add", "--mrn", "MRN-2", "--name", "Other Patient"},
		{"refill", "--file", "fill2.json"},
		{"checkpoint"},
		{"verify"},
		{"history", "--mrn", "MRN-1"},
		{"demo", "--patients", "1", "--months", "1"},
	} {
		if o := p.run("", append([]string{"--db", typo}, args...)...); o.code != 1 || o.stderr != want || o.stdout != "" {
			t.Errorf("pumpledger %s on a mistyped --db: exit %d, stdout %q, stderr %q", strings.Join(args, " "), o.code, o.stdout, o.stderr)
		}
	}
	for _, suffix := range []string{"", ".key", ".pub"} {
		if _, err := os.Stat(filepath.Join(p.dir, typo+suffix)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after a refusal: %v", typo+suffix, err)
		}
	}
}

// init creates the ledger (0600), its signing key (0600) and LEDGER.pub,
// and refuses to touch a ledger, or a key, that is there already.
func TestE2EInit(t *testing.T) {
	p := newProc(t)
	out := p.ok("", "--db", "new.db", "init")
	if want := "Created the ledger new.db, its signing key new.db.key (secret: back it up apart) and new.db.pub, the public key that verifies its checkpoints (give it to auditors).\n"; !strings.HasPrefix(out, want) || !strings.Contains(out, "pins the catalog default.json") {
		t.Errorf("init printed %q, want %q", out, want)
	}
	for f, mode := range map[string]os.FileMode{"new.db": 0o600, "new.db.key": 0o600, "new.db.pub": 0o644} {
		if st, err := os.Stat(filepath.Join(p.dir, f)); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v, %v; want mode %v", f, st, err, mode)
		}
	}
	if n := p.count("--db", "new.db"); n != 1 { // the entry pinning its catalog
		t.Errorf("a new ledger verifies %d entries", n)
	}
	before, _ := os.ReadFile(filepath.Join(p.dir, "new.db.key"))
	if o := p.run("", "--db", "new.db", "init"); o.code != 1 || !strings.Contains(o.stderr, "A ledger already exists at new.db") {
		t.Errorf("init over a ledger: exit %d, %q", o.code, o.stderr)
	}
	// A key left with no ledger (an init killed, or a ledger moved away)
	// is not replaced: it may be the only key of a ledger elsewhere.
	os.Rename(filepath.Join(p.dir, "new.db"), filepath.Join(p.dir, "moved.db"))
	if o := p.run("", "--db", "new.db", "init"); o.code != 1 || !strings.Contains(o.stderr, "new.db.key exists but there is no ledger at new.db") {
		t.Errorf("init beside a key: exit %d, %q", o.code, o.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(p.dir, "new.db.key")); !bytes.Equal(before, after) {
		t.Error("init replaced an existing key")
	}
}

// A ledger held by another process: the command says so and exits, it does
// not hang. And a refill still being typed on stdin holds no lock.
func TestE2ELedgerInUse(t *testing.T) {
	p := newProc(t)
	p.seed()
	n := p.count()

	// This test process holds the ledger open for writing (bbolt's flock).
	held, err := clinic.Open(p.db(), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"verify"}, {"refill", "--file", "fill2.json"}, {"history", "--mrn", "MRN-1"}} {
		o := p.run("", args...)
		t.Logf("pumpledger %s while held: exit %d after %v: %s", strings.Join(args, " "), o.code, o.elapsed.Round(time.Millisecond), strings.TrimSpace(o.stderr))
		if o.code != 1 || o.stdout != "" || strings.Count(o.stderr, "\n") != 1 ||
			!strings.Contains(o.stderr, "The ledger pumpledger.db is in use by another pumpledger process; wait for it to finish and try again.") {
			t.Errorf("pumpledger %s on a held ledger: exit %d\nstdout %q\nstderr %q", strings.Join(args, " "), o.code, o.stdout, o.stderr)
		}
		if o.elapsed > 10*time.Second {
			t.Errorf("pumpledger %s on a held ledger took %v to give up", strings.Join(args, " "), o.elapsed)
		}
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if m := p.count(); m != n {
		t.Errorf("after the lock: %d entries, want %d", m, n)
	}

	// A refill whose stdin is still open: the ledger is not opened until
	// the input is read, so others may use it meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := p.command(ctx, "refill", "--file", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if o := p.run("", "verify"); o.code != 0 || o.elapsed > 10*time.Second {
		t.Errorf("verify while a refill waits on stdin: exit %d after %v, %q", o.code, o.elapsed, o.stderr)
	}
	stdin.Write([]byte(fill2))
	stdin.Close()
	if err := cmd.Wait(); err != nil || !strings.HasPrefix(out.String(), "Recorded refill "+fill2ID) {
		t.Errorf("refill from stdin: %v\n%s\n%s", err, out.String(), errb.String())
	}
	if m := p.count(); m != n+1 {
		t.Errorf("after the refill from stdin: %d entries, want %d", m, n+1)
	}
}
