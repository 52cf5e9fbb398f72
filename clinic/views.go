package clinic

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/pumpledger/pumpledger/ledger"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/internal/parallel"
	"github.com/pumpledger/pumpledger/refill"
)

// Views. Each runs in one short read transaction and returns plain values
// (decoded copies): callers format and write after the transaction ends, so
// a slow reader never holds a transaction open.

// farFuture is the clock used to re-derive recorded refills: the "not in the
// future" check was made when they were recorded.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Link is one refill of a pump's chain with its derived record.
type Link struct {
	Entry  ledger.Entry
	Refill pumpledger.Refill
	Record refill.Record
}

// chain derives every live refill of a loaded pump, in performed order.
func (db *Service) chain(st *pumpState) ([]Link, error) {
	if st.implant == nil && (len(st.fills) > 0 || len(st.changes) > 0) {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "pump %s has refills or dose changes but no implant recorded", st.serial)
	}
	out := make([]Link, 0, len(st.fills))
	for _, f := range st.fills {
		l, err := link(st, f)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// link derives one live refill of a loaded pump: from the pump's fills and
// dose changes before it, not from their derived records.
func link(st *pumpState, f fillEntry) (Link, error) {
	rec, err := refill.Derive(st.cats.at(f.date).Catalog, f.refill, st.history(f.fill.At), farFuture)
	if err != nil {
		return Link{}, pumpledger.Errorf(pumpledger.EINTERNAL, "re-derive refill %s (entry %d): %s", f.entry.ID, f.entry.Seq, pumpledger.ErrorMessage(err))
	}
	rec.ID = f.entry.ID
	for i := range rec.Lines {
		rec.Lines[i].EntryID = f.entry.ID
	}
	return Link{Entry: f.entry, Refill: f.refill, Record: rec}, nil
}

// Chain is a pump's live refills with each interval reconciled, corrections applied.
func (db *Service) Chain(_ context.Context, serial string) (_ []Link, err error) {
	var out []Link
	err = db.View(func(tx *ledger.Tx) error {
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
func (db *Service) RefillRecord(_ context.Context, id string) (_ refill.Record, err error) {
	var rec refill.Record
	err = db.View(func(tx *ledger.Tx) error {
		e, err := tx.EntryByID(id)
		if err != nil {
			return err
		}
		if e.Kind != pumpledger.KindRefill {
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

func (db *Service) pumpChain(tx *ledger.Tx, serial string) ([]Link, error) {
	st, err := db.loadPump(tx, serial, -1)
	if err != nil {
		return nil, err
	}
	return db.chain(st)
}

// records derives refill records on demand, each pump's chain once: a
// refill's record depends on the pump's whole history, corrections applied.
type records struct {
	db    *Service
	tx    *ledger.Tx
	byID  map[string]refill.Record
	pumps map[string]bool
}

func newRecords(db *Service, tx *ledger.Tx) *records {
	return &records{db: db, tx: tx, byID: map[string]refill.Record{}, pumps: map[string]bool{}}
}

// of returns the record of a refill entry; ok is false if it is voided.
func (r *records) of(e ledger.Entry) (rec refill.Record, ok bool, err error) {
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
	Entry ledger.Entry `json:"entry"`
	// VoidedBy is the id of the correction that voided this entry, with its
	// reason, who and when; empty if the entry stands.
	VoidedBy     string    `json:"voided_by,omitempty"`
	VoidReason   string    `json:"void_reason,omitempty"`
	VoidedAt     time.Time `json:"voided_at,omitzero"`
	VoidedByUser string    `json:"voided_by_user,omitempty"`
	// Correction is the payload of a correction entry.
	Correction *ledger.Correction `json:"correction,omitempty"`
	// Record is the derived refill, as it stands now, for live refills.
	Record *refill.Record `json:"record,omitempty"`
	// Authorizations are what a live refill draws of the patient's prior
	// authorizations, as the ledger stands now.
	Authorizations []RefillAuthorization `json:"authorizations,omitempty"`
}

// History lists every entry of a patient in the order recorded, voided ones
// included and marked with their correction, live refills with their record.
func (db *Service) History(_ context.Context, mrn string) (_ []Item, err error) {
	var items []Item
	err = db.View(func(tx *ledger.Tx) error {
		seqs := tx.Filed(ledger.ByPatient, mrn)
		if len(seqs) == 0 {
			return unknownPatient(mrn)
		}
		records := newRecords(db, tx)
		dd, err := db.drawdownOf(tx, mrn, nil, -1)
		if err != nil {
			return err
		}
		for _, seq := range seqs {
			e, err := tx.Entry(seq)
			if err != nil {
				return err
			}
			it := Item{Entry: e}
			c, cp, void, err := voidOf(tx, seq)
			if err != nil {
				return err
			}
			if void {
				it.VoidedBy, it.VoidReason, it.VoidedAt, it.VoidedByUser = c.ID, cp.Reason, c.RecordedAt, c.RecordedBy
			}
			switch e.Kind {
			case pumpledger.KindCorrection:
				cp, err := e.Correction()
				if err != nil {
					return err
				}
				it.Correction = &cp
			case pumpledger.KindRefill:
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
				it.Authorizations = dd.byRefill[e.ID]
			}
			items = append(items, it)
		}
		return nil
	})
	return items, err
}

// Bill returns the claim lines of every live refill and reprogramming whose
// date of service is in [from, to] (YYYY-MM-DD, inclusive), corrections
// applied, each visit billed with its payer's profile (payers.go), ordered
// by date of service, patient, then entry as recorded.
func (db *Service) Bill(_ context.Context, from, to string) (_ []billing.Line, err error) {
	lines, _, err := db.bill(from, to)
	return lines, err
}

// bill is Bill, with what the pre-billing check reads of each visit's
// entry, read from its stored bytes as the bill reads them (by entry id).
func (db *Service) bill(from, to string) ([]billing.Line, map[string]visitFacts, error) {
	if err := billing.CheckPeriod(from, to); err != nil {
		return nil, nil, err
	}
	seqs, days, size0, err := db.BillIndex(from, to)
	if err != nil {
		return nil, nil, err
	}
	visits, err := db.pricedVisits(seqs, size0)
	if err != nil {
		return nil, nil, err
	}
	facts := make(map[string]visitFacts, len(visits))
	for _, v := range visits {
		if v.id != "" {
			facts[v.id] = v.facts
		} else if len(v.lines) > 0 {
			facts[v.lines[0].EntryID] = v.facts
		}
	}
	return billOrder(visits, days), facts, nil
}

// billVisits reads entries seqs (none voided by a correction below size0
// counts) into their visits, in the same positions (ledger.DB.ReadLive).
// Each refill's lines come from it alone (refill.Lines), never its pump's
// history, so a bill costs its month, not the ledger; and each billable
// shape is derived once.
// pricedVisits are billVisits with each visit's payer profile applied
// (the coverage in force on its date of service).
func (db *Service) pricedVisits(seqs []int64, size0 int64) ([]visit, error) {
	visits, err := db.billVisits(seqs, size0)
	if err != nil {
		return nil, err
	}
	return visits, db.View(func(tx *ledger.Tx) error {
		cats, err := db.catalogsIn(tx)
		if err != nil {
			return err
		}
		b, err := db.bookIn(tx, pumpledger.KindCoverage)
		if err != nil {
			return err
		}
		db.applyProfiles(visits, cats, b)
		return nil
	})
}

func (db *Service) billVisits(seqs []int64, size0 int64) ([]visit, error) {
	visits := make([]visit, len(seqs))
	var cats *catalogSet
	if err := db.View(func(tx *ledger.Tx) (err error) { cats, err = db.catalogsIn(tx); return err }); err != nil {
		return nil, err
	}
	memo := newLineMemo(cats)
	scratch := make([]*billScratch, parallel.Chunks(len(seqs), ledger.ReadChunk)) // one a chunk
	err := db.ReadLive(seqs, size0, func(c, i int, data []byte) (err error) {
		if scratch[c] == nil {
			scratch[c] = newBillScratch()
		}
		visits[i], err = db.billVisit(memo, scratch[c], data)
		return err
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
	_ = parallel.Run(len(days)-1, func(d int) error {
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
	_ = parallel.Run(parallel.Chunks(len(order), ledger.ReadChunk), func(c int) error {
		from, to := c*ledger.ReadChunk, min((c+1)*ledger.ReadChunk, len(order))
		mods := []string{}
		for i := from; i < to; i++ {
			visits[order[i]].appendTo(lines[at[i]:at[i]:at[i+1]], &mods)
		}
		return nil
	})
	return lines
}

// visit is one entry's place in a bill: its date of service, patient and
// claim lines, which are its shape's when shaped (its date, patient and
// entry then to be set on each).
type visit struct {
	date, mrn, id string
	lines         []billing.Line
	shaped        bool
	facts         visitFacts // what the pre-billing check reads of the entry
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
func (db *Service) billVisit(memo *lineMemo, scr *billScratch, data []byte) (v visit, err error) {
	defer func() {
		if err == nil {
			v.facts, err = factsOfStored(data)
		}
	}()
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
func (db *Service) billLines(memo *lineMemo, data []byte) ([]billing.Line, error) {
	v, err := db.billVisit(memo, newBillScratch(), data)
	if err != nil {
		return nil, err
	}
	return v.appendTo(nil, &[]string{}), nil
}

// claimLines are the claim lines of one stored entry: a refill's drug and
// service lines, a dose change's service line.
func claimLines(cats *catalogSet, data []byte) ([]billing.Line, error) {
	e, err := ledger.DecodeEntry(data)
	if err != nil {
		return nil, err
	}
	r := rules[e.Kind]
	if r.lines == nil {
		return nil, nil
	}
	ls, err := r.lines(cats, e)
	if err != nil {
		return nil, err
	}
	for i := range ls {
		ls[i].EntryID = e.ID
	}
	return ls, nil
}

// voidOf is the correction voiding entry seq and its payload; void is
// false when none does.
func voidOf(tx *ledger.Tx, seq int64) (c ledger.Entry, cp ledger.Correction, void bool, err error) {
	cseq, void := tx.VoidedBy(seq)
	if !void {
		return c, cp, false, nil
	}
	if c, err = tx.Entry(cseq); err != nil {
		return c, cp, true, err
	}
	cp, err = c.Correction()
	return c, cp, true, err
}
