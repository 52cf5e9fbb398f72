package ledger

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/pumpledger/pumpledger"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrTampered: an entry or a stored hash does not match the tree.
var ErrTampered = errors.New("ledger does not match its tree")

// hashReader reads stored hashes inside one transaction.
type hashReader struct{ b *bolt.Bucket }

func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		v := r.b.Get(u64(uint64(x)))
		if len(v) != tlog.HashSize {
			return nil, fmt.Errorf("%w: stored hash %d is missing", ErrTampered, x)
		}
		copy(out[i][:], v)
	}
	return out, nil
}

// size is the number of entries (the tree size).
func size(tx *bolt.Tx) int64 { return int64(tx.Bucket(bucketEntries).Sequence()) }

// appendLeaf stores an entry's canonical bytes at the next sequence number and
// its tree hashes, in tx. It returns the entry's seq.
func appendLeaf(tx *bolt.Tx, e *Entry) error {
	entries, hashes := tx.Bucket(bucketEntries), tx.Bucket(bucketHashes)
	n := size(tx)
	e.Seq = n
	data := e.Encode()
	hs, err := tlog.StoredHashes(n, data, hashReader{hashes})
	if err != nil {
		return fmt.Errorf("tree hashes for entry %d: %w", n, err)
	}
	base := tlog.StoredHashIndex(0, n)
	for i, h := range hs {
		if err := hashes.Put(u64(uint64(base+int64(i))), bytes.Clone(h[:])); err != nil {
			return err
		}
	}
	if err := entries.SetSequence(uint64(n + 1)); err != nil {
		return err
	}
	return entries.Put(u64(uint64(n)), data)
}

// Tree is the tree's size and root hash.
type Tree = tlog.Tree

// treeAt returns the current tree in tx.
func treeAt(tx *bolt.Tx) (Tree, error) {
	n := size(tx)
	h, err := tlog.TreeHash(n, hashReader{tx.Bucket(bucketHashes)})
	return Tree{N: n, Hash: h}, err
}

// keys is the ledger's checkpoint signing key pair.
type keys struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// loadKeys reads the key file, creating it (0600) on first use. The file
// holds the note private key on line 1 and the public verifier key on line 2.
func (db *DB) loadKeys(create bool) (*keys, error) {
	if db.signer != nil {
		return db.signer, nil
	}
	b, err := os.ReadFile(db.keyPath)
	if errors.Is(err, os.ErrNotExist) && create {
		skey, vkey, gerr := note.GenerateKey(rand.Reader, db.id)
		if gerr != nil {
			return nil, fmt.Errorf("generate checkpoint key: %w", gerr)
		}
		b = []byte(skey + "\n" + vkey + "\n")
		f, ferr := os.OpenFile(db.keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if ferr != nil {
			return nil, fmt.Errorf("create checkpoint key %s: %w", db.keyPath, ferr)
		}
		if _, werr := f.Write(b); werr != nil {
			f.Close()
			return nil, fmt.Errorf("write checkpoint key %s: %w", db.keyPath, werr)
		}
		if serr := f.Sync(); serr != nil {
			f.Close()
			return nil, fmt.Errorf("sync checkpoint key %s: %w", db.keyPath, serr)
		}
		if cerr := f.Close(); cerr != nil {
			return nil, cerr
		}
		err = nil
	}
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "No checkpoint key at %s (%v); keep the key file beside the ledger or pass its path.", db.keyPath, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint key %s is malformed; restore it from backup.", db.keyPath)
	}
	s, err := note.NewSigner(lines[0])
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint key %s is malformed (%v); restore it from backup.", db.keyPath, err)
	}
	v, err := note.NewVerifier(lines[1])
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint key %s is malformed (%v); restore it from backup.", db.keyPath, err)
	}
	db.signer = &keys{signer: s, verifier: v, vkey: lines[1]}
	return db.signer, nil
}

// checkpointText is the C2SP tlog-checkpoint body: origin, size, base64 root.
func checkpointText(origin string, t Tree) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, t.N, base64.StdEncoding.EncodeToString(t.Hash[:]))
}

func parseCheckpointText(text string) (origin string, t Tree, err error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[3] != "" {
		return "", Tree{}, fmt.Errorf("a checkpoint body has three lines: origin, size, root")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 {
		return "", Tree{}, fmt.Errorf("bad tree size %q", lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return "", Tree{}, fmt.Errorf("bad root hash %q", lines[2])
	}
	t.N = n
	copy(t.Hash[:], h)
	return lines[0], t, nil
}

// signCheckpoint signs tree t and stores the note under its size.
func (db *DB) signCheckpoint(tx *bolt.Tx, k *keys, t Tree) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: checkpointText(db.id, t)}, k.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	if err := tx.Bucket(bucketCheckpoints).Put(u64(uint64(t.N)), msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// Checkpoint is a signed statement of the tree's size and root.
type Checkpoint struct {
	Tree     Tree
	Note     []byte // the signed note, as printed and kept by an auditor
	Verifier string // the public key that verifies it
}

// Checkpoint signs the current tree (creating the key on first use), keeps
// the note in the ledger, and returns it.
func (db *DB) Checkpoint() (Checkpoint, error) {
	k, err := db.loadKeys(true)
	if err != nil {
		return Checkpoint{}, err
	}
	var cp Checkpoint
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		t, err := treeAt(tx)
		if err != nil {
			return err
		}
		if prev := tx.Bucket(bucketCheckpoints).Get(u64(uint64(t.N))); prev != nil {
			cp = Checkpoint{Tree: t, Note: bytes.Clone(prev), Verifier: k.vkey}
			return nil
		}
		msg, err := db.signCheckpoint(tx, k, t)
		cp = Checkpoint{Tree: t, Note: msg, Verifier: k.vkey}
		return err
	})
	return cp, err
}

// openCheckpoint verifies a signed note with the ledger's key and parses it.
func (db *DB) openCheckpoint(msg []byte) (Tree, error) {
	k, err := db.loadKeys(false)
	if err != nil {
		return Tree{}, err
	}
	n, err := note.Open(msg, note.VerifierList(k.verifier))
	if err != nil {
		return Tree{}, pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint is not signed by this ledger's key (%v).", err)
	}
	origin, t, err := parseCheckpointText(n.Text)
	if err != nil {
		return Tree{}, pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint is malformed: %v.", err)
	}
	if origin != db.id {
		return Tree{}, pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint is of ledger %q, not this one (%q).", origin, db.id)
	}
	return t, nil
}

// Consistent proves, with a tlog consistency proof, that the ledger now
// extends the tree of an older signed checkpoint: nothing in it was changed
// or removed since. It returns the current tree.
func (db *DB) Consistent(old []byte) (Tree, error) {
	ot, err := db.openCheckpoint(old)
	if err != nil {
		return Tree{}, err
	}
	var cur Tree
	err = db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		if cur, err = treeAt(tx); err != nil {
			return err
		}
		if ot.N > cur.N {
			return pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint is of %d entries but the ledger has only %d: entries were removed, or this is another copy.", ot.N, cur.N)
		}
		proof, err := tlog.ProveTree(cur.N, ot.N, hashReader{tx.Bucket(bucketHashes)})
		if err != nil {
			return err
		}
		if err := tlog.CheckTree(proof, cur.N, cur.Hash, ot.N, ot.Hash); err != nil {
			return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
				"The ledger is NOT consistent with the checkpoint of %d entries: something recorded before it was changed (%v).", ot.N, ErrTampered)}
		}
		return nil
	})
	return cur, err
}

// Inclusion is the proof that an entry is leaf Seq of the tree.
type Inclusion struct {
	Entry Entry
	Leaf  tlog.Hash
	Tree  Tree
	Proof tlog.RecordProof
}

// Prove returns the inclusion proof of the entry with the given id in the
// current tree, checked before it is returned.
func (db *DB) Prove(id string) (Inclusion, error) {
	var inc Inclusion
	err := db.bolt.View(func(tx *bolt.Tx) error {
		e, err := entryByID(tx, id)
		if err != nil {
			return err
		}
		if inc.Tree, err = treeAt(tx); err != nil {
			return err
		}
		inc.Entry, inc.Leaf = e, tlog.RecordHash(e.Encode())
		if inc.Proof, err = tlog.ProveRecord(inc.Tree.N, e.Seq, hashReader{tx.Bucket(bucketHashes)}); err != nil {
			return err
		}
		return tlog.CheckRecord(inc.Proof, inc.Tree.N, inc.Tree.Hash, e.Seq, inc.Leaf)
	})
	return inc, err
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	Entries     int64
	Tree        Tree
	Checkpoints int // signed checkpoints checked against the recomputed tree
	// KeyMissing: the key file was not found, so signatures were not checked.
	KeyMissing bool
}

// verifyChunk is how many entries one read transaction covers: short
// transactions so a verify of a large ledger never holds back its growth.
const verifyChunk = 1024

// Verify recomputes every leaf from its stored entry and every stored tree
// hash from the leaves, in entry order, and checks every signed checkpoint
// kept in the ledger against the recomputed root at its size. Memory is
// constant: the stored hashes are the running state. It returns an error
// naming the first entry that does not match.
func (db *DB) Verify() (VerifyResult, error) {
	var res VerifyResult
	var n int64
	checkpoints := map[int64][]byte{}
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		n = size(tx)
		return tx.Bucket(bucketCheckpoints).ForEach(func(k, v []byte) error {
			checkpoints[int64(binary.BigEndian.Uint64(k))] = bytes.Clone(v)
			return nil
		})
	}); err != nil {
		return res, err
	}
	for start := int64(0); start < n; start += verifyChunk {
		end := min(start+verifyChunk, n)
		err := db.bolt.View(func(tx *bolt.Tx) error {
			entries, hr := tx.Bucket(bucketEntries), hashReader{tx.Bucket(bucketHashes)}
			for i := start; i < end; i++ {
				data := entries.Get(u64(uint64(i)))
				if data == nil {
					return tampered(i, "is missing")
				}
				e, err := decodeEntry(data)
				if err != nil {
					return tampered(i, "cannot be read (%v)", err)
				}
				if e.Seq != i {
					return tampered(i, "claims to be entry %d", e.Seq)
				}
				if !bytes.Equal(e.Encode(), data) {
					return tampered(i, "is not in canonical form")
				}
				want, err := tlog.StoredHashes(i, data, hr)
				if err != nil {
					return tampered(i, "has a tree hash missing (%v)", err)
				}
				got, err := hr.ReadHashes(storedIndexes(i, len(want)))
				if err != nil {
					return tampered(i, "has a tree hash missing (%v)", err)
				}
				for j := range want {
					if want[j] != got[j] {
						return tampered(i, "does not match its tree hash")
					}
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	// Every stored hash now follows from the entries; the roots follow from
	// the stored hashes. Check the signed checkpoints against them.
	err := db.bolt.View(func(tx *bolt.Tx) error {
		hr := hashReader{tx.Bucket(bucketHashes)}
		var err error
		res.Tree.N = n
		if res.Tree.Hash, err = tlog.TreeHash(n, hr); err != nil {
			return err
		}
		if len(checkpoints) == 0 {
			return nil
		}
		if _, kerr := db.loadKeys(false); kerr != nil {
			res.KeyMissing = true
			return nil
		}
		for size, msg := range checkpoints {
			t, err := db.openCheckpoint(msg)
			if err != nil {
				return &pumpledger.Error{Code: pumpledger.EINVALID, Message: fmt.Sprintf("The checkpoint kept at %d entries does not verify: %s", size, pumpledger.ErrorMessage(err))}
			}
			if t.N != size || t.N > n {
				return &pumpledger.Error{Code: pumpledger.EINVALID, Message: fmt.Sprintf("The checkpoint kept at %d entries is of %d entries, and the ledger has %d: %v.", size, t.N, n, ErrTampered)}
			}
			root, err := tlog.TreeHash(t.N, hr)
			if err != nil {
				return err
			}
			if root != t.Hash {
				return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
					"The entries before %d do not match the signed checkpoint of that size: an entry and its hashes were rewritten (%v).", t.N, ErrTampered)}
			}
			res.Checkpoints++
		}
		return nil
	})
	res.Entries = n
	return res, err
}

func storedIndexes(n int64, count int) []int64 {
	base := tlog.StoredHashIndex(0, n)
	out := make([]int64, count)
	for i := range out {
		out[i] = base + int64(i)
	}
	return out
}

func tampered(seq int64, format string, args ...any) error {
	return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered,
		Message: fmt.Sprintf("Entry %d %s: %v.", seq, fmt.Sprintf(format, args...), ErrTampered)}
}

// Backup writes a consistent copy of the ledger file to w while the ledger
// stays open for appends (a bbolt read transaction), and returns its size.
// The copy verifies on its own with the same key file.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
