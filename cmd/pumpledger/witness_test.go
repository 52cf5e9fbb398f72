package main

import (
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pumpledger/pumpledger/audit"
	"github.com/pumpledger/pumpledger/internal/browser"
	"github.com/pumpledger/pumpledger/internal/witnesstest"
	"github.com/pumpledger/pumpledger/witness"
	"golang.org/x/mod/sumdb/note"
)

// TestCheckpointWitnessAndVerify: checkpoint --witness has a real witness
// (litewitness, its own process) cosign the checkpoint, keeps its URL so the
// next plain checkpoint is cosigned too, and verify --witness-key checks the
// witness cosigns the current tree. A rollback to a copy made before is then
// caught by verify with the witness key, and passes without it.
func TestCheckpointWitnessAndVerify(t *testing.T) {
	w := witnesstest.Start(t)
	c := newCLI(t)
	vkey := strings.TrimSpace(string(must(os.ReadFile(c.db + ".pub"))))
	w.AddLog(must(note.NewVerifier(vkey)).Name(), vkey)
	c.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")

	code, out, errs := c.run("", "checkpoint", "--witness", w.URL)
	if code != 0 || !strings.Contains(out, "\n— "+witnesstest.Name+" ") || errs != "cosigned by the witness "+witnesstest.Name+" ("+w.URL+") at 2 entries.\nverifier key: "+vkey+"\n" {
		t.Fatalf("checkpoint --witness: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	backup := c.db + ".old"
	if err := os.WriteFile(backup, must(os.ReadFile(c.db)), 0o600); err != nil {
		t.Fatal(err)
	}

	// The setting: a plain checkpoint after more entries is cosigned too.
	c.ok("", "patient", "add", "--mrn", "MRN-2", "--name", "Second Patient")
	if code, out, errs = c.run("", "checkpoint"); code != 0 || !strings.HasPrefix(errs, "cosigned by the witness "+witnesstest.Name+" ("+w.URL+") at 3 entries.\n") || !strings.Contains(out, "\n3\n") {
		t.Fatalf("checkpoint with the setting: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}

	c.ok("", "patient", "add", "--mrn", "MRN-3", "--name", "Third Patient")
	out = c.ok("", "verify", "--witness-key", w.VKey)
	if want := "ok: the witness " + witnesstest.Name + " (" + w.URL + ") cosigned the ledger's 4 entries, consistent with all it cosigned before; the latest checkpoint kept here that it cosigned is of 3 entries.\n"; !strings.HasSuffix(out, want) {
		t.Errorf("verify --witness-key:\n%s\nwant it to end with\n%s", out, want)
	}

	// Rolled back to the copy of 2 entries: whole, so verify alone passes.
	if err := os.WriteFile(c.db, must(os.ReadFile(backup)), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "verify")
	code, out, errs = c.run("", "verify", "--witness-key", w.VKey)
	if want := "pumpledger: The witness " + w.URL + " has cosigned 4 entries of this ledger but it holds only 2: entries were removed, or an older copy was put in its place (ledger does not match its tree).\n"; code != 1 || out != "" || errs != want {
		t.Errorf("verify --witness-key after a rollback: exit %d\nstdout %s\nstderr %s\nwant exit 1 and %s", code, out, errs, want)
	}
}

func TestWitnessFlagsRefused(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"checkpoint", "--witness", "ftp://w.example"}, `--witness must be a witness's http:// or https:// address, not "ftp://w.example".`},
		{[]string{"checkpoint", "--witness", "w.example"}, `--witness must be a witness's http:// or https:// address, not "w.example".`},
		{[]string{"checkpoint", "--since", "cp.txt", "--witness", "http://w.example"}, "--witness cannot be given with --since (proving growth writes nothing); run checkpoint --witness URL on its own."},
		{[]string{"verify", "--witness-key", "w.example+01234567+AAAA"}, `--witness-key "w.example+01234567+AAAA" is not a witness's key (its key is not 33 bytes of base64); give the key the witness publishes, name+hash+key.`},
		{[]string{"verify", "--witness", "http://w.example"}, "--witness needs --witness-key, the witness's key to check its cosignature with; give both."},
	} {
		before := must(os.ReadFile(c.db))
		code, out, errs := c.run("", tc.args...)
		if code != 1 || out != "" || errs != "pumpledger: "+tc.want+"\n" {
			t.Errorf("pumpledger %s: exit %d, stdout %q, stderr %q\nwant exit 1 and %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
		if after := must(os.ReadFile(c.db)); string(after) != string(before) {
			t.Errorf("pumpledger %s wrote to the ledger", strings.Join(tc.args, " "))
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestKeyRotate: key rotate replaces the key files, says so, and verify
// names the first key of the chain.
func TestKeyRotate(t *testing.T) {
	c := newCLI(t)
	first := strings.TrimSpace(string(must(os.ReadFile(c.db + ".pub"))))
	out := c.ok("", "key", "rotate")
	next := strings.TrimSpace(string(must(os.ReadFile(c.db + ".pub"))))
	want := "Rotated the signing key: entry 2 names the new key, and the checkpoint of the tree it ends is signed by the old key and the new; " + c.db + ".key and " + c.db + ".pub now hold the new key.\n" +
		"Give the new " + c.db + ".pub to auditors, and the new key to each witness before the next checkpoint: " + next + "\n"
	if next == first || out != want {
		t.Errorf("key rotate:\n%s\nwant\n%s", out, want)
	}
	c.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	if out := c.ok("", "verify"); !strings.HasSuffix(out, "\nok: the signing key was replaced once, vouched for by the key before; the first key was "+first+".\n") {
		t.Errorf("verify after a rotation:\n%s", out)
	}
}

// TestAuditPacketCosigned: a packet of a ledger a real witness cosigned
// carries the cosignature, and its check against the witness key the
// auditor trusts passes in all three verifiers (audit verify, the Python
// script written from docs/audit-format.md, the page in Chromium); a
// wrong witness key, or one byte changed in the cosignature, fails in
// each, while the ledger's own signature and the entries still verify.
func TestAuditPacketCosigned(t *testing.T) {
	w := witnesstest.Start(t)
	c := newCLI(t)
	vkey := strings.TrimSpace(string(must(os.ReadFile(c.db + ".pub"))))
	w.AddLog(must(note.NewVerifier(vkey)).Name(), vkey)
	c.seed()
	c.ok("", "checkpoint", "--witness", w.URL)
	file := filepath.Join(t.TempDir(), "p.html")
	if out := c.ok("", "audit", "packet", "--mrn", "MRN-1", "--out", file); !strings.HasSuffix(out, "\nThe checkpoint carries the cosignature of "+witnesstest.Name+": the auditor checks it with audit verify --witness-key, or in the page, with the witness's key.\n") {
		t.Errorf("audit packet of a cosigned tree says:\n%s", out)
	}
	p := must(audit.Parse(must(os.ReadFile(file))))
	line := "\n— " + witnesstest.Name + " "
	if !strings.Contains(p.Checkpoint, line) {
		t.Fatalf("the packet's checkpoint has no cosignature:\n%s", p.Checkpoint)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	wrong := witness.VerifierKey(witnesstest.Name, pub) // the witness's name, another key
	changed := tamper(t, file, func(p *audit.Packet) {
		p.Checkpoint = byteOf(p.Checkpoint, strings.Index(p.Checkpoint, line)+len(line)+20) // in the signature
	})
	cases := []struct {
		name, file, wkey string
		want             string // what audit verify says on stderr; "" for ok
	}{
		{"cosigned", file, w.VKey, ""},
		{"wrong key", file, wrong, "pumpledger: The packet's checkpoint is NOT cosigned by the witness " + witnesstest.Name + ": it has no cosignature by that key; ask the clinic for a packet written after the witness cosigned the ledger, or check the key.\n"},
		{"changed", changed, w.VKey, "pumpledger: The packet's checkpoint is NOT cosigned by the witness " + witnesstest.Name + ": its cosignature by that key does not verify (the checkpoint or the cosignature was changed).\n"},
	}
	for _, tc := range cases {
		code, out, errs := c.run("", "audit", "verify", tc.file, "--key", vkey, "--witness-key", tc.wkey)
		if tc.want == "" && (code != 0 || !strings.Contains(out, "\nok: the checkpoint is cosigned by the witness "+witnesstest.Name+" at ")) ||
			tc.want != "" && (code != 1 || errs != tc.want) {
			t.Errorf("audit verify, %s: exit %d\nstdout %s\nstderr %s", tc.name, code, out, errs)
		}
	}
	if out, err := exec.Command("python3", "../../testdata/audit/verify_packet.py", changed, vkey).CombinedOutput(); err != nil {
		t.Fatalf("the script, the changed packet without a witness key: %v\n%s", err, out)
	}
	for _, tc := range cases {
		out, err := exec.Command("python3", "../../testdata/audit/verify_packet.py", tc.file, vkey, tc.wkey).CombinedOutput()
		if (err == nil) != (tc.want == "") || !strings.Contains(string(out), map[bool]string{true: "cosigned by ", false: "NOT cosigned by "}[tc.want == ""]+witnesstest.Name+"\n") {
			t.Errorf("the script, %s: %v\n%s", tc.name, err, out)
		}
	}

	// An entry after the cosigned checkpoint: the packet's checkpoint,
	// of the current tree, is not cosigned, and writing it says so.
	c.ok(fill2, "refill", "--file", "-")
	if out := c.ok("", "audit", "packet", "--mrn", "MRN-1", "--out", file+".later"); !strings.HasSuffix(out, "\nThe checkpoint carries no witness's cosignature: if the ledger has witnesses, run checkpoint (they cosign the current tree), then write the packet again.\n") {
		t.Errorf("audit packet after an entry not cosigned says:\n%s", out)
	}

	ctx := browser.New(t, 1200, 900)
	// page opens file, puts keys in the witness field if any, and returns
	// the page's result, each witness line's status and its words.
	page := func(file string, keys ...string) (string, [][2]string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
			t.Fatal(err)
		}
		done := chromedp.Poll[chromedp.Void](`document.body.dataset.done === "1"`, chromedp.WithPollingTimeout(30*time.Second))
		if _, err := chromedp.Run(ctx, done); err != nil {
			t.Fatal(err)
		}
		if len(keys) > 0 {
			js := `{const f = document.getElementById("witnesses"); f.value = ` + strconv.Quote(strings.Join(keys, "\n")) + `; f.dispatchEvent(new Event("change")); true}`
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, done); err != nil {
				t.Fatal(err)
			}
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Result string
			Lines  [][2]string
		}](`({Result: document.body.dataset.result, Lines: Array.from(document.querySelectorAll("#cosignatures li"), l => [l.dataset.status, l.textContent])})`))
		if err != nil {
			t.Fatal(err)
		}
		return got.Result, got.Lines
	}
	if result, lines := page(file); result != "verified" || len(lines) != 1 || lines[0] != [2]string{"unchecked", "The witnesses' cosignatures were not checked: no witness key was given."} {
		t.Errorf("no witness key: %s %q", result, lines)
	}
	if result, lines := page(file, w.VKey, wrong); result != "failed" || len(lines) != 2 ||
		lines[0][0] != "cosigned" || !strings.HasPrefix(lines[0][1], "cosigned by "+witnesstest.Name+" at ") ||
		lines[1][0] != "failed" || lines[1][1] != "NOT cosigned by "+witnesstest.Name+": the checkpoint has no cosignature by this key." {
		t.Errorf("the witness key and a wrong one: %s %q", result, lines)
	}
	if result, lines := page(file, w.VKey); result != "verified" || len(lines) != 1 || lines[0][0] != "cosigned" {
		t.Errorf("the witness key: %s %q", result, lines)
	}
	if result, lines := page(changed, w.VKey); result != "failed" || len(lines) != 1 ||
		lines[0] != [2]string{"failed", "NOT cosigned by " + witnesstest.Name + ": its cosignature does not verify (the checkpoint or the cosignature was changed)."} {
		t.Errorf("a byte changed in the cosignature: %s %q", result, lines)
	}
}
