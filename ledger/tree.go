package ledger

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/parallel"
	"github.com/pumpledger/pumpledger/internal/safefile"
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

// maxKeyBytes bounds a key file: a note key is under 200 bytes. A larger
// file (a link to /dev/zero) is refused, not read.
const maxKeyBytes = 4096

// Key files: LEDGER.key holds the note private key on line 1 and the public
// verifier key on line 2; LEDGER.pub holds the public key alone, all that
// verify and checkpoint --since need. Only Create writes a private key: a
// ledger whose key is missing refuses to sign, it never mints another (a
// new key would make the untouched entries fail verify, or make a rewrite
// pass it).

// publicKey is the ledger's verifier, from LEDGER.pub, read once.
func (db *DB) publicKey() (*keys, error) {
	db.keysMu.Lock()
	defer db.keysMu.Unlock()
	return db.publicKeyLocked()
}

func (db *DB) publicKeyLocked() (*keys, error) {
	if db.pub != nil {
		return db.pub, nil
	}
	b, err := safefile.ReadFile(db.pubPath, maxKeyBytes)
	if errors.Is(err, fs.ErrNotExist) {
		// A ledger made before `init` wrote LEDGER.pub has only its key
		// file, whose second line is the same public key. Writing it out
		// (it is public) lets the ledger be verified from now on with the
		// .pub alone, as one made by init is.
		// Writing it is a courtesy: where it cannot be written (a read-only
		// copy), the key derived is used all the same.
		if b, err = db.derivePub(); err == nil {
			werr := safefile.WriteNew(db.pubPath, 0o644, func(f *os.File) error { _, err := f.Write(b); return err })
			if errors.Is(werr, fs.ErrExist) { // written meanwhile: read that one
				b, err = safefile.ReadFile(db.pubPath, maxKeyBytes)
			}
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "No public key at %s, so the ledger's checkpoints cannot be verified; restore it from your backup (init wrote it beside the ledger).", db.pubPath)
	} else if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "Cannot read the public key %s (%v); restore it from your backup.", db.pubPath, err)
	}
	vkey := strings.TrimSpace(string(b))
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The public key %s is malformed (%v); restore it from your backup.", db.pubPath, err)
	}
	if v.Name() != db.id {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The public key %s is of ledger %q, not of this one (%q); restore this ledger's from your backup.", db.pubPath, v.Name(), db.id)
	}
	db.pub = &keys{verifier: v, vkey: vkey}
	return db.pub, nil
}

// derivePub is the public key line of the private key file, for publicKey.
func (db *DB) derivePub() ([]byte, error) {
	b, err := safefile.ReadFile(db.keyPath, maxKeyBytes)
	if err != nil {
		return nil, err
	}
	k, err := parseKeyFile(b)
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The signing key %s is malformed (%v); restore it from your backup.", db.keyPath, err)
	}
	return []byte(k.vkey + "\n"), nil
}

func parseKeyFile(b []byte) (*keys, error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		return nil, errors.New("not two lines")
	}
	s, err := note.NewSigner(lines[0])
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(lines[1])
	if err != nil {
		return nil, err
	}
	return &keys{signer: s, verifier: v, vkey: lines[1]}, nil
}

// signingKey is the ledger's private key, read once and checked against
// LEDGER.pub; the first time, it also checks the ledger (checkHead) before
// anything is signed or appended.
func (db *DB) signingKey() (*keys, error) {
	db.keysMu.Lock() // concurrent first appends check once
	defer db.keysMu.Unlock()
	if db.signer != nil {
		return db.signer, nil
	}
	if err := db.rotationCutShort(); err != nil {
		return nil, err
	}
	pub, err := db.publicKeyLocked()
	if err != nil {
		return nil, err
	}
	b, err := safefile.ReadFile(db.keyPath, maxKeyBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "No signing key at %s, so nothing can be recorded or signed; restore it from your backup (verify needs only %s).", db.keyPath, db.pubPath)
	} else if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "Cannot read the signing key %s (%v); restore it from your backup.", db.keyPath, err)
	}
	k, err := parseKeyFile(b)
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The signing key %s is malformed (%v); restore it from your backup.", db.keyPath, err)
	}
	if k.vkey != pub.vkey {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The signing key %s does not match the public key %s; restore both from your backup.", db.keyPath, db.pubPath)
	}
	if err := db.checkHead(pub.verifier); err != nil {
		return nil, err
	}
	db.signer = k
	return db.signer, nil
}

// checkHead is the check made before a process first appends to (or signs)
// the ledger. verify at a million entries takes seconds, too long for every
// append; this takes a few reads and one signature check at any size:
//
//   - bbolt's two meta pages are whole (their checksums);
//   - the latest kept checkpoint is of the ledger's current size (every
//     append signs one), verifies with LEDGER.pub and names this ledger;
//   - its root equals the tree hash rebuilt from the stored hashes;
//   - the last entry's leaf hash is the stored one.
//
// So it catches: checkpoints removed, forged or re-signed with another key;
// entries appended or removed at the end outside pumpledger; the last entry
// rewritten; any stored hash on the tree's right edge changed (which a
// rewrite of any entry must do to hide from the signed root); a damaged
// meta page. Only verify catches: an earlier entry rewritten with its hash
// chain left as it was (its leaf no longer hashes to the stored hash),
// stored hashes below the right edge, the derived indexes, older
// checkpoints, and damage to pages other than the meta pages.
func (db *DB) checkHead(v note.Verifier) (err error) {
	defer guard(db.path, &err)()
	if err := db.checkMeta(); err != nil {
		return err
	}
	return db.bolt.View(func(tx *bolt.Tx) error {
		bad := func(format string, args ...any) error {
			return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
				"The ledger %s fails the check made before writing (%s), so nothing was recorded; run `pumpledger verify --db %s` and restore the ledger from your backup.",
				db.path, fmt.Sprintf(format, args...), db.path)}
		}
		n := size(tx)
		if k, _ := tx.Bucket(bucketEntries).Cursor().Last(); k != nil && int64(binary.BigEndian.Uint64(k)) != n-1 {
			return bad("its last entry is numbered %d but it holds %d", binary.BigEndian.Uint64(k)+1, n)
		} else if k == nil && n > 0 {
			return bad("it holds no entries but counts %d", n)
		}
		k, msg := tx.Bucket(bucketCheckpoints).Cursor().Last()
		if k == nil {
			if n == 0 {
				return nil
			}
			return bad("no signed checkpoint is kept")
		}
		if kn := int64(binary.BigEndian.Uint64(k)); kn != n {
			return bad("its latest signed checkpoint is of %d entries, not its %d", kn, n)
		}
		signed, err := note.Open(msg, note.VerifierList(v))
		if err != nil {
			return bad("its latest checkpoint does not verify with %s: %v", db.pubPath, err)
		}
		origin, t, err := parseCheckpointText(signed.Text)
		if err != nil || origin != db.id || t.N != n {
			return bad("its latest checkpoint is malformed or of another ledger")
		}
		hr := hashReader{tx.Bucket(bucketHashes)}
		root, err := tlog.TreeHash(n, hr)
		if err != nil {
			return bad("%v", err)
		}
		if root != t.Hash {
			return bad("its stored hashes do not give the root its latest checkpoint signed")
		}
		if n == 0 {
			return nil
		}
		leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, n-1)})
		if err != nil {
			return bad("%v", err)
		}
		if tlog.RecordHash(tx.Bucket(bucketEntries).Get(u64(uint64(n-1)))) != leaf[0] {
			return bad("its last entry does not match its tree hash")
		}
		return nil
	})
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

// Checkpoint signs the current tree, keeps the note in the ledger, and
// returns it; a tree already signed (every append signs the tree it leaves)
// is not signed again. It needs the signing key. On a ledger opened
// read-only it signs nothing: it returns the kept checkpoint of the current
// tree, checked with the public key alone.
func (db *DB) Checkpoint() (_ Checkpoint, err error) {
	defer guard(db.path, &err)()
	if db.bolt.IsReadOnly() {
		return db.keptCheckpoint()
	}
	k, err := db.signingKey()
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

// keptCheckpoint is the kept checkpoint of the current tree, its signature
// and root checked.
func (db *DB) keptCheckpoint() (Checkpoint, error) {
	pub, err := db.publicKey()
	if err != nil {
		return Checkpoint{}, err
	}
	var cp Checkpoint
	err = db.bolt.View(func(tx *bolt.Tx) error {
		t, err := treeAt(tx)
		if err != nil {
			return err
		}
		msg := tx.Bucket(bucketCheckpoints).Get(u64(uint64(t.N)))
		if msg == nil {
			return pumpledger.Errorf(pumpledger.ENOTFOUND, "No signed checkpoint of the ledger's %d entries is kept; run checkpoint where the signing key is to sign one.", t.N)
		}
		if err := db.checkKept(hashReader{tx.Bucket(bucketHashes)}, t.N, msg, true); err != nil {
			return err
		}
		cp = Checkpoint{Tree: t, Note: bytes.Clone(msg), Verifier: pub.vkey}
		return nil
	})
	return cp, err
}

// openCheckpoint verifies a signed note with the ledger's public key and
// parses it.
func (db *DB) openCheckpoint(msg []byte) (Tree, error) {
	k, err := db.publicKey()
	if err != nil {
		return Tree{}, err
	}
	n, err := note.Open(msg, note.VerifierList(k.verifier))
	if err != nil {
		return Tree{}, pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint is not signed by this ledger's key in %s (%v).", db.pubPath, err)
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
	Entry  Entry
	Stored []byte // the entry's stored bytes, exactly: the leaf's
	Leaf   tlog.Hash
	Tree   Tree
	Proof  tlog.RecordProof
	// Checkpoint is the signed checkpoint of Tree, from ProveSigned.
	Checkpoint Checkpoint
}

// Prove returns the inclusion proof of the entry with the given id in the
// current tree, checked before it is returned.
func (db *DB) Prove(id string) (Inclusion, error) { return db.prove(id, false) }

// ProveSigned is Prove with the signed checkpoint of the tree the proof is
// in (checked with LEDGER.pub): all a reader needs, with the public key, to
// check the entry.
func (db *DB) ProveSigned(id string) (Inclusion, error) { return db.prove(id, true) }

func (db *DB) prove(id string, signed bool) (_ Inclusion, err error) {
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
		if signed {
			if inc.Checkpoint, err = (&Tx{b: tx, db: db}).Checkpoint(); err != nil {
				return err
			}
		}
		inc.Stored = bytes.Clone(tx.Bucket(bucketEntries).Get(u64(uint64(e.Seq))))
		inc.Entry, inc.Leaf = e, tlog.RecordHash(inc.Stored)
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
	// their size; the one of the current size was also signature-checked,
	// with LEDGER.pub: without it, Verify fails.
	Checkpoints int
	// Documents is how many stored documents were checked: each hashes to
	// its key and is cited by an entry that describes it.
	Documents int
	// Rotations are the key entries, in order, their chain checked: the
	// first's OldKey is the key the ledger was created with.
	Rotations []Rotation
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
	want, cites, err := db.verifyChunks(n, salt)
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
	// The entries, now proven, say which documents must be stored, and
	// which keys signed in turn.
	if res.Rotations, err = db.verifyRotations(n); err != nil {
		return res, err
	}
	res.Documents, err = db.verifyDocuments(n, cites)
	return res, err
}

// verifyChunks checks entries [0, n) in chunks of verifyChunk, each in its
// own short read transaction: the entries against their hashes, then the
// index keys they file, which the views trust, tallied under salt (see
// indexSum) for verifyIndexCounts to compare with what the indexes hold.
// Chunks are independent, so one worker per CPU takes them in turn; the
// error returned is the one of the lowest chunk, naming the first bad entry
// as a sequential walk would. It returns the tallies of all the chunks,
// and the documents their entries cite.
func (db *DB) verifyChunks(n int64, salt *indexSalt) (indexTallies, []citation, error) {
	var (
		mu    sync.Mutex
		total indexTallies
		cites []citation
		bad   = -1 // the lowest failing chunk
	)
	chunks := chunksOf(n)
	err := parallel.Run(chunks, func(c int) (err error) {
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
			cs, err := citations(tx, es)
			if err != nil {
				return err
			}
			mu.Lock()
			total.merge(&t)
			cites = append(cites, cs...)
			mu.Unlock()
			return nil
		})
	})
	if err != nil {
		// The tallies do not say which entry is not filed under its keys,
		// and a sequential walk would meet that first if it is in an
		// earlier chunk, or earlier in this one: ask the keys one by one.
		if perr := db.verifyIndexesPrecisely(n, bad+1); perr != nil {
			return total, nil, perr
		}
		return total, nil, err
	}
	return total, cites, nil
}

// chunksOf is how many chunks of verifyChunk entries n entries make.
func chunksOf(n int64) int { return int((n + verifyChunk - 1) / verifyChunk) }

// verifyIndexesPrecisely checks the first chunks chunks of entries [0, n)
// as verifyChunks does, but looking each index key up (verifyIndexes):
// slow, but it names the first entry not filed under its keys. The error
// is the one of the lowest chunk.
func (db *DB) verifyIndexesPrecisely(n int64, chunks int) error {
	return parallel.Run(chunks, func(c int) (err error) {
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
// signed, its signature is checked too, with LEDGER.pub.
func (db *DB) checkKept(hr hashReader, size int64, msg []byte, signed bool) error {
	bad := func(format string, args ...any) error {
		return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
			"The checkpoint kept at %d entries %s (%v).", size, fmt.Sprintf(format, args...), ErrTampered)}
	}
	var t Tree
	if signed {
		if _, err := db.publicKey(); err != nil {
			return err // missing or not this ledger's: say that, not "tampered"
		}
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
// The copy verifies on its own with the same LEDGER.pub.
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

// BackupFile writes the copy Backup makes to a new file at path (0600),
// whole or not at all: aside, synced, then linked into place. A backup that
// fails or is killed never leaves a truncated copy at path to be mistaken
// for a good one; an existing file at path is refused, never replaced.
func (db *DB) BackupFile(path string) (int64, error) {
	if _, err := os.Lstat(path); err == nil {
		return 0, pumpledger.Invalid("out", "The backup file %s exists; choose a new file.", path)
	}
	var n int64
	err := safefile.WriteNew(path, 0o600, func(f *os.File) error {
		var w io.Writer = f
		if backupPause != nil {
			w = &pausing{w: f}
		}
		var err error
		n, err = db.Backup(w)
		return err
	})
	if errors.Is(err, fs.ErrExist) {
		return 0, pumpledger.Invalid("out", "The backup file %s exists; choose a new file.", path)
	} else if err != nil {
		return 0, pumpledger.Errorf(pumpledger.EINTERNAL, "Could not write the backup %s (%v); nothing was written there.", path, err)
	}
	return n, nil
}

// backupPause, set only by tests, runs after a backup's first write: a
// test kills the process there, midway.
var backupPause func()

type pausing struct {
	w      io.Writer
	paused bool
}

func (p *pausing) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if !p.paused {
		p.paused = true
		backupPause()
	}
	return n, err
}
