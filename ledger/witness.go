package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/witness"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Witnesses (docs/witness.md). The setting is the meta key "witnesses":
// one line per witness, its URL and the tree size it last cosigned for
// this ledger (where the next submission starts its proof). It is not
// evidence: a wrong URL or size costs a retry or an error, never a pass,
// since trust comes from the witness keys the auditor gives verify.
//
// A witness's cosignatures are kept in the checkpoint record itself: the
// record under size n is the signed note with the cosignature lines added
// after the ledger's own signature, so it stays a signed note that any
// note reader opens (the ledger's key verifies it, the lines it does not
// know are left aside), and a ledger made before witnesses opens as it was.
var keyWitnesses = []byte("witnesses")

// WitnessSetting is one configured witness: its URL and the size it last
// cosigned, as this ledger last heard.
type WitnessSetting struct {
	URL  string
	Size int64
}

// WitnessSettings is the ledger's list of witnesses, in the order added.
func (db *DB) WitnessSettings() (out []WitnessSetting, err error) {
	defer guard(db.path, &err)()
	err = db.bolt.View(func(tx *bolt.Tx) error {
		out = parseWitnesses(tx.Bucket(bucketMeta).Get(keyWitnesses))
		return nil
	})
	return out, err
}

func parseWitnesses(b []byte) []WitnessSetting {
	var out []WitnessSetting
	for line := range strings.Lines(string(b)) {
		url, size, _ := strings.Cut(strings.TrimSpace(line), " ")
		n, _ := strconv.ParseInt(size, 10, 64)
		if url != "" {
			out = append(out, WitnessSetting{URL: url, Size: max(n, 0)})
		}
	}
	return out
}

func formatWitnesses(ws []WitnessSetting) []byte {
	var b bytes.Buffer
	for _, w := range ws {
		fmt.Fprintf(&b, "%s %d\n", w.URL, w.Size)
	}
	return b.Bytes()
}

// witnessClient is the HTTP client for witnesses; a witness answers at
// once (it signs or refuses), so a slow one is a down one.
var witnessClient = &http.Client{Timeout: 15 * time.Second}

// Cosigned is what one witness did with the current checkpoint.
type Cosigned struct {
	URL  string
	Tree Tree
	Sigs []note.Signature
}

// Cosign submits the current tree's signed checkpoint (signing it first if
// no append did) to the witness at url with the consistency proof from the
// size the witness last cosigned, keeps the cosignatures in the checkpoint
// record, and adds url to the setting (or updates its size). It needs the
// signing key.
func (db *DB) Cosign(ctx context.Context, url string) (Cosigned, error) {
	cp, err := db.Checkpoint()
	if err != nil {
		return Cosigned{}, err
	}
	ws, err := db.WitnessSettings()
	if err != nil {
		return Cosigned{}, err
	}
	old := int64(0)
	i := slices.IndexFunc(ws, func(w WitnessSetting) bool { return w.URL == url })
	if i >= 0 {
		old = ws[i].Size
	}
	sigs, err := db.submit(ctx, url, old, cp)
	if err != nil {
		return Cosigned{}, err
	}
	err = db.updateAlone(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCheckpoints)
		msg := b.Get(u64(uint64(cp.Tree.N)))
		if msg == nil {
			return fmt.Errorf("the checkpoint of %d entries is gone", cp.Tree.N)
		}
		if err := b.Put(u64(uint64(cp.Tree.N)), addSignatures(msg, sigs)); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		ws := parseWitnesses(meta.Get(keyWitnesses))
		if i := slices.IndexFunc(ws, func(w WitnessSetting) bool { return w.URL == url }); i >= 0 {
			ws[i].Size = cp.Tree.N
		} else {
			ws = append(ws, WitnessSetting{url, cp.Tree.N})
		}
		return meta.Put(keyWitnesses, formatWitnesses(ws))
	})
	return Cosigned{URL: url, Tree: cp.Tree, Sigs: sigs}, err
}

// addSignatures adds signature lines to a signed note; a line of the same
// key (name and hash) already there, an older cosignature of the same
// witness, is replaced.
func addSignatures(msg []byte, sigs []note.Signature) []byte {
	text, old, _ := bytes.Cut(msg, []byte("\n\n"))
	out := append(bytes.Clone(text), "\n\n"...)
	for line := range strings.Lines(string(old)) {
		if !slices.ContainsFunc(sigs, func(s note.Signature) bool {
			return strings.HasPrefix(line, fmt.Sprintf("— %s ", s.Name)) && sameHash(line, s.Hash)
		}) {
			out = append(out, line...)
		}
	}
	for _, s := range sigs {
		out = append(out, witness.Line(s)+"\n"...)
	}
	return out
}

func sameHash(line string, h uint32) bool {
	sigs, err := witness.ParseSignatures([]byte(line))
	return err == nil && len(sigs) == 1 && sigs[0].Hash == h
}

// submit runs add-checkpoint with the witness at url from old, retrying
// from the size a 409 names (at most a few times: the witness may move on
// meanwhile). Each answer that is not a cosignature is one sentence on
// what it means for this ledger.
func (db *DB) submit(ctx context.Context, url string, old int64, cp Checkpoint) ([]note.Signature, error) {
	n := cp.Tree.N
	for range 4 {
		if old > n {
			return nil, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
				"The witness %s has cosigned %d entries of this ledger but it holds only %d: entries were removed, or an older copy was put in its place (%v).", url, old, n, ErrTampered)}
		}
		var proof tlog.TreeProof
		if old > 0 && old < n {
			err := db.bolt.View(func(tx *bolt.Tx) error {
				var err error
				proof, err = tlog.ProveTree(n, old, hashReader{tx.Bucket(bucketHashes)})
				return err
			})
			if err != nil {
				return nil, err
			}
		}
		sigs, err := witness.Submit(ctx, witnessClient, url, old, proof, cp.Note)
		var conflict *witness.Conflict
		var refused *witness.Refused
		switch {
		case errors.As(err, &conflict):
			old = conflict.Size
			continue
		case errors.As(err, &refused) && refused.Status == http.StatusUnprocessableEntity:
			return nil, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
				"The witness %s finds this ledger NOT consistent with the %d entries it cosigned: something recorded before was changed (%v).", url, old, ErrTampered)}
		case errors.As(err, &refused) && refused.Status == http.StatusForbidden:
			return nil, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
				"The witness %s refuses this ledger's checkpoint (%s): it is not signed by the key the witness holds for %s, so the ledger's key was replaced, or the witness was not told of this ledger (%v).", url, refused.Text, db.id, ErrTampered)}
		case errors.As(err, &refused):
			return nil, pumpledger.Errorf(pumpledger.EINVALID, "The witness %s refused the checkpoint (%v); check the address.", url, err)
		case err != nil:
			return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "Cannot reach the witness %s (%v); check the address and try again.", url, err)
		}
		return sigs, nil
	}
	return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "The witness %s kept changing its tree size; try again.", url)
}

// WitnessCheck is what VerifyWitnesses found for one trusted key.
type WitnessCheck struct {
	Name string
	// Kept is the size of the latest checkpoint kept in the ledger with a
	// cosignature by this key; 0 if none.
	Kept int64
	// Now is the size the witness cosigned when asked by verify: the
	// ledger's current size.
	Now int64
	URL string
}

// VerifyWitnesses is verify's check against witnesses the auditor trusts,
// run after Verify (which proved every entry and every kept checkpoint's
// root against the tree): every kept cosignature by a trusted key
// verifies; and each trusted witness, asked at the URLs of the setting
// and extra, cosigns the ledger's current checkpoint, which it does only
// if it is signed by the key it knows for the ledger and consistent with
// the largest tree it cosigned before. So a rewrite, a truncation, a
// rollback to an older copy and a swapped key after a cosigned checkpoint
// are each caught by the witness's memory, with nothing kept by the
// auditor. The answers are not kept (verify writes nothing).
func (db *DB) VerifyWitnesses(ctx context.Context, keys []*witness.Verifier, extra []string) (_ []WitnessCheck, err error) {
	defer guard(db.path, &err)()
	checks := make([]WitnessCheck, len(keys))
	var cp Checkpoint
	err = db.bolt.View(func(tx *bolt.Tx) error {
		n := size(tx)
		cp.Tree.N = n
		cp.Note = bytes.Clone(tx.Bucket(bucketCheckpoints).Get(u64(uint64(n))))
		if cp.Note == nil {
			return pumpledger.Errorf(pumpledger.ENOTFOUND, "No signed checkpoint of the ledger's %d entries is kept; run checkpoint where the signing key is to sign one.", n)
		}
		for i, k := range keys {
			checks[i].Name = k.Name()
			kept, err := latestCosigned(tx, k)
			if err != nil {
				return err
			}
			checks[i].Kept = kept
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var urls []string
	ws, err := db.WitnessSettings()
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		urls = append(urls, w.URL)
	}
	for _, u := range extra {
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	text, _, _ := bytes.Cut(cp.Note, []byte("\n\n"))
	text = append(bytes.Clone(text), '\n')
	for _, url := range urls {
		old := int64(0)
		for _, c := range checks {
			old = max(old, c.Kept)
		}
		if i := slices.IndexFunc(ws, func(w WitnessSetting) bool { return w.URL == url }); i >= 0 {
			old = max(old, ws[i].Size)
		}
		sigs, err := db.submit(ctx, url, min(old, cp.Tree.N), cp)
		if err != nil {
			return nil, err
		}
		for i, k := range keys {
			for _, s := range sigs {
				if s.Name == k.Name() && s.Hash == k.KeyHash() && verifySig(k, text, s) {
					checks[i].Now, checks[i].URL = cp.Tree.N, url
				}
			}
		}
	}
	for _, c := range checks {
		if c.URL == "" {
			return nil, pumpledger.Errorf(pumpledger.EINVALID, "No witness cosigned the ledger's %d entries with the key of %s; give the witness's address with --witness URL.", cp.Tree.N, c.Name)
		}
	}
	return checks, nil
}

func verifySig(k *witness.Verifier, text []byte, s note.Signature) bool {
	msg := append(bytes.Clone(text), "\n"...)
	msg = append(msg, witness.Line(s)+"\n"...)
	_, err := note.Open(msg, note.VerifierList(k))
	return err == nil
}

// latestCosigned is the size of the latest kept checkpoint cosigned by k,
// 0 if none; a cosignature line of k's name and hash that does not verify
// is tampering.
func latestCosigned(tx *bolt.Tx, k *witness.Verifier) (int64, error) {
	c := tx.Bucket(bucketCheckpoints).Cursor()
	prefix := []byte("\n— " + k.Name() + " ")
	for key, msg := c.Last(); key != nil; key, msg = c.Prev() {
		if !bytes.Contains(msg, prefix) {
			continue
		}
		_, err := note.Open(msg, note.VerifierList(k))
		var unknown *note.UnverifiedNoteError
		if errors.As(err, &unknown) {
			continue // a line of the same name but another key
		}
		size := int64(binary.BigEndian.Uint64(key))
		if err != nil {
			return 0, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
				"The cosignature of %s on the checkpoint kept at %d entries does not verify (%v).", k.Name(), size, ErrTampered)}
		}
		return size, nil
	}
	return 0, nil
}
