package clinic

import (
	"hash/maphash"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pumpledger/pumpledger/ledger"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/shopspring/decimal"
)

// Reading state back. Every view starts from the entries, skips what a
// correction voided, and derives; nothing derived is stored.

// fillEntry is a refill with the fill it left.
type fillEntry struct {
	entry  ledger.Entry
	refill pumpledger.Refill
	fill   pump.Fill
	// The fill's stability limit in a pump that already held its drugs.
	stabilityHeld     int
	stabilityHeldDrug string
	date              string // of service (serviceConflicts compares every fill's)
}

// pumpState is everything recorded for one pump, corrections applied.
type pumpState struct {
	cats     *catalogSet // the ledger's catalogs, each entry derived with its date's
	serial   string
	implant  *pumpledger.Implant
	implantE ledger.Entry
	model    pump.Model
	alarmML  decimal.Decimal
	explant  *pumpledger.Explant
	fills    []fillEntry // by performed time
	changes  []changeEntry
}

type changeEntry struct {
	entry     ledger.Entry
	change    pump.DoseChange
	procedure string
	date      string // date of service
}

// loadPump reads a pump's entries, skipping voided ones and the entry with seq
// skip (the one a correction replaces, or -1).
func (db *Service) loadPump(tx *ledger.Tx, serial string, skip int64) (*pumpState, error) {
	cats, err := db.catalogsIn(tx)
	if err != nil {
		return nil, err
	}
	st := &pumpState{cats: cats, serial: serial}
	seqs := tx.Filed(ledger.ByPump, serial)
	st.fills = make([]fillEntry, 0, len(seqs))
	voided := tx.Voided() // seqs ascend: one cursor, not a Get each
	for _, seq := range seqs {
		_, void, err := voided.By(seq)
		if err != nil {
			return nil, err
		}
		if void || seq == skip {
			continue
		}
		it, err := db.items.get(db, tx, cats, seq)
		if err != nil {
			return nil, err
		}
		if r := rules[it.entry.Kind]; r.into != nil {
			r.into(st, it)
		}
	}
	if st.implant == nil {
		return st, nil
	}
	m, ok := cats.at(st.implant.Date).Catalog.Pump(st.implant.Model)
	if !ok {
		return nil, pumpledger.Errorf(pumpledger.EINVALID, "Pump %s is model %q, which the catalog does not list; use the catalog it was recorded with.", serial, st.implant.Model)
	}
	st.model, st.alarmML = m, m.AlarmML
	if st.implant.AlarmML.Valid {
		st.alarmML = st.implant.AlarmML.Decimal
	}
	sort.SliceStable(st.fills, func(i, j int) bool { return st.fills[i].fill.At.Before(st.fills[j].fill.At) })
	held := st.heldAtImplant()
	for i := range st.fills {
		f := &st.fills[i]
		f.fill.StabilityDays, f.fill.StabilityDrug = refill.FillStability(cats.at(f.date).Catalog, f.refill, f.fill, held, f.stabilityHeld, f.stabilityHeldDrug)
	}
	sort.SliceStable(st.changes, func(i, j int) bool { return st.changes[i].change.At.Before(st.changes[j].change.At) })
	return st, nil
}

// pumpItem is one entry of a pump, decoded as loadPump uses it. Shared by
// every load that hits the cache: read-only.
type pumpItem struct {
	sum       uint64      // of the stored bytes it was decoded from
	committed atomic.Bool // they were committed: no need to read them again
	entry     ledger.Entry
	refill    pumpledger.Refill
	fill      pump.Fill
	// stabilityHeld is the fill's limit in a pump that held its drugs
	// before (refill.HeldStability): what loadPump needs for all but a
	// pump's first fill of a drug.
	stabilityHeld     int
	stabilityHeldDrug string
	date              string // a refill's date of service
	change            changeEntry
	implant           pumpledger.Implant
	explant           pumpledger.Explant
}

// itemCache keeps decoded pump entries by seq. Every refill or dose change
// reads its pump's whole history, and decoding it was most of an append's
// cost, growing with the pump's age; committed entries never change, so each
// is decoded once (a chart and a drawdown read their patient's entries
// through it too). An entry not yet committed when it was read (a write's
// own, an Import group's) is used only while its stored bytes still hash the
// same: a seq freed by a rolled-back transaction and reused is decoded
// afresh. (Bytes edited outside pumpledger while a process runs are verify's
// to find.) The cache is bounded: full, it starts again empty, so memory
// stays flat as the ledger grows.
type itemCache struct {
	mu   sync.Mutex
	seed maphash.Seed
	max  int
	m    map[int64]*pumpItem
}

// maxCachedItems bounds the cache: about 2 KB each, some 130 MB at most;
// more than the entries of the pumps a clinic refills in a month.
const maxCachedItems = 1 << 16

// clear drops every decoded entry: they were derived with catalogs that
// an adoption has since changed.
func (c *itemCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

func (c *itemCache) get(db *Service, tx *ledger.Tx, cats *catalogSet, seq int64) (*pumpItem, error) {
	c.mu.Lock()
	if c.m == nil {
		c.seed, c.m = maphash.MakeSeed(), map[int64]*pumpItem{}
	}
	it, ok := c.m[seq]
	c.mu.Unlock()
	if ok && it.committed.Load() {
		return it, nil // decoded from committed bytes, which never change
	}
	v, err := tx.Stored(seq)
	if err != nil {
		return nil, err
	}
	sum := maphash.Bytes(c.seed, v)
	// Bytes read below the committed size are the committed ones: from then
	// on the item is trusted without reading them again.
	committed := seq < db.Committed()
	if ok && it.sum == sum {
		if committed {
			it.committed.Store(true)
		}
		return it, nil
	}
	it, err = decodePumpItem(cats, v)
	if err != nil {
		return nil, err
	}
	it.sum = sum
	it.committed.Store(committed)
	c.mu.Lock()
	if len(c.m) >= maxCachedItems {
		clear(c.m)
	}
	c.m[seq] = it
	c.mu.Unlock()
	return it, nil
}

func decodePumpItem(cats *catalogSet, v []byte) (*pumpItem, error) {
	e, err := ledger.DecodeEntry(v)
	if err != nil {
		return nil, err
	}
	it := &pumpItem{entry: e}
	if r := rules[e.Kind]; r.decode != nil {
		err = r.decode(cats, it)
	}
	return it, err
}

// heldAtImplant is the drugs the pump held before its first recorded fill.
func (st *pumpState) heldAtImplant() map[string]bool {
	held := map[string]bool{}
	if st.implant == nil {
		return held
	}
	cat := st.cats.at(st.implant.Date).Catalog
	for _, d := range st.implant.Held {
		held[drugName(cat, d)] = true
	}
	return held
}

// history is what the pump held before time at, as refill.Derive needs it.
func (st *pumpState) history(at time.Time) refill.History {
	h := refill.History{Model: st.model, AlarmML: st.alarmML, Held: st.heldAtImplant()}
	for i := range st.fills {
		f := st.fills[i].fill
		if !f.At.Before(at) {
			break
		}
		h.Last = &st.fills[i].fill
		h.Doses = append(h.Doses, f.Dose)
		for d := range f.MCGPerML {
			h.Held[d] = true
		}
	}
	for _, c := range st.changes {
		if !c.change.At.Before(at) {
			continue
		}
		h.Doses = append(h.Doses, c.change)
		if h.Last != nil && c.change.At.After(h.Last.At) {
			h.Changes = append(h.Changes, c.change)
		}
	}
	sort.SliceStable(h.Doses, func(i, j int) bool { return h.Doses[i].At.Before(h.Doses[j].At) })
	return h
}

// serviceConflicts are the warnings for billing code on date beside the
// pump's other live visits (billing.VisitConflicts), for entry id.
func (db *Service) serviceConflicts(st *pumpState, mrn, date, code, id string) []string {
	visits := make([]billing.Visit, 0, len(st.fills)+len(st.changes))
	for _, f := range st.fills {
		visits = append(visits, billing.Visit{MRN: mrn, Date: f.date, Code: f.refill.Procedure, EntryID: f.entry.ID})
	}
	for _, c := range st.changes {
		visits = append(visits, billing.Visit{MRN: mrn, Date: c.date, Code: c.procedure, EntryID: c.entry.ID})
	}
	return billing.VisitConflicts(visits, billing.Visit{MRN: mrn, Date: date, Code: code, EntryID: id}, st.cats.at(date).Catalog.Service)
}

// lastFillAt is the time of the pump's latest live fill (zero if none).
func (st *pumpState) lastFillAt() time.Time {
	if len(st.fills) == 0 {
		return time.Time{}
	}
	return st.fills[len(st.fills)-1].fill.At
}
