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
//	meta         schema version, ledger id
//	entries      seq (8-byte big-endian, = tlog record index) → canonical entry
//	hashes       tlog stored-hash index (8-byte BE) → 32-byte hash
//	checkpoints  tree size (8-byte BE) → signed note
//	ids          entry UUID → seq                  (idempotency)
//	by_patient   MRN 0x00 seq → ""                 (derived index)
//	by_pump      serial 0x00 seq → ""              (derived index)
//	by_date      date of service 0x00 seq → ""     (derived index)
//	voided       voided seq → seq of the correction (derived index)
//
// Only entries, hashes and checkpoints are evidence; every other bucket is
// derived from the entries (index.go), written in the same transaction, and
// recomputed by Verify.
package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
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
	"github.com/pumpledger/pumpledger/catalog"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout this package reads and writes.
const SchemaVersion = 1

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

	allBuckets = [][]byte{bucketMeta, bucketEntries, bucketHashes, bucketCheckpoints, bucketIDs,
		bucketByPatient, bucketByPump, bucketByDate, bucketVoided}

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
	// Catalog the entries are checked and derived against; nil = default.
	Catalog *catalog.Catalog
	// Now is the ledger clock; nil = time.Now. Tests set it.
	Now func() time.Time
	// LockTimeout bounds the wait for another process's lock; 0 = 2 s.
	LockTimeout time.Duration
	// KeyPath is the signing key file; "" = the ledger path + ".key".
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
	cat     *catalog.Catalog
	now     func() time.Time
	keyPath string
	batch   bool
	dryRun  bool
	id      string // ledger id, the checkpoint's origin
	keysMu  sync.Mutex
	signer  *keys     // loaded on first signature, under keysMu
	imp     *importer // the open group of an Import, if any
	items   itemCache // decoded pump entries (state.go)
	// committed is the ledger's size as this process last saw it committed:
	// at open, and after each of its own commits. Entries below it never
	// change.
	committed atomic.Int64
}

// Open opens the ledger at path, creating it (mode 0600: it holds PHI) if it
// does not exist.
func Open(path string, opt Options) (_ *DB, err error) {
	defer guard(path, &err)()
	if opt.Catalog == nil {
		opt.Catalog = catalog.Default()
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
	if opt.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "No ledger at %s; check --db or create one by recording an entry.", path)
		}
	}
	// An empty file is a ledger cut short, unless nothing was ever written
	// (a crash as it was created: no key yet); bbolt would start a new one.
	if fi, _ := os.Stat(path); fi != nil && fi.Size() == 0 {
		if _, kerr := os.Stat(opt.KeyPath); opt.ReadOnly || kerr == nil {
			return nil, damaged(path, "it is empty")
		}
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.LockTimeout, ReadOnly: opt.ReadOnly, NoSync: opt.NoSync})
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
	db := &DB{path: path, bolt: bdb, cat: opt.Catalog, now: opt.Now, keyPath: opt.KeyPath, batch: opt.Batch, dryRun: opt.DryRun}
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
		if len(v) != 8 || binary.BigEndian.Uint64(v) != SchemaVersion {
			return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrSchema, Message: fmt.Sprintf(
				"The ledger %s has schema version %s; this pumpledger reads version %d. Use the pumpledger release that wrote it. (%v)",
				db.path, schemaString(v), SchemaVersion, ErrSchema)}
		}
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
			ready = ready && tx.Bucket(b) != nil
		}
		return nil
	}); err != nil || ready {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil {
			if err := check(tx); err != nil {
				return err
			}
		} else if tx.Bucket(bucketEntries) != nil || len(bucketNames(tx)) > 0 {
			return pumpledger.Errorf(pumpledger.EINVALID, "%s is a bbolt file but not a pumpledger ledger; point --db at another path.", db.path)
		}
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keySchema) == nil {
			db.id = "pumpledger/" + uuid.NewString()
			if err := meta.Put(keySchema, u64(SchemaVersion)); err != nil {
				return err
			}
			if err := meta.Put(keyLedgerID, []byte(db.id)); err != nil {
				return err
			}
		}
		return nil
	})
}

func bucketNames(tx *bolt.Tx) [][]byte {
	var names [][]byte
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, bytes.Clone(name))
		return nil
	})
	return names
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

// Catalog is the catalog the ledger derives with.
func (db *DB) Catalog() *catalog.Catalog { return db.cat }

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
