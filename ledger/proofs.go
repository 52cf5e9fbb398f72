package ledger

import (
	"bytes"
	bolt "go.etcd.io/bbolt"

	"github.com/pumpledger/pumpledger"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifierKey is the ledger's public verifier key (LEDGER.pub): all that
// checks its checkpoints, so all an auditor is given.
func (db *DB) VerifierKey() (string, error) {
	k, err := db.publicKey()
	if err != nil {
		return "", err
	}
	return k.vkey, nil
}

// Checkpoint is the kept signed checkpoint of the tree the transaction
// sees (every append signs one), its signature checked with LEDGER.pub and
// its root with the stored hashes: the one checkpoint a set of proofs read
// in the same transaction is against. It needs no private key.
func (t *Tx) Checkpoint() (Checkpoint, error) {
	pub, err := t.db.publicKey()
	if err != nil {
		return Checkpoint{}, err
	}
	tree, err := treeAt(t.b)
	if err != nil {
		return Checkpoint{}, err
	}
	msg := t.b.Bucket(bucketCheckpoints).Get(u64(uint64(tree.N)))
	if msg == nil {
		return Checkpoint{}, pumpledger.Errorf(pumpledger.ENOTFOUND, "No signed checkpoint of the ledger's %d entries is kept; run checkpoint where the signing key is to sign one.", tree.N)
	}
	if err := t.db.checkKept(hashReader{t.b.Bucket(bucketHashes)}, tree.N, msg, true); err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Tree: tree, Note: bytes.Clone(msg), Verifier: pub.vkey}, nil
}

// ProveRecord is the inclusion proof of entry seq in the tree of the
// transaction's size (tlog's order: the leaf's sibling first).
func (t *Tx) ProveRecord(seq int64) (tlog.RecordProof, error) {
	return tlog.ProveRecord(size(t.b), seq, hashReader{t.b.Bucket(bucketHashes)})
}

// ID is the ledger's id: its checkpoints' origin and its key's name.
func (db *DB) ID() string { return db.id }

// Growth is the proof that the ledger grew from an older checkpoint's tree
// to the current one, signed: what `checkpoint --since` prints. It proves
// the tree, not the entries (verify recomputes those).
type Growth struct {
	Old   Tree
	New   Checkpoint
	Proof tlog.TreeProof // tlog's order (RFC 6962 §2.1.2's)
}

// Growth checks an older signed checkpoint (with LEDGER.pub) against the
// current tree and returns the consistency proof and the kept checkpoint
// of the current tree, read in one transaction. Like Consistent, it
// reads the stored hashes, not the entries.
func (db *DB) Growth(old []byte) (g Growth, err error) {
	if _, err := db.Consistent(old); err != nil {
		return Growth{}, err // its refusals, worded once
	}
	if g.Old, err = db.openCheckpoint(old); err != nil {
		return Growth{}, err
	}
	defer guard(db.path, &err)()
	err = db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		if g.New, err = (&Tx{b: tx, db: db}).Checkpoint(); err != nil {
			return err
		}
		if g.Proof, err = tlog.ProveTree(g.New.Tree.N, g.Old.N, hashReader{tx.Bucket(bucketHashes)}); err != nil {
			return err
		}
		return tlog.CheckTree(g.Proof, g.New.Tree.N, g.New.Tree.Hash, g.Old.N, g.Old.Hash)
	})
	return g, err
}
