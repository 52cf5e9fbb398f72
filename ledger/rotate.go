package ledger

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/safefile"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// Key rotation. RotateKey appends a key entry naming the old verifier key
// and a new one, and signs the checkpoint of the tree that ends with it
// with both keys: the old key vouches for the new. The new key pair is
// written aside first (LEDGER.key.next, LEDGER.pub.next) and renamed into
// place after the commit; while a .next file is there (a rotation cut
// short), nothing is signed. Verify follows the chain: each rotation's
// old key is the one before's new key, each rotation's checkpoint verifies
// with both, and LEDGER.pub is the last new key.

// RotateKey replaces the ledger's signing key; by is who records it. It
// returns the key entry and the new verifier key.
func (db *DB) RotateKey(by string) (Entry, string, error) {
	if db.bolt.IsReadOnly() || db.dryRun {
		return Entry{}, "", errors.New("ledger: RotateKey needs a ledger open for writing")
	}
	old, err := db.signingKey()
	if err != nil {
		return Entry{}, "", err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, db.id)
	if err != nil {
		return Entry{}, "", fmt.Errorf("generate key: %w", err)
	}
	next, err := note.NewSigner(skey)
	if err != nil {
		return Entry{}, "", err
	}
	for _, f := range []struct {
		path, text string
		perm       os.FileMode
	}{{db.keyPath + ".next", skey + "\n" + vkey + "\n", 0o600}, {db.pubPath + ".next", vkey + "\n", 0o644}} {
		if err := safefile.WriteNew(f.path, f.perm, func(w *os.File) error { _, err := w.WriteString(f.text); return err }); err != nil {
			return Entry{}, "", pumpledger.Errorf(pumpledger.EINTERNAL, "Cannot write the new key %s (%v); nothing was rotated.", f.path, err)
		}
	}
	payload := Canonical(pumpledger.KeyRotation{OldKey: old.vkey, NewKey: vkey})
	e := db.Envelope(uuid.NewString(), KindKey, by, pumpledger.NewInstant(db.now()), payload)
	err = db.updateAlone(func(tx *bolt.Tx) error {
		if err := appendLeaf(tx, &e); err != nil {
			return err
		}
		if err := fileEntry(tx, e); err != nil {
			return err
		}
		t, err := treeAt(tx)
		if err != nil {
			return err
		}
		msg, err := note.Sign(&note.Note{Text: checkpointText(db.id, t)}, old.signer, next)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketCheckpoints).Put(u64(uint64(t.N)), msg)
	})
	if err != nil {
		os.Remove(db.keyPath + ".next")
		os.Remove(db.pubPath + ".next")
		return Entry{}, "", err
	}
	db.sawCommitted(e.Seq + 1)
	for _, p := range []string{db.pubPath, db.keyPath} {
		if err := os.Rename(p+".next", p); err != nil {
			return e, vkey, pumpledger.Errorf(pumpledger.EINTERNAL, "The key was rotated in the ledger (entry %d) but %s could not be put in place (%v); move %s.next to %s yourself before anything else is recorded.", e.Seq+1, p, err, p, filepath.Base(p))
		}
	}
	if err := safefile.SyncDir(filepath.Dir(db.keyPath)); err != nil {
		return e, vkey, err
	}
	nv, err := note.NewVerifier(vkey)
	if err != nil {
		return e, vkey, err
	}
	db.keysMu.Lock()
	db.signer = &keys{signer: next, verifier: nv, vkey: vkey}
	db.pub = &keys{verifier: nv, vkey: vkey}
	db.keysMu.Unlock()
	return e, vkey, nil
}

// rotationCutShort refuses to sign while a rotation's new key waits aside.
func (db *DB) rotationCutShort() error {
	if _, err := os.Lstat(db.keyPath + ".next"); err != nil {
		return nil
	}
	return pumpledger.Errorf(pumpledger.ECONFLICT, "A key rotation was cut short: %[1]s.next holds a new key. If `pumpledger verify` names the ledger's key as not the last rotation's, move %[1]s.next to %[1]s and %[2]s.next to %[2]s; otherwise remove both .next files. Nothing was recorded.", db.keyPath, db.pubPath)
}

// Rotation is one key entry, as verify found it.
type Rotation struct {
	Seq            int64
	OldKey, NewKey string
}

// verifyRotations follows the key chain through the key entries (already
// proven by the tree) up to n entries: each rotation's old key is the one
// before's new key, the checkpoint kept at its tree verifies with both,
// and LEDGER.pub is the last new key.
func (db *DB) verifyRotations(n int64) ([]Rotation, error) {
	var out []Rotation
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketByKind) == nil {
			return nil
		}
		for _, seq := range scanIndex(tx, bucketByKind, string(KindKey)) {
			if seq >= n {
				break
			}
			e, err := getEntry(tx, seq)
			if err != nil {
				return err
			}
			var r pumpledger.KeyRotation
			if err := json.Unmarshal(e.Payload, &r); err != nil {
				return tampered(seq, "is a key rotation that cannot be read (%v)", err)
			}
			if len(out) > 0 && out[len(out)-1].NewKey != r.OldKey {
				return tampered(seq, "rotates from a key that is not the one the rotation before it put in place")
			}
			msg := tx.Bucket(bucketCheckpoints).Get(u64(uint64(seq + 1)))
			for _, k := range []string{r.OldKey, r.NewKey} {
				v, err := note.NewVerifier(k)
				if err != nil || v.Name() != db.id {
					return tampered(seq, "names a key that is not of this ledger")
				}
				if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
					return tampered(seq, "rotates the key, but the checkpoint of the tree it ends is not signed by both the old key and the new")
				}
			}
			out = append(out, Rotation{Seq: seq, OldKey: r.OldKey, NewKey: r.NewKey})
		}
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	pub, err := db.publicKey()
	if err != nil {
		return nil, err
	}
	if last := out[len(out)-1]; pub.vkey != last.NewKey {
		return nil, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
			"The public key %s is not the key the last rotation (entry %d) put in place (%v).", db.pubPath, last.Seq+1, ErrTampered)}
	}
	return out, nil
}
