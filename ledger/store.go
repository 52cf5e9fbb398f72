package ledger

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/parallel"
	bolt "go.etcd.io/bbolt"
)

// The store's interface to the use cases (package clinic): transactions
// that read entries and their indexes, and Write, which appends what a use
// case derived inside one durable transaction. The store knows entries,
// their tree and their indexes; it knows no rule: what an entry means, and
// whether it may be recorded, is the use case's.

// Index names a derived index of the entries.
type Index int

const (
	ByPatient Index = iota // MRN → every entry of the patient (and corrections of them)
	ByPump                 // pump serial → every entry of the pump
	ByDate                 // date of service → refills and dose changes
	ByKind                 // kind → every entry of the kinds filed by kind (KindSpec.ByKind)
)

func (ix Index) bucket() []byte {
	return [...][]byte{bucketByPatient, bucketByPump, bucketByDate, bucketByKind}[ix]
}

// Tx is a read or write transaction of the store, valid only inside the
// View or Write that gives it.
type Tx struct {
	b  *bolt.Tx
	db *DB
}

// DB is the ledger the transaction is of.
func (t *Tx) DB() *DB { return t.db }

// Size is the number of entries the transaction sees.
func (t *Tx) Size() int64 { return size(t.b) }

// Entry decodes entry seq.
func (t *Tx) Entry(seq int64) (Entry, error) { return getEntry(t.b, seq) }

// EntryByID decodes the entry with that id; ENOTFOUND if there is none.
func (t *Tx) EntryByID(id string) (Entry, error) { return entryByID(t.b, id) }

// HasID reports whether an entry has that id.
func (t *Tx) HasID(id string) bool { return t.b.Bucket(bucketIDs).Get([]byte(id)) != nil }

// Stored is entry seq's stored bytes, valid until the transaction ends.
func (t *Tx) Stored(seq int64) ([]byte, error) {
	v := t.b.Bucket(bucketEntries).Get(u64(uint64(seq)))
	if v == nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "entry %d is indexed but missing", seq)
	}
	return v, nil
}

// StoredByID is the stored bytes of the entry with that id, valid until
// the transaction ends: for a reader that needs a field or two of many
// entries, not each one decoded (the pre-billing check).
func (t *Tx) StoredByID(id string) ([]byte, error) {
	v := t.b.Bucket(bucketIDs).Get([]byte(id))
	if v == nil {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "No entry has id %s; check the id in `pumpledger history`.", id)
	}
	return t.Stored(int64(binary.BigEndian.Uint64(v)))
}

// VoidedBy is the seq of the correction that voided seq, if one did.
func (t *Tx) VoidedBy(seq int64) (int64, bool) { return voidedBy(t.b, seq) }

// Filed lists, in seq order, the entries filed under key in index ix.
func (t *Tx) Filed(ix Index, key string) []int64 {
	if t.b.Bucket(ix.bucket()) == nil {
		return nil // by_kind, in a schema 1 ledger not yet upgraded
	}
	return scanIndex(t.b, ix.bucket(), key)
}

// Voided walks the voided marks for ascending seqs (see VoidedWalk).
func (t *Tx) Voided() *VoidedWalk { return newVoidedWalk(t.b) }

// DatedFrom lists the entries whose date of service is date or later.
func (t *Tx) DatedFrom(date string) []int64 {
	var out []int64
	c := t.b.Bucket(bucketByDate).Cursor()
	for k, _ := c.Seek([]byte(date)); k != nil; k, _ = c.Next() {
		if len(k) >= 9 {
			out = append(out, seqOf(k[len(k)-8:]))
		}
	}
	return out
}

// Pumps lists every pump serial filed in the ledger.
func (t *Tx) Pumps() []string {
	var out []string
	c := t.b.Bucket(bucketByPump).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) < 9 {
			continue
		}
		if s := string(k[:len(k)-9]); len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// Filing is where an entry files itself: its patients, pumps and date of
// service (a correction's are those of the entries it names).
func Filing(e Entry) (patients, pumps []string, date string, err error) { return filing(e) }

// View runs fn in one read transaction. A file damaged or altered under it
// is an error that says so, never a crash.
func (db *DB) View(fn func(tx *Tx) error) (err error) {
	defer guard(db.path, &err)()
	return db.bolt.View(func(b *bolt.Tx) error { return fn(&Tx{b: b, db: db}) })
}

// Written is what Write appended, or the entry already recorded.
type Written struct {
	// Entries are the entries appended, the one asked for last (a
	// correction's replacement precedes it, so that it can name it).
	Entries []Entry
	// Existing: the entry was already recorded with the same content
	// (Entries holds it); nothing was written.
	Existing bool
}

// Entry is the entry asked for.
func (w Written) Entry() Entry { return w.Entries[len(w.Entries)-1] }

// Already, returned by a Write's fn, ends the write with nothing written:
// e, the same content, is already recorded (an idempotent replay).
func Already(e Entry) error { return errExisting{e} }

type errExisting struct{ e Entry }

func (errExisting) Error() string { return "already recorded" }

// Write appends, in one durable read-write transaction, the entries fn
// builds from what tx holds: it refuses an id already used for other
// content (the same content is Existing, nothing written), files the
// entries in the indexes, runs check on the result (a failure rolls all
// back) and signs a checkpoint of the new tree. It returns only after
// bbolt has committed. fn and check may run more than once (Batch): they
// must only read through tx and keep only what the last run derived. On a
// ledger opened with DryRun, it does all of that and rolls it back.
func (db *DB) Write(id string, kind Kind, payload []byte, fn func(tx *Tx) ([]Entry, error), check func(tx *Tx) error) (Written, error) {
	if db.schema == schemaV1 {
		return Written{}, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrSchemaOld, Message: fmt.Sprintf("The ledger %s holds no catalog (%v); it was written by an older pumpledger: run `pumpledger upgrade` to pin the catalog it used.", db.path, ErrSchemaOld)}
	}
	return db.write(id, kind, payload, fn, check, nil, db.dryRun)
}

// Preview is Write rolled back, on any ledger: every check and derivation
// of recording, nothing written and nothing signed. A server holding one
// ledger open for writing previews with it what a form would record.
func (db *DB) Preview(id string, kind Kind, payload []byte, fn func(tx *Tx) ([]Entry, error), check func(tx *Tx) error) (Written, error) {
	if db.schema == schemaV1 {
		return db.Write(id, kind, payload, fn, check) // its refusal
	}
	return db.write(id, kind, payload, fn, check, nil, true)
}

// ErrSchemaOld: a schema 1 ledger, read only to be upgraded.
var ErrSchemaOld = errors.New("no catalog is pinned in the ledger")

// write is Write; before, if not nil, runs first in the transaction; dry
// rolls it back.
func (db *DB) write(id string, kind Kind, payload []byte, fn func(tx *Tx) ([]Entry, error), check func(tx *Tx) error, before func(tx *bolt.Tx) error, dry bool) (Written, error) {
	var k *keys
	if !dry { // a dry run signs nothing
		var err error
		if k, err = db.signingKey(); err != nil {
			return Written{}, err
		}
	}
	var w Written
	update := db.update
	if dry && db.batch && db.imp == nil {
		// Not in a batch: a rolled-back function fails its whole batch,
		// and every other append in it would run again.
		update = db.updateAlone
	}
	err := update(func(b *bolt.Tx) error {
		w = Written{}
		tx := &Tx{b: b, db: db}
		if before != nil {
			if err := before(b); err != nil {
				return err
			}
		}
		ps, err := derive(tx, id, kind, payload, fn)
		if err != nil {
			return err
		}
		for i := range ps {
			if err := appendLeaf(b, &ps[i]); err != nil {
				return err
			}
			if err := fileEntry(b, ps[i]); err != nil {
				return err
			}
		}
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		w.Entries = ps
		if dry { // everything checked and derived: roll it all back
			return errDryRun
		}
		if db.imp == nil { // an Import signs once per group, at its commit
			t, err := treeAt(b)
			if err != nil {
				return err
			}
			if _, err := db.signCheckpoint(b, k, t); err != nil {
				return err
			}
		}
		return nil
	})
	var ex errExisting
	switch {
	case errors.As(err, &ex):
		return Written{Entries: []Entry{ex.e}, Existing: true}, nil
	case errors.Is(err, errDryRun):
		return w, nil
	case err != nil:
		return Written{}, err
	}
	if db.imp == nil { // committed (an Import's group commits later)
		db.sawCommitted(w.Entry().Seq + 1)
	}
	return w, nil
}

var errDryRun = errors.New("dry run: rolled back")

// derive is what a write and a read preview both do before appending:
// id already recorded (recorded), then fn's entries, at least one, each
// recorded_by checked (stored text too, from wherever it came).
func derive(tx *Tx, id string, kind Kind, payload []byte, fn func(tx *Tx) ([]Entry, error)) ([]Entry, error) {
	if err := recorded(tx.b, id, kind, payload); err != nil {
		return nil, err
	}
	ps, err := fn(tx)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, errors.New("ledger: a write appends at least one entry")
	}
	for i := range ps {
		if err := pumpledger.CheckText("recorded_by", ps[i].RecordedBy, false); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// recorded refuses id already recorded with other content (ECONFLICT), and
// answers errExisting when it is recorded with this content: sending the
// same entry twice records it once.
func recorded(b *bolt.Tx, id string, kind Kind, payload []byte) error {
	if id == "" {
		return nil
	}
	v := b.Bucket(bucketIDs).Get([]byte(id))
	if v == nil {
		return nil
	}
	e, err := getEntry(b, int64(binary.BigEndian.Uint64(v)))
	if err != nil {
		return err
	}
	if e.Kind != kind || !bytes.Equal(e.Payload, payload) {
		return pumpledger.Errorf(pumpledger.ECONFLICT, "id %s is already recorded (entry %d of the ledger, a %s recorded on %s) with different content; for another entry use a new id, or to replace that one remove \"id\" from this input and run `pumpledger correct --entry %s --reason \"what was wrong\" --file FILE`.",
			id, e.Seq+1, e.Kind, e.RecordedAt.Format(time.DateOnly), id)
	}
	return errExisting{e}
}

// ErrPreviewNeedsWrite is what a check answers in a read transaction when
// it needs the entries appended to decide (a late entry re-derives the
// pump's later entries with it): PreviewRead then previews with Preview.
var ErrPreviewNeedsWrite = errors.New("ledger: this preview needs its entries appended")

// PreviewRead is Preview in a read transaction: fn derives the entries
// and check runs, nothing is appended, and it runs beside other previews
// and beside appends instead of queueing for bbolt's one writer (a form's
// live preview, many nurses at once). fn must only read; check answers
// ErrPreviewNeedsWrite when it needs the entries in the tree, and the
// preview is then made as Preview makes it.
func (db *DB) PreviewRead(id string, kind Kind, payload []byte, fn func(tx *Tx) ([]Entry, error), check func(tx *Tx) error) (Written, error) {
	if db.schema == schemaV1 {
		return db.Write(id, kind, payload, fn, check) // its refusal
	}
	var w Written
	err := db.View(func(tx *Tx) error {
		ps, err := derive(tx, id, kind, payload, fn)
		if err != nil {
			return err
		}
		for i := range ps {
			ps[i].Seq = size(tx.b) + int64(i) // where it would go
		}
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		w.Entries = ps
		return nil
	})
	var ex errExisting
	switch {
	case errors.Is(err, ErrPreviewNeedsWrite):
		return db.Preview(id, kind, payload, fn, check)
	case errors.As(err, &ex):
		return Written{Entries: []Entry{ex.e}, Existing: true}, nil
	case err != nil:
		return Written{}, err
	}
	return w, nil
}

// Writable reports whether the transaction may append (a write, or a
// preview rolled back) or only read (PreviewRead, View).
func (t *Tx) Writable() bool { return t.b.Writable() }

// sawCommitted notes that the ledger holds at least n committed entries.
func (db *DB) sawCommitted(n int64) {
	for cur := db.committed.Load(); n > cur && !db.committed.CompareAndSwap(cur, n); cur = db.committed.Load() {
	}
}

// Committed is the ledger's size as this process last saw it committed:
// entries below it never change, so what was decoded from them may be kept.
func (db *DB) Committed() int64 { return db.committed.Load() }

// Upgrade brings a schema 1 ledger to this schema: in one transaction it
// makes the by_kind index, appends the entries fn builds (the pinned
// catalog), runs check and signs. Nothing stored is rewritten.
func (db *DB) Upgrade(fn func(tx *Tx) ([]Entry, error), check func(tx *Tx) error) (Written, error) {
	if db.schema != schemaV1 {
		return Written{}, pumpledger.Errorf(pumpledger.ECONFLICT, "The ledger %s already holds its catalog (schema %d); adopt another with `pumpledger catalog adopt FILE --reason TEXT`.", db.path, db.schema)
	}
	w, err := db.write("", "", nil, fn, check, func(b *bolt.Tx) error {
		if _, err := b.CreateBucketIfNotExists(bucketByKind); err != nil {
			return err
		}
		return b.Bucket(bucketMeta).Put(keySchema, u64(SchemaVersion))
	}, db.dryRun)
	if err == nil && !db.dryRun {
		db.schema = SchemaVersion
	}
	return w, err
}

// Now is the ledger clock.
func (db *DB) Now() time.Time { return db.now() }

// Today is the ledger clock's date, as a date of service is written.
func (db *DB) Today() string { return db.now().Format(time.DateOnly) }

// Envelope builds an entry's envelope: recorded now by by, performed at
// performed, late if recorded more than LateAfter after it.
func (db *DB) Envelope(id string, kind Kind, by string, performed pumpledger.Instant, payload []byte) Entry {
	now := db.now().UTC()
	if id == "" {
		id = uuid.NewString()
	}
	return Entry{ID: id, Kind: kind, RecordedAt: now, RecordedBy: by,
		PerformedAt: performed.UTC, PerformedOffset: performed.Local().Format("-07:00"),
		Late: now.Sub(performed.UTC) > LateAfter, Payload: payload}
}

// Canonical encodes a payload as the store keeps it (see canonical).
func Canonical(v any) []byte { return canonical(v) }

// BillIndex reads the date index for [from, to] (YYYY-MM-DD, inclusive) in
// one short transaction: the entries' seqs (by date of service, then seq),
// where each date's run of them begins (then len(seqs)), and the ledger's
// size then. What is appended since is not this bill's, not even a
// correction voiding one of them (its replacement would be missing).
func (db *DB) BillIndex(from, to string) (seqs []int64, days []int, size0 int64, err error) {
	err = db.View(func(tx *Tx) error {
		size0 = tx.Size()
		c := tx.b.Bucket(bucketByDate).Cursor()
		end := append([]byte(to), 1) // past every "to\x00seq" key
		var day []byte
		for k, _ := c.Seek([]byte(from)); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			if len(k) < 9 {
				continue
			}
			if d := k[:len(k)-9]; !bytes.Equal(d, day) {
				day = bytes.Clone(d)
				days = append(days, len(seqs))
			}
			seqs = append(seqs, seqOf(k[len(k)-8:]))
		}
		days = append(days, len(seqs))
		return nil
	})
	return seqs, days, size0, err
}

// ReadChunk is how many entries ReadLive reads per read transaction.
const ReadChunk = 512

// ReadLive calls fn(i, stored) for each entry seqs[i] not voided by a
// correction below size0, on every CPU, a chunk per short read transaction
// (entries never change once written; the voided bucket only grows), in
// seq order since neighbours share pages. fn gets the chunk, whose calls
// run on one goroutine in turn; stored is valid only during the call.
func (db *DB) ReadLive(seqs []int64, size0 int64, fn func(chunk, i int, stored []byte) error) error {
	bySeq := make([]int, len(seqs))
	for i := range bySeq {
		bySeq[i] = i
	}
	slices.SortFunc(bySeq, func(a, b int) int { return cmp.Compare(seqs[a], seqs[b]) })
	return parallel.Run(parallel.Chunks(len(bySeq), ReadChunk), func(c int) (err error) {
		defer guard(db.path, &err)()
		return db.bolt.View(func(tx *bolt.Tx) error {
			// One cursor for the chunk: a Get makes a cursor, and its
			// stack, each time (three allocations a visit).
			entries := tx.Bucket(bucketEntries).Cursor()
			voided := newVoidedWalk(tx)
			for _, pos := range bySeq[c*ReadChunk : min((c+1)*ReadChunk, len(bySeq))] {
				by, void, err := voided.By(seqs[pos])
				if err != nil {
					return err
				}
				if void && by < size0 {
					continue // voided: skipped
				}
				key := u64(uint64(seqs[pos]))
				k, data := entries.Seek(key)
				if !bytes.Equal(k, key) || data == nil {
					return pumpledger.Errorf(pumpledger.EINTERNAL, "entry %d is indexed but missing", seqs[pos])
				}
				if err := fn(c, pos, data); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// VoidedWalk answers VoidedBy for ascending seqs with one cursor over the
// voided bucket, stepping to the next key when it is near (corrections are
// few: most steps pass none) and seeking when it is not.
type VoidedWalk struct {
	c    *bolt.Cursor
	k, v []byte
	seek bool
}

func newVoidedWalk(tx *bolt.Tx) *VoidedWalk {
	return &VoidedWalk{c: tx.Bucket(bucketVoided).Cursor(), seek: true}
}

// By is VoidedBy(seq); seq must not be below the last asked. A mark that
// is not a seq is an error: the file was altered (verify names it).
func (w *VoidedWalk) By(seq int64) (int64, bool, error) {
	key := u64(uint64(seq))
	for steps := 0; !w.seek && w.k != nil && bytes.Compare(w.k, key) < 0; steps++ {
		if steps == 8 {
			w.seek = true
			break
		}
		w.k, w.v = w.c.Next()
	}
	if w.seek {
		w.k, w.v = w.c.Seek(key)
		w.seek = false
	}
	if w.k == nil || !bytes.Equal(w.k, key) {
		return 0, false, nil
	}
	if len(w.v) != 8 {
		return 0, false, indexBroken(string(bucketVoided), fmt.Sprintf("entry %d's voided mark is not an entry", seq))
	}
	return seqOf(w.v), true, nil
}

// Size is the number of entries.
func (db *DB) Size() (_ int64, err error) {
	defer guard(db.path, &err)()
	var n int64
	err = db.bolt.View(func(tx *bolt.Tx) error { n = size(tx); return nil })
	return n, err
}

// Entry returns the entry with the given id, voided or not.
func (db *DB) Entry(id string) (_ Entry, err error) {
	defer guard(db.path, &err)()
	var e Entry
	err = db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		e, err = entryByID(tx, id)
		return err
	})
	return e, err
}

func getEntry(tx *bolt.Tx, seq int64) (Entry, error) {
	v := tx.Bucket(bucketEntries).Get(u64(uint64(seq)))
	if v == nil {
		return Entry{}, pumpledger.Errorf(pumpledger.EINTERNAL, "entry %d is indexed but missing", seq)
	}
	return decodeEntry(v) // decodes into fresh memory: nothing refers to the mmap after tx
}

func entryByID(tx *bolt.Tx, id string) (Entry, error) {
	v := tx.Bucket(bucketIDs).Get([]byte(id))
	if v == nil {
		return Entry{}, pumpledger.Errorf(pumpledger.ENOTFOUND, "No entry has id %s; check the id in `pumpledger history`.", id)
	}
	return getEntry(tx, int64(binary.BigEndian.Uint64(v)))
}

// voidedBy returns the seq of the correction that voided seq, if any. A
// mark that is not a seq (the file altered outside pumpledger) panics with
// an altered error, which guard returns as the operation's error.
func voidedBy(tx *bolt.Tx, seq int64) (int64, bool) {
	v := tx.Bucket(bucketVoided).Get(u64(uint64(seq)))
	if v == nil {
		return 0, false
	}
	if len(v) != 8 {
		panic(altered{indexBroken(string(bucketVoided), fmt.Sprintf("entry %d's voided mark is not an entry", seq))})
	}
	return int64(binary.BigEndian.Uint64(v)), true
}

// scanIndex returns the seqs filed under key in an index bucket.
func scanIndex(tx *bolt.Tx, bucket []byte, key string) []int64 {
	prefix := append([]byte(key), 0)
	var out []int64
	c := tx.Bucket(bucket).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) == len(prefix)+8 {
			out = append(out, int64(binary.BigEndian.Uint64(k[len(prefix):])))
		}
	}
	return out
}

// DecodeEntry parses an entry's stored bytes.
func DecodeEntry(b []byte) (Entry, error) { return decodeEntry(b) }

// Tampered is the error of an entry whose content cannot be what
// pumpledger wrote: the file was altered outside it.
func Tampered(seq int64, format string, args ...any) error { return tampered(seq, format, args...) }
