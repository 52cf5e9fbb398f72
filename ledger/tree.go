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
	"path/filepath"
	"strconv"
	"strings"
	"sync"

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
	db.keysMu.Lock() // concurrent first appends must not both create the file
	defer db.keysMu.Unlock()
	if db.signer != nil {
		return db.signer, nil
	}
	b, err := os.ReadFile(db.keyPath)
	if errors.Is(err, os.ErrNotExist) && create {
		if b, err = db.createKey(); err != nil {
			return nil, err
		}
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

// createKey writes a new key file whole or not at all: to a temporary file,
// synced, then linked into place (link fails if another process got there
// first, whose key then wins) and the directory synced, so a crash never
// leaves an empty or half-written key beside the ledger.
func (db *DB) createKey() ([]byte, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, db.id)
	if err != nil {
		return nil, fmt.Errorf("generate checkpoint key: %w", err)
	}
	b := []byte(skey + "\n" + vkey + "\n")
	dir := filepath.Dir(db.keyPath)
	f, err := os.CreateTemp(dir, filepath.Base(db.keyPath)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create checkpoint key in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("create checkpoint key %s: %w", tmp, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("write checkpoint key %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync checkpoint key %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp, db.keyPath); errors.Is(err, os.ErrExist) {
		return os.ReadFile(db.keyPath)
	} else if err != nil {
		return nil, fmt.Errorf("install checkpoint key %s: %w", db.keyPath, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return b, nil
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
func (db *DB) Checkpoint() (_ Checkpoint, err error) {
	defer guard(db.path, &err)()
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
func (db *DB) Consistent(old []byte) (_ Tree, err error) {
	defer guard(db.path, &err)()
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
func (db *DB) Prove(id string) (_ Inclusion, err error) {
	defer guard(db.path, &err)()
	var inc Inclusion
	err = db.bolt.View(func(tx *bolt.Tx) error {
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
	Entries int64
	Tree    Tree
	// Checkpoints is how many kept checkpoints matched the recomputed tree at
	// their size; the one of the current size was also signature-checked.
	Checkpoints int
	// KeyMissing: the key file was not found, so the signature was not checked.
	KeyMissing bool
}

// verifyChunk is how many entries (or checkpoints) one read transaction
// covers: short transactions, so a verify of a large ledger never holds back
// its growth, and constant memory.
const verifyChunk = 1024

// Verify recomputes every leaf from its stored entry and every stored tree
// hash from the leaves, in entry order; then checks every kept checkpoint's
// root against the recomputed tree at its size, and the signature of the one
// at the current size, which every append signs. That one signature anchors
// the whole tree: the root it signs commits to every entry, so the older
// checkpoints need their roots checked, not their signatures (an Ed25519
// check per append would be nine tenths of the time). Memory is constant. It
// returns an error naming the first entry that does not match.
//
// A damaged file (bbolt panicking on a page, a meta page or the free list
// not valid) is an ErrDamaged error, never a panic.
func (db *DB) Verify() (res VerifyResult, err error) {
	defer guard(db.path, &err)()
	if res, err = db.verify(); err != nil {
		return res, err
	}
	return res, db.checkFile()
}

func (db *DB) verify() (VerifyResult, error) {
	var res VerifyResult
	var n int64
	if err := db.bolt.View(func(tx *bolt.Tx) error { n = size(tx); return nil }); err != nil {
		return res, err
	}
	res.Entries, res.Tree.N = n, n
	// Each chunk: the entries against their hashes, then the index keys they
	// file, which the views trust; then the indexes must hold exactly those.
	salt := newIndexSalt()
	want, err := db.verifyChunks(n, salt)
	if errors.Is(err, ErrNewerKind) {
		return res, db.newerKind(n, err)
	} else if err != nil {
		return res, err
	}
	if err := db.verifyIndexCounts(n, &want, salt); err != nil {
		return res, err
	}
	// Every stored hash now follows from the entries, and every root from the
	// stored hashes.
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		res.Tree.Hash, err = tlog.TreeHash(n, hashReader{tx.Bucket(bucketHashes)})
		return err
	}); err != nil {
		return res, err
	}
	latest := false
	err = db.walk(bucketCheckpoints, func(tx *bolt.Tx, cur int64, k, v []byte) error {
		size := int64(binary.BigEndian.Uint64(k))
		switch {
		case size > cur:
			return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
				"A checkpoint of %d entries is kept but the ledger has %d: entries were removed (%v).", size, cur, ErrTampered)}
		case size > n:
			return nil // signed by an append since verify began
		}
		if err := db.checkKept(hashReader{tx.Bucket(bucketHashes)}, size, v, size == n); err != nil {
			return err
		}
		latest = latest || size == n
		res.Checkpoints++
		return nil
	})
	if err != nil {
		return res, err
	}
	// Every append signs a checkpoint of the tree it leaves: without one of
	// the current size, a rewrite could hide by removing them.
	if !latest && n > 0 {
		return res, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
			"No signed checkpoint of the ledger's %d entries is kept, yet every append signs one: checkpoints were removed (%v).", n, ErrTampered)}
	}
	if latest {
		if _, kerr := db.loadKeys(false); pumpledger.ErrorCode(kerr) == pumpledger.ENOTFOUND {
			res.KeyMissing = true
		} else if kerr != nil {
			return res, kerr // there, but malformed: not "missing"
		}
	}
	return res, nil
}

// verifyChunks checks entries [0, n) in chunks of verifyChunk, each in its
// own short read transaction: the entries against their hashes, then the
// index keys they file, which the views trust, tallied under salt (see
// indexSum) for verifyIndexCounts to compare with what the indexes hold.
// Chunks are independent, so one worker per CPU takes them in turn; the
// error returned is the one of the lowest chunk, naming the first bad entry
// as a sequential walk would. It returns the tallies of all the chunks.
func (db *DB) verifyChunks(n int64, salt *indexSalt) (indexTallies, error) {
	var (
		mu    sync.Mutex
		total indexTallies
		bad   = -1 // the lowest failing chunk
	)
	chunks := chunksOf(n)
	err := parallel(chunks, func(c int) (err error) {
		defer func() {
			if err != nil {
				mu.Lock()
				if bad < 0 || c < bad {
					bad = c
				}
				mu.Unlock()
			}
		}()
		defer guard(db.path, &err)() // per goroutine: a damaged page is an error, not a crash
		start := int64(c) * verifyChunk
		end := min(start+verifyChunk, n)
		return db.bolt.View(func(tx *bolt.Tx) error {
			es, err := verifyEntries(tx, start, end)
			if err != nil {
				return err
			}
			var t indexTallies
			if err := tallyIndexes(tx, newIndexHasher(salt), es, &t); err != nil {
				return err
			}
			mu.Lock()
			total.merge(&t)
			mu.Unlock()
			return nil
		})
	})
	if err != nil {
		// The tallies do not say which entry is not filed under its keys,
		// and a sequential walk would meet that first if it is in an
		// earlier chunk, or earlier in this one: ask the keys one by one.
		if perr := db.verifyIndexesPrecisely(n, bad+1); perr != nil {
			return total, perr
		}
		return total, err
	}
	return total, nil
}

// chunksOf is how many chunks of verifyChunk entries n entries make.
func chunksOf(n int64) int { return int((n + verifyChunk - 1) / verifyChunk) }

// verifyIndexesPrecisely checks the first chunks chunks of entries [0, n)
// as verifyChunks does, but looking each index key up (verifyIndexes):
// slow, but it names the first entry not filed under its keys. The error
// is the one of the lowest chunk.
func (db *DB) verifyIndexesPrecisely(n int64, chunks int) error {
	return parallel(chunks, func(c int) (err error) {
		defer guard(db.path, &err)()
		start := int64(c) * verifyChunk
		end := min(start+verifyChunk, n)
		return db.bolt.View(func(tx *bolt.Tx) error {
			es, err := verifyEntries(tx, start, end)
			if err != nil {
				return err
			}
			return verifyIndexes(tx, es)
		})
	})
}

// verifyEntries checks entries [start, end) against their stored hashes and
// returns what the indexes need of each. Entries are read, not decoded whole:
// a stored entry is evidence by its hash, whatever its form (pumpledger
// writes only canonical bytes; Encode is tested to be a fixed point), and a
// full decode and re-encode was most of Verify's time.
func verifyEntries(tx *bolt.Tx, start, end int64) ([]filed, error) {
	base := tlog.StoredHashIndex(0, start)
	hr := &chunkHashes{hashReader{tx.Bucket(bucketHashes)}, base, make([]tlog.Hash, 0, tlog.StoredHashIndex(0, end)-base)}
	out := make([]filed, 0, end-start)
	// Entries and their stored hashes are both in key order: read them
	// with cursors, not a tree search each.
	ec, hc := tx.Bucket(bucketEntries).Cursor(), hr.b.Cursor()
	k, data := ec.Seek(u64(uint64(start)))
	hk, hv := hc.Seek(u64(uint64(base)))
	for i := start; i < end; i++ {
		if k == nil || !bytes.Equal(k, u64(uint64(i))) {
			return nil, tampered(i, "is missing")
		}
		f, err := filedOf(data)
		if err != nil {
			return nil, tampered(i, "cannot be read (%v)", err)
		}
		if f.Seq != i {
			return nil, tampered(i, "claims to be entry %d", f.Seq)
		}
		want, err := tlog.StoredHashes(i, data, hr)
		if err != nil {
			return nil, tampered(i, "has a tree hash missing (%v)", err)
		}
		base := tlog.StoredHashIndex(0, i)
		for j := range want {
			if hk == nil || !bytes.Equal(hk, u64(uint64(base+int64(j)))) {
				return nil, tampered(i, "has a tree hash missing (stored hash %d)", base+int64(j))
			}
			if !bytes.Equal(hv, want[j][:]) {
				return nil, tampered(i, "does not match its tree hash")
			}
			hr.seen = append(hr.seen, want[j])
			hk, hv = hc.Next()
		}
		out = append(out, f)
		k, data = ec.Next()
	}
	return out, nil
}

// chunkHashes reads the stored hashes verifyEntries needs, those its cursor
// has passed from memory: an entry's tree hashes are built on the stored
// hashes just before its own, which a chunk (aligned on a power of two)
// has already read and checked from base on.
type chunkHashes struct {
	hashReader
	base int64       // the stored hash index of the chunk's first entry
	seen []tlog.Hash // stored hashes base, base+1, ..., as checked
}

func (r *chunkHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	for _, x := range indexes {
		if x < r.base || x-r.base >= int64(len(r.seen)) {
			return r.hashReader.ReadHashes(indexes)
		}
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = r.seen[x-r.base]
	}
	return out, nil
}

// checkKept checks one kept checkpoint note: its text names this ledger and
// the size it is kept under, and its root is the tree's at that size. With
// signed, its signature is checked too (when the key file is at hand).
func (db *DB) checkKept(hr hashReader, size int64, msg []byte, signed bool) error {
	bad := func(format string, args ...any) error {
		return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
			"The checkpoint kept at %d entries %s (%v).", size, fmt.Sprintf(format, args...), ErrTampered)}
	}
	var t Tree
	if _, kerr := db.loadKeys(false); signed && kerr == nil {
		var err error
		if t, err = db.openCheckpoint(msg); err != nil {
			return bad("does not verify: %s", strings.TrimSuffix(pumpledger.ErrorMessage(err), "."))
		}
	} else {
		i := bytes.Index(msg, []byte("\n\n"))
		if i < 0 {
			return bad("is not a signed note")
		}
		origin, tree, err := parseCheckpointText(string(msg[:i+1]))
		if err != nil || origin != db.id {
			return bad("is malformed or of another ledger")
		}
		t = tree
	}
	if t.N != size {
		return bad("is of %d entries", t.N)
	}
	root, err := tlog.TreeHash(t.N, hr)
	if err != nil {
		return err
	}
	if root != t.Hash {
		return bad("does not match the entries before it: an entry and its hashes were rewritten")
	}
	return nil
}

func tampered(seq int64, format string, args ...any) error {
	return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered,
		Message: fmt.Sprintf("Entry %d %s: %v.", seq, fmt.Sprintf(format, args...), ErrTampered)}
}

// Backup writes a consistent copy of the ledger file to w while the ledger
// stays open for appends (a bbolt read transaction), and returns its size.
// The copy verifies on its own with the same key file.
func (db *DB) Backup(w io.Writer) (_ int64, err error) {
	defer guard(db.path, &err)()
	var n int64
	err = db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// newerKind words an entry of a kind this release does not know: written by
// a newer pumpledger when the ledger's signed checkpoint of its n entries
// holds (the entry's bytes were checked against their hashes already), else
// a forgery, as any other entry that does not fit.
func (db *DB) newerKind(n int64, cause error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		msg := tx.Bucket(bucketCheckpoints).Get(u64(uint64(n)))
		if msg == nil {
			return indexBroken("", fmt.Sprintf("%v, and no signed checkpoint covers it", cause))
		}
		if err := db.checkKept(hashReader{tx.Bucket(bucketHashes)}, n, msg, true); err != nil {
			return err
		}
		return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrNewerKind, Message: fmt.Sprintf(
			"The ledger %s holds %s; its signed checkpoint covers it, so it is not damaged. Use the pumpledger release that wrote it.", db.path, strings.TrimSuffix(cause.Error(), "."))}
	})
}
