package ledger_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/internal/witnesstest"
	"github.com/pumpledger/pumpledger/ledger"
	"golang.org/x/mod/sumdb/note"
)

// TestKeyRotation: rotate writes a key entry whose checkpoint both keys
// sign, puts the new key in LEDGER.key and LEDGER.pub, and the ledger goes
// on with it, in this process and the next; verify follows the chain.
func TestKeyRotation(t *testing.T) {
	db, c, path := openTest(t)
	seed(t, db)
	_, oldKey := keyFile(t, path)
	e, newKey := must2(db.RotateKey("admin"))
	if e.Kind != pumpledger.KindKey || !strings.Contains(string(e.Payload), oldKey) || !strings.Contains(string(e.Payload), newKey) {
		t.Fatalf("key entry %s %s", e.Kind, e.Payload)
	}
	if _, k := keyFile(t, path); k != newKey || strings.TrimSpace(string(must(os.ReadFile(path+".pub")))) != newKey {
		t.Fatalf("LEDGER.key and LEDGER.pub do not hold the new key %s", newKey)
	}
	for _, p := range []string{path + ".key.next", path + ".pub.next"} {
		if exists(p) {
			t.Errorf("%s left behind", p)
		}
	}
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Second Patient"}))
	db.Close()
	db = must(clinic.Open(path, ledger.Options{Now: c.now}))
	defer db.Close()
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-3", Name: "Third Patient"}))
	latest := must(db.Checkpoint()).Note
	res := must(db.Verify())
	db.Close()
	if len(res.Rotations) != 1 || res.Rotations[0].OldKey != oldKey || res.Rotations[0].NewKey != newKey || res.Rotations[0].Seq != e.Seq {
		t.Errorf("rotations %+v, want one from %s to %s at %d", res.Rotations, oldKey, newKey, e.Seq)
	}
	// The rotation's checkpoint opens with either key; the latest with the
	// new one only.
	rot := checkpointAt(t, path, e.Seq+1)
	for _, k := range []string{oldKey, newKey} {
		if _, err := note.Open(rot, note.VerifierList(must(note.NewVerifier(k)))); err != nil {
			t.Errorf("the rotation's checkpoint with %s: %v", k, err)
		}
	}
	if _, err := note.Open(latest, note.VerifierList(must(note.NewVerifier(oldKey)))); err == nil {
		t.Errorf("a checkpoint after the rotation verifies with the old key")
	}
}

// TestRotationChainAttacks: the old key, stolen or kept, cannot take the
// ledger back; a key entry whose checkpoint only one key signed is refused;
// a rotation cut short signs nothing until it is finished by hand.
func TestRotationChainAttacks(t *testing.T) {
	rotated := func(t *testing.T) (path, oldSkey, oldKey string) {
		db, _, path := openTest(t)
		seed(t, db)
		b := strings.Split(strings.TrimSpace(string(must(os.ReadFile(path+".key")))), "\n")
		must2(db.RotateKey("admin"))
		must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Second Patient"}))
		db.Close()
		return path, b[0], b[1]
	}
	t.Run("old key put back, every checkpoint re-signed with it", func(t *testing.T) {
		path, skey, vkey := rotated(t)
		os.WriteFile(path+".key", []byte(skey+"\n"+vkey+"\n"), 0o600)
		os.WriteFile(path+".pub", []byte(vkey+"\n"), 0o644)
		resignAll(t, path, must(note.NewVerifier(vkey)).Name(), must(note.NewSigner(skey)))
		db := must(clinic.Open(path, ledger.Options{ReadOnly: true}))
		defer db.Close()
		_, err := db.Verify()
		if !errors.Is(err, ledger.ErrTampered) || !strings.Contains(err.Error(), "not signed by both the old key and the new") {
			t.Errorf("verify: %v; want the rotation's checkpoint named", err)
		}
	})
	t.Run("new key put back but LEDGER.pub of another", func(t *testing.T) {
		path, _, _ := rotated(t)
		// A third key: every checkpoint re-signed with it, as a key swap.
		_, vkey := keyFile(t, path)
		skey3, vkey3 := must2(note.GenerateKey(nil, must(note.NewVerifier(vkey)).Name()))
		os.WriteFile(path+".key", []byte(skey3+"\n"+vkey3+"\n"), 0o600)
		os.WriteFile(path+".pub", []byte(vkey3+"\n"), 0o644)
		resignAll(t, path, must(note.NewVerifier(vkey)).Name(), must(note.NewSigner(skey3)))
		db := must(clinic.Open(path, ledger.Options{ReadOnly: true}))
		defer db.Close()
		if _, err := db.Verify(); !errors.Is(err, ledger.ErrTampered) {
			t.Errorf("verify: %v; want ErrTampered", err)
		}
	})
	t.Run("cut short", func(t *testing.T) {
		path, _, _ := rotated(t)
		os.WriteFile(path+".key.next", []byte("x\n"), 0o600)
		db := must(clinic.Open(path, ledger.Options{}))
		defer db.Close()
		_, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-3", Name: "Third Patient"})
		wantRefused(t, "an append with a .next key", err, pumpledger.ECONFLICT, "key rotation was cut short")
	})
}

// TestWitnessFollowsRotation: a witness that holds the old key cosigns the
// rotation's checkpoint (the old key signs it), and after it, once told
// the new key, the ledger's later checkpoints.
func TestWitnessFollowsRotation(t *testing.T) {
	w := witnesstest.Start(t)
	db, _, path := openTest(t)
	seed(t, db)
	_, oldKey := keyFile(t, path)
	w.AddLog(must(note.NewVerifier(oldKey)).Name(), oldKey)
	ctx := context.Background()
	must(db.Cosign(ctx, w.URL))
	_, newKey := must2(db.RotateKey("admin"))
	must(db.Cosign(ctx, w.URL))
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Second Patient"}))
	if _, err := db.Cosign(ctx, w.URL); err == nil || !strings.Contains(err.Error(), "key was replaced") {
		t.Errorf("a witness not told of the new key: %v", err)
	}
	w.Ctl("add-key", "-origin", must(note.NewVerifier(newKey)).Name(), "-key", newKey)
	must(db.Cosign(ctx, w.URL))
}
