package ledger_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/internal/witnesstest"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/witness"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// bucketReader reads stored hashes from a bucket, for the attacker's tools.
type bucketReader struct{ b *bolt.Bucket }

func (r bucketReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		copy(out[i][:], r.b.Get(u64(uint64(x))))
	}
	return out, nil
}

// resignAll is the attacker holding a signing key: every kept checkpoint is
// replaced by one of the tree now stored at its size, signed with signer,
// without the cosignatures (a witness's cannot be made).
func resignAll(t *testing.T, path, origin string, signer note.Signer) {
	t.Helper()
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		cps, hr := tx.Bucket(bucketCheckpoints), bucketReader{tx.Bucket(bucketHashes)}
		var sizes []int64
		_ = cps.ForEach(func(k, _ []byte) error { sizes = append(sizes, int64(binary.BigEndian.Uint64(k))); return nil })
		for _, n := range sizes {
			root, err := tlog.TreeHash(n, hr)
			if err != nil {
				return err
			}
			msg, err := note.Sign(&note.Note{Text: checkpointBody(origin, tlog.Tree{N: n, Hash: root})}, signer)
			if err != nil {
				return err
			}
			if err := cps.Put(u64(uint64(n)), msg); err != nil {
				return err
			}
		}
		return nil
	})
}

// truncate is the attacker removing entries n and after, cleanly: the
// entries, their hashes, the checkpoints of more than n entries, and every
// index key of them, so the ledger is whole at n entries.
func truncate(t *testing.T, path string, n int64) {
	t.Helper()
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		entries, hashes := tx.Bucket(bucketEntries), tx.Bucket(bucketHashes)
		total := int64(entries.Sequence())
		for i := n; i < total; i++ {
			if err := entries.Delete(u64(uint64(i))); err != nil {
				return err
			}
		}
		for x := tlog.StoredHashCount(n); x < tlog.StoredHashCount(total); x++ {
			if err := hashes.Delete(u64(uint64(x))); err != nil {
				return err
			}
		}
		if err := entries.SetSequence(uint64(n)); err != nil {
			return err
		}
		for _, name := range []string{"checkpoints", "ids", "by_patient", "by_pump", "by_date", "voided", "by_kind"} {
			b := tx.Bucket([]byte(name))
			var doomed [][]byte
			_ = b.ForEach(func(k, v []byte) error {
				gone := func(b []byte) bool { return int64(binary.BigEndian.Uint64(b)) >= n }
				switch {
				case name == "checkpoints":
					if int64(binary.BigEndian.Uint64(k)) > n {
						doomed = append(doomed, bytes.Clone(k))
					}
				case name == "ids" || name == "voided":
					if gone(v) || len(k) == 8 && gone(k) {
						doomed = append(doomed, bytes.Clone(k))
					}
				case len(k) > 8 && gone(k[len(k)-8:]): // key 0x00 seq
					doomed = append(doomed, bytes.Clone(k))
				}
				return nil
			})
			for _, k := range doomed {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// TestWitnessCatchesAttacks: a ledger whose checkpoint a real witness
// (litewitness, its own process) cosigned, then attacked by someone who
// can write the ledger's folder. Each attack passes verify without the
// witness, and is caught by verify with the witness's key.
func TestWitnessCatchesAttacks(t *testing.T) {
	w := witnesstest.Start(t)
	key := must(witness.NewVerifier(w.VKey))
	ctx := context.Background()

	// ledger makes a seeded ledger known to the witness, cosigned at its
	// size, with one refill's worth of entries more after a backup copy:
	// it returns the path, the backup, and the cosigned size.
	ledgerFor := func(t *testing.T) (path, backup string, cosigned int64) {
		db, c, path := openTest(t)
		_, _ = seed(t, db)
		cp := must(db.Checkpoint())
		w.AddLog(must(note.NewVerifier(cp.Verifier)).Name(), cp.Verifier)
		db.Close()
		backup = copyFiles(t, path, ".key", ".pub")
		db = must(clinic.Open(path, ledger.Options{Now: c.now}))
		defer db.Close()
		must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Second Patient"}))
		got := must(db.Cosign(ctx, w.URL))
		if len(got.Sigs) != 1 || got.Sigs[0].Name != witnesstest.Name {
			t.Fatalf("cosignatures %+v, want one of %s", got.Sigs, witnesstest.Name)
		}
		// Growth after the cosigned checkpoint is fine: the witness is
		// asked again at verify.
		must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-3", Name: "Third Patient"}))
		return path, backup, got.Tree.N
	}

	t.Run("untouched", func(t *testing.T) {
		path, _, cosigned := ledgerFor(t)
		db := must(clinic.Open(path, ledger.Options{ReadOnly: true}))
		defer db.Close()
		must(db.Verify())
		checks := must(db.VerifyWitnesses(ctx, []*witness.Verifier{key}, nil))
		n := must(db.Size())
		if len(checks) != 1 || checks[0].Kept != cosigned || checks[0].Now != n || checks[0].URL != w.URL {
			t.Errorf("checks %+v, want kept %d, now %d at %s", checks, cosigned, n, w.URL)
		}
		// Asked again, the witness (now at n) cosigns the same tree.
		must(db.VerifyWitnesses(ctx, []*witness.Verifier{key}, nil))
	})

	for _, tc := range []struct {
		name   string
		attack func(t *testing.T, path, backup string, cosigned int64)
		says   string
	}{
		{"rewrite and re-sign", func(t *testing.T, path, _ string, _ int64) {
			second := seqOfKind(t, path, pumpledger.KindRefill, 1)
			rewriteEntry(t, path, second, editPayload(t, `"residual_ml":"5.5"`, `"residual_ml":"7.6"`))
			signer, vkey := keyFile(t, path)
			resignAll(t, path, must(note.NewVerifier(vkey)).Name(), signer)
		}, "NOT consistent"},
		{"truncation", func(t *testing.T, path, _ string, cosigned int64) {
			truncate(t, path, cosigned-1)
		}, "holds only"},
		{"rollback to an older backup", func(t *testing.T, path, backup string, _ int64) {
			if err := os.WriteFile(path, must(os.ReadFile(backup)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "older copy"},
		{"key swap", func(t *testing.T, path, _ string, _ int64) {
			_, vkey := keyFile(t, path)
			origin := must(note.NewVerifier(vkey)).Name()
			skey, nvkey := must2(note.GenerateKey(rand.Reader, origin))
			if err := os.WriteFile(path+".key", []byte(skey+"\n"+nvkey+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path+".pub", []byte(nvkey+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			resignAll(t, path, origin, must(note.NewSigner(skey)))
		}, "key was replaced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, backup, cosigned := ledgerFor(t)
			tc.attack(t, path, backup, cosigned)
			db := must(clinic.Open(path, ledger.Options{ReadOnly: true}))
			defer db.Close()
			// Unnoticed without the witness: the ledger is whole and
			// signed by the key beside it.
			if _, err := db.Verify(); err != nil {
				t.Fatalf("verify without a witness caught it already: %v", err)
			}
			// The auditor gives the witness's key and address, nothing kept.
			_, err := db.VerifyWitnesses(ctx, []*witness.Verifier{key}, []string{w.URL})
			if !errors.Is(err, ledger.ErrTampered) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("verify with the witness: %v; want ErrTampered saying %q", err, tc.says)
			}
		})
	}
}
