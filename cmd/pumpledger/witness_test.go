package main

import (
	"os"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/internal/witnesstest"
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
