// Package ledger is the append-only store of pumpledger: every patient,
// pump, refill, reprogramming and correction is an entry in one bbolt file,
// never updated or deleted, and every figure is derived from the entries.
//
// Each entry is also a leaf of a tamper-evident Merkle tree kept with
// golang.org/x/mod/sumdb/tlog (RFC 6962), its hashes stored in the same
// transaction as the entry; signed checkpoints (golang.org/x/mod/sumdb/note,
// Ed25519) of the tree let an auditor prove later that the ledger only grew.
//
// Layout (buckets):
//
//	meta         schema version, ledger id, witnesses (the setting: URL and size a line)
//	entries      seq (8-byte big-endian, = tlog record index) → canonical entry
//	hashes       tlog stored-hash index (8-byte BE) → 32-byte hash
//	checkpoints  tree size (8-byte BE) → signed note, with any witness's
//	             cosignature lines after the ledger's signature (witness.go)
//	ids          entry UUID → seq                  (idempotency)
//	by_patient   MRN 0x00 seq → ""                 (derived index)
//	by_pump      serial 0x00 seq → ""              (derived index)
//	by_date      date of service 0x00 seq → ""     (derived index)
//	voided       voided seq → seq of the correction (derived index)
//	by_kind      kind 0x00 seq → ""                (derived index; catalog adoptions, key rotations)
//	attachments  hex SHA-256 (64 lower-case ASCII hex digits) → a document's bytes
//	             (made by the first document stored; absent until then)
//
// Only entries, hashes and checkpoints are evidence; the indexes are
// derived from the entries (index.go), written in the same transaction, and
// recomputed by Verify. A document is evidence through the entry citing it:
// the entry's payload holds {"sha256", "media_type", "size", "name"} (the
// "document" of a clinical kind's payload, see pumpledger.AttachmentsOf),
// the tree proves the entry, and the document is stored, in the entry's
// own write, under that sha256. So an auditor checks the documents without
// pumpledger's code: for every key of attachments, sha256 of the value is
// the key, and some entry cites it; for every entry citing one, its key is
// present with a value of the cited size whose first bytes are "%PDF-",
// "\x89PNG\r\n\x1a\n" or "\xff\xd8\xff" as its media_type says. Verify
// checks exactly that (attachment.go).
package ledger

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/safefile"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/mod/sumdb/note"
)

// SchemaVersion is the layout this package writes. Version 2 holds the
// catalog in the ledger (catalogs.go); a version 1 ledger is read only to be
// upgraded (Upgrade), by appending the entry that pins its catalog: nothing
// stored is rewritten.
const SchemaVersion = 2

// schemaV1 is the layout before the catalog was pinned in the ledger.
const schemaV1 = 1

var (
	bucketMeta        = []byte("meta")
	bucketEntries     = []byte("entries")
	bucketHashes      = []byte("hashes")
	bucketCheckpoints = []byte("checkpoints")
	bucketIDs         = []byte("ids")
	bucketByPatient   = []byte("by_patient")
	bucketByPump      = []byte("by_pump")
	bucketByDate      = []byte("by_date")
	bucketVoided      = []byte("voided")
	bucketByKind      = []byte("by_kind")

	allBuckets = [][]byte{bucketMeta, bucketEntries, bucketHashes, bucketCheckpoints, bucketIDs,
		bucketByPatient, bucketByPump, bucketByDate, bucketVoided, bucketByKind}

	keySchema   = []byte("schema")
	keyLedgerID = []byte("ledger_id")
)

// Sentinel errors, each also carrying a pumpledger code.
var (
	// ErrLocked: another process holds the ledger open for writing.
	ErrLocked = errors.New("ledger is locked by another process")
	// ErrSchema: the file was written by another version of pumpledger.
	ErrSchema = errors.New("unknown ledger schema version")
	// ErrDamaged: the file is not a whole bbolt file (cut short, a page
	// overwritten): bbolt cannot read it, or reads it wrong.
	ErrDamaged = errors.New("ledger file is damaged")
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Now is the ledger clock; nil = time.Now. Tests set it.
	Now func() time.Time
	// LockTimeout bounds the wait for another process's lock; 0 = 2 s.
	LockTimeout time.Duration
	// KeyPath is the signing key file; "" = the ledger path + ".key". The
	// public key is always the ledger path + ".pub".
	KeyPath string
	// Batch coalesces appends from concurrent goroutines into shared commits
	// (bolt.DB.Batch). Each append still returns only after its commit. Off,
	// each append is its own transaction, with no batching delay: right for
	// the one-writer command line.
	Batch bool
	// BatchDelay is how long a batch waits for more appends before it
	// commits; 0 = 1 ms. bbolt's own default, 10 ms, costs a lone writer
	// 10 ms an append, far above one fsync.
	BatchDelay time.Duration
	// ReadOnly opens the file without taking the write lock.
	ReadOnly bool
	// NoSync skips fsync; only for benchmarks of the in-memory cost.
	NoSync bool
	// DryRun runs every append's whole transaction (checks, derivation, the
	// re-derivation of later entries) and rolls it back: the result of
	// recording, with nothing written and nothing signed.
	DryRun bool
}

// DB is an open ledger.
type DB struct {
	path    string
	bolt    *bolt.DB
	schema  uint64
	now     func() time.Time
	keyPath string
	pubPath string // the public key: always beside the ledger
	batch   bool
	dryRun  bool
	id      string // ledger id, the checkpoint's origin
	keysMu  sync.Mutex
	signer  *keys     // loaded on first signature, under keysMu
	pub     *keys     // the verifier alone, loaded on first use, under keysMu
	imp     *importer // the open group of an Import, if any
	// committed is the ledger's size as this process last saw it committed:
	// at open, and after each of its own commits. Entries below it never
	// change.
	committed atomic.Int64
}

// Open opens the existing ledger at path; it never creates one (Create
// does, for `pumpledger init`), so a mistyped path is refused, not made a
// second ledger with a key of its own. A symlink is resolved first: the key
// files are found beside the ledger itself, not beside the link. A ledger
// or key file readable by others (made by an older release, or copied) is
// made 0600 again: it holds PHI, or the signing key.
func Open(path string, opt Options) (_ *DB, err error) {
	defer guard(path, &err)()
	given := path
	if path, err = filepath.EvalSymlinks(path); errors.Is(err, fs.ErrNotExist) {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "No ledger at %s; create one with `pumpledger init --db %s`.", given, given)
	} else if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "Cannot open the ledger %s (%v); check the path.", given, err)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.LockTimeout == 0 {
		opt.LockTimeout = 2 * time.Second
	}
	if opt.KeyPath == "" {
		opt.KeyPath = path + ".key"
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "Cannot open the ledger %s (%v); check the path.", given, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "The ledger %s is not a regular file (%v); check the path.", given, fi.Mode().Type())
	}
	privateOnly(path, fi)
	if ki, err := os.Stat(opt.KeyPath); err == nil {
		privateOnly(opt.KeyPath, ki)
	}
	// Every ledger is written whole by Create before it is linked into
	// place: an empty file is one cut short.
	if fi.Size() == 0 {
		return nil, damaged(path, "it is empty")
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.LockTimeout, ReadOnly: opt.ReadOnly, NoSync: opt.NoSync, OpenFile: openNoCreate})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &pumpledger.Error{Code: pumpledger.ECONFLICT, Err: ErrLocked,
			Message: fmt.Sprintf("The ledger %s is in use by another pumpledger process; wait for it to finish and try again. (%v)", path, ErrLocked)}
	} else if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrVersionMismatch) || errors.Is(err, bolterrors.ErrChecksum) || strings.Contains(fmt.Sprint(err), "file size too small") {
		return nil, damaged(path, err.Error())
	} else if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "open ledger %s: %v", path, err)
	}
	// A file shorter than its pages: reading them would fault, writing
	// would build on pages that are gone.
	if err := bdb.View(func(tx *bolt.Tx) error {
		if fi, err := os.Stat(path); err == nil && fi.Size() < tx.Size() {
			return damaged(path, fmt.Sprintf("it is %d bytes long but its pages end at %d: it was cut short", fi.Size(), tx.Size()))
		}
		return nil
	}); err != nil {
		bdb.Close()
		return nil, err
	}
	bdb.MaxBatchDelay = opt.BatchDelay
	if bdb.MaxBatchDelay == 0 {
		bdb.MaxBatchDelay = time.Millisecond
	}
	db := &DB{path: path, bolt: bdb, now: opt.Now, keyPath: opt.KeyPath, pubPath: path + ".pub", batch: opt.Batch, dryRun: opt.DryRun}
	if err := db.init(opt.ReadOnly); err != nil {
		bdb.Close()
		return nil, err
	}
	n, err := db.Size()
	if err != nil {
		bdb.Close()
		return nil, err
	}
	db.committed.Store(n)
	return db, nil
}

// init creates the buckets of a new file and checks the schema of an old one.
func (db *DB) init(readOnly bool) error {
	check := func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		v := meta.Get(keySchema)
		if len(v) != 8 || (binary.BigEndian.Uint64(v) != SchemaVersion && binary.BigEndian.Uint64(v) != schemaV1) {
			return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrSchema, Message: fmt.Sprintf(
				"The ledger %s has schema version %s; this pumpledger reads version %d. Use the pumpledger release that wrote it. (%v)",
				db.path, schemaString(v), SchemaVersion, ErrSchema)}
		}
		db.schema = binary.BigEndian.Uint64(v)
		db.id = string(meta.Get(keyLedgerID))
		return nil
	}
	if readOnly {
		return db.bolt.View(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketMeta) == nil {
				return pumpledger.Errorf(pumpledger.EINVALID, "%s is not a pumpledger ledger (no meta bucket).", db.path)
			}
			return check(tx)
		})
	}
	// An existing ledger with every bucket needs no write: a read
	// transaction checks it, and the file is not touched (a refused command
	// leaves even its bytes as they were).
	ready := false
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return nil
		}
		if err := check(tx); err != nil {
			return err
		}
		ready = true
		for _, b := range allBuckets {
			// A version 1 ledger lacks by_kind until Upgrade makes it.
			ready = ready && (tx.Bucket(b) != nil || db.schema == schemaV1 && bytes.Equal(b, bucketByKind))
		}
		return nil
	}); err != nil || ready {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return pumpledger.Errorf(pumpledger.EINVALID, "%s is a bbolt file but not a pumpledger ledger; give another path.", db.path)
		}
		if err := check(tx); err != nil {
			return err
		}
		return createBuckets(tx)
	})
}

func createBuckets(tx *bolt.Tx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

// openNoCreate is bbolt's file opener without O_CREATE: a ledger removed
// between Open's stat and bbolt's open is not silently made anew.
func openNoCreate(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag&^os.O_CREATE, perm)
}

// privateOnly takes away the group and other permissions of a ledger or key
// file that has them. Best effort: a reader that does not own the file
// cannot, and is not refused for it.
func privateOnly(path string, fi os.FileInfo) {
	if fi.Mode().Perm()&0o077 != 0 {
		_ = os.Chmod(path, fi.Mode().Perm()&0o700)
	}
}

// Create makes a new ledger at path, for `pumpledger init`, and opens it:
// the ledger file (0600), its signing key LEDGER.key (0600) and LEDGER.pub,
// the public key that verifies its checkpoints, all that an auditor needs
// beside the file. It refuses if any of them exists. Each file is written
// aside and linked into place, the ledger last: a failed or killed Create
// leaves no ledger, so never one without its key (a kill after the keys
// are linked leaves them, and the next Create refuses to replace them).
// first builds its first entries (the catalog it derives with), appended
// before Create returns; if they cannot be, no ledger is left.
func Create(path string, opt Options, first func(tx *Tx) ([]Entry, error)) (_ *DB, err error) {
	if opt.ReadOnly {
		return nil, errors.New("ledger: Create opens for writing")
	}
	given := path
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return nil, pumpledger.Invalid("db", "Cannot create the ledger %s: its directory cannot be used (%v); give a path in an existing directory.", given, err)
	}
	path = filepath.Join(dir, filepath.Base(path))
	keyPath := opt.KeyPath
	if keyPath == "" {
		keyPath = path + ".key"
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, pumpledger.Errorf(pumpledger.ECONFLICT, "A ledger already exists at %s; init creates only a new one, so give a new path.", given)
	}
	for _, p := range []string{keyPath, path + ".pub"} {
		if _, err := os.Lstat(p); err == nil {
			return nil, pumpledger.Errorf(pumpledger.ECONFLICT, "The key file %s exists but there is no ledger at %s: it is another ledger's, or an init was cut short; move it away and run init again.", p, given)
		}
	}
	// A Create killed midway left its temporary files, one a private key:
	// no one else writes these names.
	for _, p := range []string{path, keyPath, path + ".pub"} {
		for _, tmp := range safefile.Stale(p) {
			os.Remove(tmp)
		}
	}
	id := "pumpledger/" + uuid.NewString()
	skey, vkey, err := note.GenerateKey(rand.Reader, id)
	if err != nil {
		return nil, fmt.Errorf("generate checkpoint key: %w", err)
	}
	var linked []string
	defer func() {
		if err != nil {
			for _, p := range linked {
				os.Remove(p)
			}
		}
	}()
	for _, f := range []struct {
		path, text string
		perm       os.FileMode
	}{{keyPath, skey + "\n" + vkey + "\n", 0o600}, {path + ".pub", vkey + "\n", 0o644}} {
		if err := safefile.WriteNew(f.path, f.perm, func(w *os.File) error {
			_, err := w.WriteString(f.text)
			return err
		}); err != nil {
			return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "Cannot create %s (%v); nothing was created.", f.path, err)
		}
		linked = append(linked, f.path)
	}
	if err := safefile.WriteNew(path, 0o600, func(f *os.File) error {
		bdb, err := bolt.Open(f.Name(), 0o600, &bolt.Options{Timeout: time.Second, NoSync: opt.NoSync})
		if err != nil {
			return err
		}
		err = bdb.Update(func(tx *bolt.Tx) error {
			if err := createBuckets(tx); err != nil {
				return err
			}
			meta := tx.Bucket(bucketMeta)
			if err := meta.Put(keySchema, u64(SchemaVersion)); err != nil {
				return err
			}
			return meta.Put(keyLedgerID, []byte(id))
		})
		if cerr := bdb.Close(); err == nil {
			err = cerr
		}
		return err
	}); err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "Cannot create the ledger %s (%v); nothing was created.", given, err)
	}
	db, err := Open(path, opt)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	// Its first entries (the catalog it derives with) are the caller's.
	if _, err := db.Write("", "", nil, first, nil); err != nil {
		db.Close()
		os.Remove(path)
		return nil, err
	}
	return db, nil
}

func schemaString(v []byte) string {
	if len(v) == 8 {
		return fmt.Sprint(binary.BigEndian.Uint64(v))
	}
	return fmt.Sprintf("%q", v)
}

// Close closes the ledger.
func (db *DB) Close() error { return db.bolt.Close() }

// Path is the ledger file.
func (db *DB) Path() string { return db.path }

// update runs fn in one durable read-write transaction: through Batch when
// the ledger was opened for concurrent writers, else Update. Either way it
// returns after bbolt has committed (and fsynced) or rolled back. fn may run
// more than once under Batch, so it must only write through tx.
func (db *DB) update(fn func(*bolt.Tx) error) (err error) {
	defer guard(db.path, &err)()
	defer func() { err = diskFull(db.path, err) }()
	if db.imp != nil {
		return db.importUpdate(fn)
	}
	if db.batch {
		return db.bolt.Batch(fn)
	}
	return db.bolt.Update(fn)
}

// updateAlone is update in a transaction of its own, never a batch's.
func (db *DB) updateAlone(fn func(*bolt.Tx) error) (err error) {
	defer guard(db.path, &err)()
	defer func() { err = diskFull(db.path, err) }()
	return db.bolt.Update(fn)
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

// DefaultUser names who records an entry when no one else is named: the
// PUMPLEDGER_USER variable, else the login name.
func DefaultUser() string {
	if u := os.Getenv("PUMPLEDGER_USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// DefaultPath is the ledger path when --db is not given: $PUMPLEDGER_DB, else
// pumpledger.db in the working directory.
func DefaultPath() string {
	if p := os.Getenv("PUMPLEDGER_DB"); p != "" {
		return p
	}
	return filepath.Join(".", "pumpledger.db")
}

// altered is a panic raised deep in a read (voidedBy) that found the file
// altered outside pumpledger, where the callers return no error: guard
// returns err as the operation's.
type altered struct{ err error }

// guard, deferred as `defer guard(path, &err)()`, turns what bbolt does on a
// damaged file into an error a person can act on: a panic raised in bbolt's
// code (an unexpected page type or id), or a fault reading the file's memory
// map past its end, which is made a panic for the call's duration; and an
// altered panic, as its error. Any other panic is ours, and goes on.
func guard(path string, err *error) func() {
	fault := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(fault)
		r := recover()
		if r == nil {
			return
		}
		if a, ok := r.(altered); ok {
			*err = a.err
			return
		}
		if e, ok := r.(interface{ Addr() uintptr }); ok && e.Addr() >= 4096 {
			*err = damaged(path, fmt.Sprintf("reading it faulted at address %#x: %v", e.Addr(), r))
			return
		}
		pc := make([]uintptr, 64)
		frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
		for f, more := frames.Next(); more; f, more = frames.Next() {
			if !strings.HasPrefix(f.Function, "runtime.") {
				if strings.HasPrefix(f.Function, "go.etcd.io/bbolt") {
					*err = damaged(path, fmt.Sprintf("bbolt: %v", r))
					return
				}
				break
			}
		}
		panic(r)
	}
}

func damaged(path, why string) error {
	return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrDamaged, Message: fmt.Sprintf(
		"The ledger file %s is damaged (%s); restore it from a backup and run verify.", path, why)}
}

// diskFull makes a write refused for want of space say so. bbolt rolled the
// transaction back: nothing of it is in the file.
func diskFull(path string, err error) error {
	for _, e := range []syscall.Errno{syscall.ENOSPC, syscall.EFBIG, syscall.EDQUOT} {
		if err != nil && (errors.Is(err, e) || strings.Contains(err.Error(), e.Error())) {
			return &pumpledger.Error{Code: pumpledger.EINTERNAL, Err: err, Message: fmt.Sprintf(
				"Could not write the ledger %s: disk full or file too large (%v); nothing was recorded. Free space and try again.", path, err)}
		}
	}
	return err
}

// checkFile checks what Verify's walk of the buckets does not reach, in a
// transaction no writer runs beside: bbolt's two meta pages (if the newer is
// damaged bbolt silently reads the older, a transaction back) and, with
// bbolt's consistency check, every page and the free list.
func (db *DB) checkFile() error {
	tx, err := db.bolt.Begin(!db.bolt.IsReadOnly())
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := db.checkMeta(); err != nil {
		return err
	}
	var first error
	n := 0
	for err := range tx.Check() { // drained: the check runs on until it closes the channel
		if n++; first == nil {
			first = err
		}
	}
	if first != nil {
		return damaged(db.path, fmt.Sprintf("bbolt's check found %d problem(s), the first: %v", n, first))
	}
	return nil
}

// checkMeta checks bbolt's two meta pages: if the newer is damaged bbolt
// silently reads the older, a transaction back.
func (db *DB) checkMeta() error {
	f, err := os.Open(db.path)
	if err != nil {
		return err
	}
	defer f.Close()
	for i := range 2 { // page header 16 bytes; meta: magic, version, ..., FNV-64a of the 56 bytes before it
		m := make([]byte, 64)
		if _, err := f.ReadAt(m, int64(i*db.bolt.Info().PageSize+16)); err != nil {
			return damaged(db.path, fmt.Sprintf("meta page %d cannot be read: %v", i, err))
		}
		h := fnv.New64a()
		h.Write(m[:56])
		if binary.NativeEndian.Uint32(m) != 0xED0CDAED || binary.NativeEndian.Uint32(m[4:]) != 2 || binary.NativeEndian.Uint64(m[56:]) != h.Sum64() {
			return damaged(db.path, fmt.Sprintf("meta page %d is not valid; bbolt reads the other, which may be a write older", i))
		}
	}
	return nil
}
