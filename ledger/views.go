package ledger

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/refill"
	bolt "go.etcd.io/bbolt"
)

// Views. Each runs in one short read transaction and returns plain values
// (decoded copies): callers format and write after the transaction ends, so
// a slow reader never holds a transaction open.

// farFuture is the clock used to re-derive recorded refills: the "not in the
// future" check was made when they were recorded.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Link is one refill of a pump's chain with its derived record.
type Link struct {
	Entry  Entry
	Refill pumpledger.Refill
	Record refill.Record
}

// chain derives every live refill of a loaded pump, in performed order.
func (db *DB) chain(st *pumpState) ([]Link, error) {
	if st.implant == nil && (len(st.fills) > 0 || len(st.changes) > 0) {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "pump %s has refills or dose changes but no implant recorded", st.serial)
	}
	out := make([]Link, 0, len(st.fills))
	for _, f := range st.fills {
		rec, err := refill.Derive(st.cats.at(f.date).Catalog, f.refill, st.history(f.fill.At), farFuture)
		if err != nil {
			return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "re-derive refill %s (entry %d): %s", f.entry.ID, f.entry.Seq, pumpledger.ErrorMessage(err))
		}
		rec.ID = f.entry.ID
		for i := range rec.Lines {
			rec.Lines[i].EntryID = f.entry.ID
		}
		out = append(out, Link{Entry: f.entry, Refill: f.refill, Record: rec})
	}
	return out, nil
}

// Chain is a pump's live refills with each interval reconciled, corrections applied.
func (db *DB) Chain(serial string) (_ []Link, err error) {
	defer guard(db.path, &err)()
	var out []Link
	err = db.bolt.View(func(tx *bolt.Tx) error {
		st, err := db.loadPump(tx, serial, -1)
		if err != nil {
			return err
		}
		if st.implant == nil {
			return pumpledger.Errorf(pumpledger.ENOTFOUND, "Unknown pump %s; check the serial.", serial)
		}
		out, err = db.chain(st)
		return err
	})
	return out, err
}

// RefillRecord re-derives one recorded refill (corrections applied).
func (db *DB) RefillRecord(id string) (_ refill.Record, err error) {
	defer guard(db.path, &err)()
	var rec refill.Record
	err = db.bolt.View(func(tx *bolt.Tx) error {
		e, err := entryByID(tx, id)
		if err != nil {
			return err
		}
		if e.Kind != KindRefill {
			return pumpledger.Errorf(pumpledger.EINVALID, "Entry %s is a %s, not a refill.", id, e.Kind)
		}
		var ok bool
		if rec, ok, err = newRecords(db, tx).of(e); err != nil || ok {
			return err
		}
		return pumpledger.Errorf(pumpledger.ENOTFOUND, "Refill %s is voided; see its correction in `pumpledger history`.", id)
	})
	return rec, err
}

func (db *DB) pumpChain(tx *bolt.Tx, serial string) ([]Link, error) {
	st, err := db.loadPump(tx, serial, -1)
	if err != nil {
		return nil, err
	}
	return db.chain(st)
}

// records derives refill records on demand, each pump's chain once: a
// refill's record depends on the pump's whole history, corrections applied.
type records struct {
	db    *DB
	tx    *bolt.Tx
	byID  map[string]refill.Record
	pumps map[string]bool
}

func newRecords(db *DB, tx *bolt.Tx) *records {
	return &records{db: db, tx: tx, byID: map[string]refill.Record{}, pumps: map[string]bool{}}
}

// of returns the record of a refill entry; ok is false if it is voided.
func (r *records) of(e Entry) (rec refill.Record, ok bool, err error) {
	in, err := e.Refill()
	if err != nil {
		return rec, false, err
	}
	if !r.pumps[in.PumpSerial] {
		links, err := r.db.pumpChain(r.tx, in.PumpSerial)
		if err != nil {
			return rec, false, err
		}
		for _, l := range links {
			r.byID[l.Entry.ID] = l.Record
		}
		r.pumps[in.PumpSerial] = true
	}
	rec, ok = r.byID[e.ID]
	return rec, ok, nil
}

// Item is one entry of a patient's history.
type Item struct {
	Entry Entry `json:"entry"`
	// VoidedBy is the id of the correction that voided this entry, with its
	// reason, who and when; empty if the entry stands.
	VoidedBy     string    `json:"voided_by,omitempty"`
	VoidReason   string    `json:"void_reason,omitempty"`
	VoidedAt     time.Time `json:"voided_at,omitzero"`
	VoidedByUser string    `json:"voided_by_user,omitempty"`
	// Correction is the payload of a correction entry.
	Correction *Correction `json:"correction,omitempty"`
	// Record is the derived refill, as it stands now, for live refills.
	Record *refill.Record `json:"record,omitempty"`
}

// History lists every entry of a patient in the order recorded, voided ones
// included and marked with their correction, live refills with their record.
func (db *DB) History(mrn string) (_ []Item, err error) {
	defer guard(db.path, &err)()
	var items []Item
	err = db.bolt.View(func(tx *bolt.Tx) error {
		seqs := scanIndex(tx, bucketByPatient, mrn)
		if len(seqs) == 0 {
			return unknownPatient(mrn)
		}
		records := newRecords(db, tx)
		for _, seq := range seqs {
			e, err := getEntry(tx, seq)
			if err != nil {
				return err
			}
			it := Item{Entry: e}
			if cseq, void := voidedBy(tx, seq); void {
				c, err := getEntry(tx, cseq)
				if err != nil {
					return err
				}
				cp, err := c.Correction()
				if err != nil {
					return err
				}
				it.VoidedBy, it.VoidReason, it.VoidedAt, it.VoidedByUser = c.ID, cp.Reason, c.RecordedAt, c.RecordedBy
			}
			switch e.Kind {
			case KindCorrection:
				cp, err := e.Correction()
				if err != nil {
					return err
				}
				it.Correction = &cp
			case KindRefill:
				if it.VoidedBy != "" {
					break
				}
				rec, ok, err := records.of(e)
				if err != nil {
					return err
				}
				if ok {
					it.Record = &rec
				}
			}
			items = append(items, it)
		}
		return nil
	})
	return items, err
}

// Bill returns the claim lines of every live refill and reprogramming whose
// date of service is in [from, to] (YYYY-MM-DD, inclusive), corrections
// applied, ordered by date of service, patient, then entry as recorded.
func (db *DB) Bill(from, to string) (_ []billing.Line, err error) {
	defer guard(db.path, &err)()
	if err := billing.CheckPeriod(from, to); err != nil {
		return nil, err
	}
	seqs, days, size0, err := db.billIndex(from, to)
	if err != nil {
		return nil, err
	}
	visits, err := db.billVisits(seqs, size0)
	if err != nil {
		return nil, err
	}
	return billOrder(visits, days), nil
}

// billIndex reads the date index for [from, to] in one short transaction:
// the entries' seqs (by date of service, then seq), where each date's run
// of them begins (then len(seqs)), and the ledger's size then. What is
// appended since is not this bill's, not even a correction voiding one of
// them (its replacement would be missing).
func (db *DB) billIndex(from, to string) (seqs []int64, days []int, size0 int64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		size0 = size(tx)
		c := tx.Bucket(bucketByDate).Cursor()
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
			seqs = append(seqs, int64(binary.BigEndian.Uint64(k[len(k)-8:])))
		}
		days = append(days, len(seqs))
		return nil
	})
	return seqs, days, size0, err
}

// billVisits reads entries seqs (none voided by a correction below size0
// counts) into their visits, in the same positions: on every CPU, a chunk
// per read transaction (entries never change once written; the voided
// bucket only grows), in seq order, since neighbours share pages. Each
// refill's lines come from it alone (refill.Lines), never its pump's
// history, so a bill costs its month, not the ledger; and each billable
// shape is derived once.
func (db *DB) billVisits(seqs []int64, size0 int64) ([]visit, error) {
	bySeq := make([]int, len(seqs))
	for i := range bySeq {
		bySeq[i] = i
	}
	slices.SortFunc(bySeq, func(a, b int) int { return cmp.Compare(seqs[a], seqs[b]) })
	visits := make([]visit, len(seqs))
	var cats *catalogSet
	if err := db.bolt.View(func(tx *bolt.Tx) (err error) { cats, err = db.catalogsIn(tx); return err }); err != nil {
		return nil, err
	}
	memo := newLineMemo(cats)
	err := parallel(chunks(len(bySeq)), func(c int) (err error) {
		defer guard(db.path, &err)()
		scr := newBillScratch()
		return db.bolt.View(func(tx *bolt.Tx) error {
			// One cursor for the chunk: a Get makes a cursor, and its
			// stack, each time (three allocations a visit).
			entries := tx.Bucket(bucketEntries).Cursor()
			voided := newVoidedWalk(tx)
			for _, pos := range bySeq[c*billChunk : min((c+1)*billChunk, len(bySeq))] {
				by, void, err := voided.by(seqs[pos])
				if err != nil {
					return err
				}
				if void && by < size0 {
					continue // voided: no lines
				}
				key := u64(uint64(seqs[pos]))
				k, data := entries.Seek(key)
				if !bytes.Equal(k, key) || data == nil {
					return pumpledger.Errorf(pumpledger.EINTERNAL, "entry %d is indexed but missing", seqs[pos])
				}
				if visits[pos], err = db.billVisit(memo, scr, data); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return visits, err
}

// billOrder is the visits' lines by date of service, then patient, then
// entry as recorded, each entry's lines as derived. An entry's lines share
// its date and patient, so entries are sorted, not lines (a stable sort of
// 24,000 lines was a third of a large month's bill), and only within each
// date's run of the index (days), which is by date then seq: every run on
// its own, on every CPU, then every entry's lines written to their place,
// on every CPU.
func billOrder(visits []visit, days []int) []billing.Line {
	order := make([]int, len(visits))
	for i := range order {
		order[i] = i
	}
	_ = parallel(len(days)-1, func(d int) error {
		slices.SortFunc(order[days[d]:days[d+1]], func(a, b int) int {
			return cmp.Or(cmp.Compare(visits[a].mrn, visits[b].mrn), cmp.Compare(a, b))
		})
		return nil
	})
	at := make([]int, len(order)+1) // where each entry's lines begin
	for i, pos := range order {
		at[i+1] = at[i] + len(visits[pos].lines)
	}
	lines := make([]billing.Line, at[len(order)])
	_ = parallel(chunks(len(order)), func(c int) error {
		from, to := c*billChunk, min((c+1)*billChunk, len(order))
		mods := []string{}
		for i := from; i < to; i++ {
			visits[order[i]].appendTo(lines[at[i]:at[i]:at[i+1]], &mods)
		}
		return nil
	})
	return lines
}

// voidedWalk answers voidedBy for ascending seqs with one cursor over the
// voided bucket, stepping to the next key when it is near (corrections are
// few: most steps pass none) and seeking when it is not.
type voidedWalk struct {
	c    *bolt.Cursor
	k, v []byte
	seek bool
}

func newVoidedWalk(tx *bolt.Tx) *voidedWalk {
	return &voidedWalk{c: tx.Bucket(bucketVoided).Cursor(), seek: true}
}

// by is voidedBy(tx, seq); seq must not be below the last asked. A mark
// that is not a seq is an error: the file was altered (verify names it).
func (w *voidedWalk) by(seq int64) (int64, bool, error) {
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

// billChunk is how many entries a bill reads per read transaction.
const billChunk = 512

// chunks is how many chunks of billChunk n entries make.
func chunks(n int) int { return (n + billChunk - 1) / billChunk }

// visit is one entry's place in a bill: its date of service, patient and
// claim lines, which are its shape's when shaped (its date, patient and
// entry then to be set on each).
type visit struct {
	date, mrn, id string
	lines         []billing.Line
	shaped        bool
}

// appendTo appends the visit's lines to dst, each with modifiers of its
// own (capped slices of *mods, which only grows), though its shape's are
// shared.
func (v visit) appendTo(dst []billing.Line, mods *[]string) []billing.Line {
	for _, l := range v.lines {
		if v.shaped {
			l.DateOfService, l.MRN, l.EntryID = v.date, v.mrn, v.id
		}
		if l.Modifiers != nil {
			k := len(*mods)
			*mods = append(*mods, l.Modifiers...)
			l.Modifiers = (*mods)[k:len(*mods):len(*mods)]
		}
		dst = append(dst, l)
	}
	return dst
}

// lineMemo holds the claim lines of each billable shape a bill has derived
// (see billed), shared by its workers: each shape is derived once per
// catalog in force, by the first worker to meet it, while the other waits
// only if it meets the same.
type lineMemo struct {
	cats *catalogSet
	mu   sync.RWMutex
	m    map[*Pinned]map[string]*shape
}

type shape struct {
	once  sync.Once
	lines []billing.Line
	ok    bool
}

func newLineMemo(cats *catalogSet) *lineMemo {
	return &lineMemo{cats: cats, m: map[*Pinned]map[string]*shape{}}
}

// of is the shape of key under catalog p, made if it is new.
func (memo *lineMemo) of(p *Pinned, key []byte) *shape {
	memo.mu.RLock()
	sh := memo.m[p][string(key)]
	memo.mu.RUnlock()
	if sh == nil {
		memo.mu.Lock()
		if sh = memo.m[p][string(key)]; sh == nil {
			sh = &shape{}
			if memo.m[p] == nil {
				memo.m[p] = map[string]*shape{}
			}
			memo.m[p][string(key)] = sh
		}
		memo.mu.Unlock()
	}
	return sh
}

// billVisit reads one stored entry for a bill: its claim lines
// (claimLines), derived once per billable shape: a visit of a shape
// already derived takes its shape's lines. data may be a bbolt page:
// nothing of it is kept.
func (db *DB) billVisit(memo *lineMemo, scr *billScratch, data []byte) (visit, error) {
	full := func() (visit, error) {
		ls, err := claimLines(memo.cats, data)
		if err != nil || len(ls) == 0 {
			return visit{}, err
		}
		return visit{date: ls[0].DateOfService, mrn: ls[0].MRN, lines: ls}, nil
	}
	b, ok := scanBilled(data, scr)
	if !ok {
		return full()
	}
	sh := memo.of(memo.cats.at(b.date), b.key)
	sh.once.Do(func() {
		var err error
		sh.lines, err = claimLines(memo.cats, data)
		sh.ok = err == nil
	})
	if !sh.ok {
		// Every visit of a shape that cannot be derived fails alike, but
		// its message names its own entry.
		return full()
	}
	return visit{date: b.date, mrn: b.mrn, id: b.id, lines: sh.lines, shaped: true}, nil
}

// billLines are one stored entry's lines as a bill gives them.
func (db *DB) billLines(memo *lineMemo, data []byte) ([]billing.Line, error) {
	v, err := db.billVisit(memo, newBillScratch(), data)
	if err != nil {
		return nil, err
	}
	return v.appendTo(nil, &[]string{}), nil
}

// claimLines are the claim lines of one stored entry: a refill's drug and
// service lines, a dose change's service line.
func claimLines(cats *catalogSet, data []byte) ([]billing.Line, error) {
	e, err := decodeEntry(data)
	if err != nil {
		return nil, err
	}
	switch e.Kind {
	case KindRefill:
		r, err := e.Refill()
		if err != nil {
			return nil, err
		}
		ls, err := refill.Lines(cats.at(r.PerformedAt.Date()).Catalog, r)
		if err != nil {
			return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "re-derive the claim lines of refill %s (entry %d): %s", e.ID, e.Seq, pumpledger.ErrorMessage(err))
		}
		for i := range ls {
			ls[i].EntryID = e.ID
		}
		return ls, nil
	case KindReprogram:
		r, err := e.Reprogram()
		if err != nil {
			return nil, err
		}
		ls := refill.ReprogramLines(cats.at(r.PerformedAt.Date()).Catalog, r)
		for i := range ls {
			ls[i].EntryID = e.ID
		}
		return ls, nil
	}
	return nil, nil
}

// parallel runs fn(0..n-1) on one goroutine per CPU and returns the error
// of the lowest i that failed.
func parallel(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				errs[i] = fn(i)
			}
		})
	}
	wg.Wait()
	return firstError(errs)
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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
