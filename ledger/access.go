package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/pumpledger/pumpledger"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The access log: who viewed which patient's data, when, from where
// (HIPAA §164.312(b), audit controls). It is kept apart from the ledger, in
// LEDGER.access (0600): a view is not a clinical record, must not grow the
// ledger nor take its write lock, and the file is opened for each
// operation so the command line reads it while serve runs. It is
// tamper-evident as the ledger is: each record is a leaf of its own RFC
// 6962 tree (tlog), and each append signs a checkpoint of the tree with the
// ledger's key, under the origin "LEDGER-ID/access", so a checkpoint of
// the one is never taken for the other's.

var (
	bucketAccess      = []byte("access")
	bucketAccessHash  = []byte("access_hashes")
	bucketAccessCheck = []byte("access_checkpoints")
)

// Access is one view of a patient's data.
type Access struct {
	Seq  int64     `json:"seq"`
	At   time.Time `json:"at"`
	User string    `json:"user"`
	Role string    `json:"role"`
	MRN  string    `json:"mrn"`
	What string    `json:"what"` // the page or the API route: "chart", "history"
	From string    `json:"from"` // the client's address
}

// AccessLog is the access log of a ledger. Its methods are safe for
// concurrent use; another process is kept out by the file's lock.
//
// Appends at once share one commit (a group commit): each queues its
// records and waits; whoever takes the turn commits everything queued (up
// to maxAccessGroup records) in one transaction, one synced commit and one
// signed checkpoint, and hands each waiter its records or the commit's
// error. An append returns only once the commit holding its records has
// synced, or failed for all of them. A lone view does not wait for company:
// the turn is free, so it commits at once; views arriving during a commit
// are the next commit's group. bbolt's DB.Batch does the same for the
// ledger but does not fit here: it needs the file kept open (this log
// opens it per operation so the command line reads it while serve runs),
// it waits up to MaxBatchDelay for company, which a lone view would pay,
// and it reruns a failing group's functions one by one, each signing.
type AccessLog struct {
	db   *DB
	path string

	turn  chan struct{} // capacity 1: held while committing
	mu    sync.Mutex    // guards queue
	queue []*pendingAccess

	// Serial commits each append alone, one after another, as before group
	// commit: only for the benchmark that compares the two.
	Serial bool
}

// pendingAccess is one append waiting for its commit.
type pendingAccess struct {
	recs []Access
	out  []Access
	err  error
	done chan struct{} // closed once out or err is set
}

// maxAccessGroup bounds one commit's records (a larger AppendAll still
// goes, alone).
const maxAccessGroup = 1000

// accessCommitHook, when set (tests), runs inside each commit's
// transaction after its records are put and before the checkpoint is
// signed: an error fails the commit there.
var accessCommitHook func(records int) error

// AccessPath is the access log file of the ledger at ledgerPath.
func AccessPath(ledgerPath string) string { return ledgerPath + ".access" }

// AccessLog is the ledger's access log (its file made at the first
// append). Appends are grouped, and kept from committing at once, within
// one AccessLog: a process that appends (the server) keeps one.
func (db *DB) AccessLog() *AccessLog {
	return &AccessLog{db: db, path: AccessPath(db.path), turn: make(chan struct{}, 1)}
}

func (db *DB) accessOrigin() string { return db.id + "/access" }

// open opens the log's file; a missing one is made only to write.
func (a *AccessLog) open(write bool) (*bolt.DB, error) {
	if !write {
		if _, err := os.Stat(a.path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	b, err := bolt.Open(a.path, 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: !write})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &pumpledger.Error{Code: pumpledger.ECONFLICT, Err: ErrLocked,
			Message: fmt.Sprintf("The access log %s is in use by another pumpledger process; try again. (%v)", a.path, ErrLocked)}
	} else if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "open the access log %s: %v", a.path, err)
	}
	return b, nil
}

// Append records one view, signed into the log's tree, and returns it as
// kept (its Seq and At set). Before it builds on the log it checks the
// log's head, as the ledger's is checked before writing: a log edited at
// its end or re-signed is not extended.
func (a *AccessLog) Append(rec Access) (Access, error) {
	out, err := a.AppendAll([]Access{rec})
	if err != nil {
		return Access{}, err
	}
	return out[0], nil
}

// AppendAll records the views of one page of many patients (one record
// each) in one transaction, one synced commit and one signed checkpoint
// (shared with the appends waiting at the same time): all are kept, or
// none. The records of one call are consecutive in the log.
func (a *AccessLog) AppendAll(recs []Access) ([]Access, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if a.Serial {
		a.turn <- struct{}{}
		defer func() { <-a.turn }()
		return a.commit(recs)
	}
	p := &pendingAccess{recs: recs, done: make(chan struct{})}
	a.mu.Lock()
	a.queue = append(a.queue, p)
	a.mu.Unlock()
	for {
		select {
		case <-p.done:
			return p.out, p.err
		case a.turn <- struct{}{}:
		}
		select {
		case <-p.done: // committed while it waited for the turn
			<-a.turn
			return p.out, p.err
		default:
		}
		a.commitQueued()
	}
}

// commitQueued commits the appends queued, oldest first, as one group, and
// gives back the turn the caller took. Every waiter of the group is
// answered even if the commit panics, and the turn is given back: else
// they, and every view after them, would wait for ever.
func (a *AccessLog) commitQueued() {
	defer func() { <-a.turn }()
	a.mu.Lock()
	n, total := 0, 0
	for n < len(a.queue) && (n == 0 || total+len(a.queue[n].recs) <= maxAccessGroup) {
		total += len(a.queue[n].recs)
		n++
	}
	group := a.queue[:n:n]
	if a.queue = a.queue[n:]; len(a.queue) == 0 {
		a.queue = nil
	}
	a.mu.Unlock()
	if len(group) == 0 {
		return
	}
	recs := make([]Access, 0, total)
	for _, p := range group {
		recs = append(recs, p.recs...)
	}
	answered := false
	defer func() {
		if !answered {
			for _, p := range group {
				p.err = pumpledger.Errorf(pumpledger.EINTERNAL, "append to the access log %s: the commit failed", a.path)
				close(p.done)
			}
		}
	}()
	out, err := a.commit(recs)
	answered = true
	for _, p := range group {
		if err == nil {
			p.out, out = out[:len(p.recs):len(p.recs)], out[len(p.recs):]
		}
		p.err = err
		close(p.done)
	}
}

// commit appends recs in one transaction, checking the log's head first.
func (a *AccessLog) commit(recs []Access) (_ []Access, err error) {
	defer guard(a.path, &err)()
	k, err := a.db.signingKey()
	if err != nil {
		return nil, err
	}
	b, err := a.open(true)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	out := make([]Access, len(recs))
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAccess, bucketAccessHash, bucketAccessCheck} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		bucket, hashes := tx.Bucket(bucketAccess), tx.Bucket(bucketAccessHash)
		n := int64(bucket.Sequence())
		if err := a.checkHead(tx, n, k.verifier); err != nil {
			return err
		}
		at := a.db.now().UTC()
		for i, rec := range recs {
			rec.Seq, rec.At = n, at
			if err := putLeaf(bucket, hashes, n, canonical(rec)); err != nil {
				return err
			}
			out[i] = rec
			n++
		}
		if accessCommitHook != nil {
			if err := accessCommitHook(len(recs)); err != nil {
				return err
			}
		}
		root, err := tlog.TreeHash(n, hashReader{hashes})
		if err != nil {
			return err
		}
		msg, err := note.Sign(&note.Note{Text: checkpointText(a.db.accessOrigin(), Tree{N: n, Hash: root})}, k.signer)
		if err != nil {
			return fmt.Errorf("sign the access log's checkpoint: %w", err)
		}
		return tx.Bucket(bucketAccessCheck).Put(u64(uint64(n)), msg)
	})
	if err != nil {
		var pe *pumpledger.Error
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "append to the access log %s: %v", a.path, err)
	}
	return out, nil
}

// putLeaf stores record n's bytes and the tree hashes it adds.
func putLeaf(recs, hashes *bolt.Bucket, n int64, data []byte) error {
	hs, err := tlog.StoredHashes(n, data, hashReader{hashes})
	if err != nil {
		return err
	}
	base := tlog.StoredHashIndex(0, n)
	for i, h := range hs {
		if err := hashes.Put(u64(uint64(base+int64(i))), bytes.Clone(h[:])); err != nil {
			return err
		}
	}
	if err := recs.SetSequence(uint64(n + 1)); err != nil {
		return err
	}
	return recs.Put(u64(uint64(n)), data)
}

// checkHead: the latest checkpoint is of the log's n records, verifies with
// the ledger's key, and its root is the stored hashes' and its last leaf
// the last record's.
func (a *AccessLog) checkHead(tx *bolt.Tx, n int64, v note.Verifier) error {
	bad := func(why string) error {
		return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
			"The access log %s fails its check (%s), so the view was not logged; run `pumpledger access verify` and restore the log from your backup.", a.path, why)}
	}
	k, msg := tx.Bucket(bucketAccessCheck).Cursor().Last()
	if k == nil {
		if n == 0 {
			return nil
		}
		return bad("no signed checkpoint is kept")
	}
	t, err := a.openNote(msg, v)
	if err != nil || t.N != n || int64(binary.BigEndian.Uint64(k)) != n {
		return bad("its latest checkpoint is not of its records")
	}
	hr := hashReader{tx.Bucket(bucketAccessHash)}
	if root, err := tlog.TreeHash(n, hr); err != nil || root != t.Hash {
		return bad("its hashes do not give the signed root")
	}
	leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, n-1)})
	if err != nil || tlog.RecordHash(tx.Bucket(bucketAccess).Get(u64(uint64(n-1)))) != leaf[0] {
		return bad("its last record does not match its hash")
	}
	return nil
}

func (a *AccessLog) openNote(msg []byte, v note.Verifier) (Tree, error) {
	signed, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Tree{}, err
	}
	origin, t, err := parseCheckpointText(signed.Text)
	if err != nil {
		return Tree{}, err
	}
	if origin != a.db.accessOrigin() {
		return Tree{}, fmt.Errorf("the checkpoint is of %q, not this access log", origin)
	}
	return t, nil
}

// List is the log's records, oldest first: all, or those of mrn.
func (a *AccessLog) List(mrn string) (out []Access, err error) {
	defer guard(a.path, &err)()
	b, err := a.open(false)
	if err != nil || b == nil {
		return nil, err
	}
	defer b.Close()
	err = b.View(func(tx *bolt.Tx) error {
		recs := tx.Bucket(bucketAccess)
		if recs == nil {
			return nil
		}
		return recs.ForEach(func(k, v []byte) error {
			var r Access
			if err := json.Unmarshal(v, &r); err != nil {
				return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
					"Access record %d is not one pumpledger wrote; run `pumpledger access verify`.", binary.BigEndian.Uint64(k))}
			}
			if mrn == "" || r.MRN == mrn {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

// AccessVerified is what VerifyAccess found.
type AccessVerified struct {
	Records     int64
	Checkpoints int
	Tree        Tree
	Note        []byte // the latest signed checkpoint, nil for an empty log
}

// memHashes reads hashes recomputed in memory.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d not computed", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// Verify recomputes the log's tree from its records and checks it against
// every stored hash and every kept checkpoint, each signature with the
// ledger's public key, and that the latest is of all the records: a record
// edited, deleted or inserted, or a checkpoint forged, is found.
func (a *AccessLog) Verify() (res AccessVerified, err error) {
	defer guard(a.path, &err)()
	pub, err := a.db.publicKey()
	if err != nil {
		return res, err
	}
	b, err := a.open(false)
	if err != nil || b == nil {
		return res, err
	}
	defer b.Close()
	bad := func(format string, args ...any) error {
		return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
			"The access log %s was altered: %s (%v).", a.path, fmt.Sprintf(format, args...), ErrTampered)}
	}
	err = b.View(func(tx *bolt.Tx) error {
		recs, hashes, checks := tx.Bucket(bucketAccess), tx.Bucket(bucketAccessHash), tx.Bucket(bucketAccessCheck)
		if recs == nil || hashes == nil || checks == nil {
			if recs == nil && hashes == nil && checks == nil {
				return nil
			}
			return bad("a part of it is missing")
		}
		n := int64(recs.Sequence())
		var mem memHashes
		c := recs.Cursor()
		i := int64(0)
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if int64(binary.BigEndian.Uint64(k)) != i {
				return bad("record %d is missing", i)
			}
			var r Access
			if json.Unmarshal(v, &r) != nil || r.Seq != i {
				return bad("record %d is not one pumpledger wrote", i)
			}
			hs, err := tlog.StoredHashes(i, v, mem)
			if err != nil {
				return err
			}
			mem = append(mem, hs...)
			i++
		}
		if i != n {
			return bad("it counts %d records but holds %d", n, i)
		}
		if got := int64(hashes.Stats().KeyN); got != int64(len(mem)) {
			return bad("it holds %d tree hashes, not the %d of its records", got, len(mem))
		}
		for x, h := range mem {
			if !bytes.Equal(hashes.Get(u64(uint64(x))), h[:]) {
				return bad("a record or its tree hash %d was changed", x)
			}
		}
		cc := checks.Cursor()
		last := int64(0)
		for k, v := cc.First(); k != nil; k, v = cc.Next() {
			size := int64(binary.BigEndian.Uint64(k))
			t, err := a.openNote(v, pub.verifier)
			if err != nil {
				return bad("the checkpoint kept at %d records does not verify with %s: %v", size, a.db.pubPath, err)
			}
			if t.N != size || size > n {
				return bad("the checkpoint kept at %d records is of %d", size, t.N)
			}
			root, err := tlog.TreeHash(size, mem)
			if err != nil {
				return err
			}
			if root != t.Hash {
				return bad("the records before the checkpoint at %d were rewritten", size)
			}
			res.Checkpoints++
			last, res.Note = size, bytes.Clone(v)
		}
		if last != n {
			return bad("its latest signed checkpoint is of %d records, not its %d", last, n)
		}
		res.Records = n
		if res.Tree.Hash, err = tlog.TreeHash(n, mem); err != nil {
			return err
		}
		res.Tree.N = n
		return nil
	})
	return res, err
}

// Consistent proves that the log now extends the tree of an older signed
// checkpoint of it (a tlog consistency proof over the recomputed hashes):
// no record before it was changed or removed, the newest ones included.
func (a *AccessLog) Consistent(old []byte) (err error) {
	defer guard(a.path, &err)()
	pub, err := a.db.publicKey()
	if err != nil {
		return err
	}
	ot, err := a.openNote(old, pub.verifier)
	if err != nil {
		return pumpledger.Errorf(pumpledger.EINVALID, "The checkpoint is not one of this access log signed with %s (%v).", a.db.pubPath, err)
	}
	res, err := a.Verify()
	if err != nil {
		return err
	}
	if ot.N > res.Records {
		return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
			"The access log %s holds %d records but the checkpoint is of %d: records were removed (%v).", a.path, res.Records, ot.N, ErrTampered)}
	}
	b, err := a.open(false)
	if err != nil || b == nil {
		return err
	}
	defer b.Close()
	return b.View(func(tx *bolt.Tx) error {
		hr := hashReader{tx.Bucket(bucketAccessHash)}
		proof, err := tlog.ProveTree(res.Records, ot.N, hr)
		if err != nil {
			return err
		}
		if tlog.CheckTree(proof, res.Records, res.Tree.Hash, ot.N, ot.Hash) != nil {
			return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
				"The access log %s is NOT consistent with the checkpoint of %d records: a record before it was changed (%v).", a.path, ot.N, ErrTampered)}
		}
		return nil
	})
}
