package clinic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pumpledger/pumpledger/ledger"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
)

// The catalog is held in the ledger. Every figure is derived from entries
// and a catalog; were the catalog a file read beside the ledger, replacing
// it would silently re-price every past bill while verify and checkpoint
// --since still passed. So each catalog in force is an entry (kind catalog,
// payload pumpledger.CatalogAdoption): its exact bytes and their SHA-256,
// inside the tree like any entry. An entry is derived with the catalog in
// force on its date of service: the adoption whose From is the latest on
// or before that date (among equal From dates, the later adoption). A
// ledger's first entry pins the catalog it was created with (From "", in
// force since the beginning); adopting another is an entry with a reason.

// ErrNoCatalog: a ledger holds no pinned catalog (written before schema 2).
var ErrNoCatalog = ledger.ErrSchemaOld

// MaxCatalogBytes bounds a catalog file (catalog.MaxBytes).
const MaxCatalogBytes = catalog.MaxBytes

// Pinned is one catalog adoption as the ledger holds it.
type Pinned struct {
	Version  int    // 1 for the first pinned, then in order of adoption
	Seq      int64  // its entry
	EntryID  string // its entry's id
	From     string // YYYY-MM-DD it is in force from; "" since the beginning
	SHA256   string // hex SHA-256 of Content
	Name     string // the file it was adopted from (base name)
	Reason   string
	By       string
	Recorded time.Time
	Content  []byte // the catalog file, byte for byte
	Catalog  *catalog.Catalog
}

// catalogSet is every catalog a ledger pins, sorted by From then Seq.
type catalogSet struct {
	count uint64 // how many adoptions by_kind listed when it was read (see catalogsIn)
	list  []*Pinned
}

// at is the catalog in force on date (YYYY-MM-DD).
func (s *catalogSet) at(date string) *Pinned {
	i := sort.Search(len(s.list), func(i int) bool { return s.list[i].From > date })
	if i == 0 {
		return s.list[0] // before every From: the first pinned (From "" sorts first)
	}
	return s.list[i-1]
}

// pinnedCatalogs guards the catalogs a DB derives with.
type pinnedCatalogs struct {
	mu  sync.Mutex
	set *catalogSet
}

// catalogKind is the by_kind key of catalog adoptions.
const catalogKind = string(pumpledger.KindCatalog)

// catalogsIn returns the catalogs pinned in the ledger as tx sees it,
// reading them again only when an adoption was appended since they were
// last read (by this process or another); the decoded pump entries, which
// were derived with the old set, are then dropped.
func (db *Service) catalogsIn(tx *ledger.Tx) (*catalogSet, error) {
	pins := tx.Filed(ledger.ByKind, catalogKind)
	n := uint64(len(pins))
	db.cats.mu.Lock()
	defer db.cats.mu.Unlock()
	if s := db.cats.set; s != nil && s.count == n {
		return s, nil
	}
	if n == 0 {
		return nil, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrNoCatalog, Message: fmt.Sprintf("The ledger %s holds no catalog (%v); it was written by an older pumpledger: run `pumpledger upgrade` to pin the catalog it used.", db.Path(), ErrNoCatalog)}
	}
	s := &catalogSet{count: n}
	for i, seq := range pins {
		e, err := tx.Entry(seq)
		if err != nil {
			return nil, err
		}
		p, err := pinnedOf(e)
		if err != nil {
			return nil, err
		}
		p.Version = i + 1
		s.list = append(s.list, p)
	}
	sort.SliceStable(s.list, func(i, j int) bool { return s.list[i].From < s.list[j].From })
	if db.cats.set != nil {
		db.items.clear()
	}
	db.cats.set = s
	return s, nil
}

// pinnedOf reads a catalog entry: its content must hash to the SHA-256 it
// records and load as a catalog. pumpledger writes only such entries, so
// anything else is a file altered outside it.
func pinnedOf(e ledger.Entry) (*Pinned, error) {
	var a pumpledger.CatalogAdoption
	if err := e.DecodePayload(&a); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(a.Content))
	if hex.EncodeToString(sum[:]) != a.SHA256 {
		return nil, ledger.Tampered(e.Seq, "the pinned catalog's content does not hash to the SHA-256 it records")
	}
	cat, err := catalog.Load(strings.NewReader(a.Content), fmt.Sprintf("catalog of entry %d", e.Seq))
	if err != nil {
		return nil, ledger.Tampered(e.Seq, "the pinned catalog does not load (%s)", strings.TrimSuffix(pumpledger.ErrorMessage(err), "."))
	}
	return &Pinned{Seq: e.Seq, EntryID: e.ID, From: a.From, SHA256: a.SHA256, Name: a.Name, Reason: a.Reason,
		By: e.RecordedBy, Recorded: e.RecordedAt, Content: []byte(a.Content), Catalog: cat}, nil
}

// catalogAt is the catalog in force on date, as tx sees the ledger.
func (db *Service) catalogAt(tx *ledger.Tx, date string) (*catalog.Catalog, error) {
	s, err := db.catalogsIn(tx)
	if err != nil {
		return nil, err
	}
	return s.at(date).Catalog, nil
}

// Catalogs lists every catalog the ledger pins, in the order they take
// force.
func (db *Service) Catalogs(_ context.Context) (_ []*Pinned, err error) {
	var out []*Pinned
	err = db.View(func(tx *ledger.Tx) error {
		s, err := db.catalogsIn(tx)
		if err == nil {
			out = append(out, s.list...)
		}
		return err
	})
	return out, err
}

// CatalogOn is the catalog in force on date (YYYY-MM-DD): today's for a
// plan, a refill's date for its figures.
func (db *Service) CatalogOn(_ context.Context, date string) (_ *Pinned, err error) {
	var p *Pinned
	err = db.View(func(tx *ledger.Tx) error {
		s, err := db.catalogsIn(tx)
		if err == nil {
			p = s.at(date)
		}
		return err
	})
	return p, err
}

// Catalog is the catalog in force today (the ledger clock's): what a plan
// or a new entry is checked against. Figures of recorded entries use the
// catalog in force on their date (CatalogOn).
func (db *Service) Catalog(ctx context.Context) (*catalog.Catalog, error) {
	p, err := db.CatalogOn(ctx, db.Today())
	if err != nil {
		return nil, err
	}
	return p.Catalog, nil
}

// adoption builds and checks a catalog adoption's payload.
func adoption(content []byte, name, reason, from string) (pumpledger.CatalogAdoption, *catalog.Catalog, error) {
	if len(content) > MaxCatalogBytes {
		return pumpledger.CatalogAdoption{}, nil, pumpledger.Invalid("catalog", "The catalog %s is %d bytes; a catalog is at most %d bytes: check the file.", name, len(content), MaxCatalogBytes)
	}
	cat, err := catalog.Load(bytes.NewReader(content), name)
	if err != nil {
		return pumpledger.CatalogAdoption{}, nil, err
	}
	sum := sha256.Sum256(content)
	a := pumpledger.CatalogAdoption{SHA256: hex.EncodeToString(sum[:]), From: from, Reason: strings.TrimSpace(reason),
		Name: filepath.Base(name), Content: string(content)}
	if err := checkTexts("reason", a.Reason, "name", a.Name); err != nil {
		return a, nil, err
	}
	return a, cat, nil
}

// AdoptCatalog records content as the catalog in force from date from
// (YYYY-MM-DD; "" = the ledger clock's today), with the reason for the
// auditor. Every refill and dose change dated on or after from is then
// derived with it: it is refused if any of them would no longer derive
// (a product they used is gone, say), and the result's Warnings say how
// many recorded visits it re-prices.
func (db *Service) AdoptCatalog(ctx context.Context, content []byte, name, reason, from string) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return Result{}, pumpledger.Invalid("reason", "reason is empty; say why this catalog is adopted, for the auditor.")
	}
	if from == "" {
		from = db.Today()
	}
	if _, err := pumpledger.ParseDate(from); err != nil {
		return Result{}, pumpledger.Invalid("from", "from must be a date like 2026-03-02, not %q.", from)
	}
	a, _, err := adoption(content, name, reason, from)
	if err != nil {
		return Result{}, err
	}
	payload := ledger.Canonical(a)
	var affected []string
	var repriced int
	return db.write(ctx, "", pumpledger.KindCatalog, payload, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		s, err := db.catalogsIn(tx)
		if err != nil {
			return nil, nil, err
		}
		if cur := s.at(from); cur.SHA256 == a.SHA256 {
			return nil, nil, pumpledger.Errorf(pumpledger.ECONFLICT, "This catalog (sha256 %s) is already the one in force on %s (version %d); nothing to adopt.", a.SHA256[:12], from, cur.Version)
		}
		// The visits dated on or after from are those it re-prices.
		affected, repriced = db.visitsFrom(tx, from)
		e := db.Envelope(newID(""), pumpledger.KindCatalog, by, pumpledger.NewInstant(db.Now()), payload)
		e.Late = false
		if repriced > 0 {
			e.Warnings = []string{fmt.Sprintf("This catalog is in force from %s, before today: %d recorded refill(s) and dose change(s) dated since are now derived with it; bills of those dates already exported differ from new ones.", from, repriced)}
		}
		return []ledger.Entry{e}, &Result{Warnings: e.Warnings}, nil
	}, func(tx *ledger.Tx) error {
		return db.chainsDerive(tx, "catalog", affected...)
	})
}

// visitsFrom lists the pumps with a live refill or dose change dated on or
// after date, and how many such visits there are.
func (db *Service) visitsFrom(tx *ledger.Tx, date string) (pumps []string, visits int) {
	seen := map[string]bool{}
	for _, seq := range tx.DatedFrom(date) {
		if _, void := tx.VoidedBy(seq); void {
			continue
		}
		e, err := tx.Entry(seq)
		if err != nil {
			continue // verify's to report; the derivation check below reads it again
		}
		_, ps, _, err := ledger.Filing(e)
		if err != nil {
			continue
		}
		visits++
		for _, s := range ps {
			if !seen[s] {
				seen[s] = true
				pumps = append(pumps, s)
			}
		}
	}
	return pumps, visits
}

// pinFirst builds the entry pinning a new (or upgraded) ledger's catalog,
// in force since the beginning.
func (db *Service) pinFirst(content []byte, name, reason, by string) (ledger.Entry, error) {
	a, _, err := adoption(content, name, reason, "")
	if err != nil {
		return ledger.Entry{}, err
	}
	e := db.Envelope(newID(""), pumpledger.KindCatalog, by, pumpledger.NewInstant(db.Now()), ledger.Canonical(a))
	e.Late = false
	return e, nil
}

// Upgrade brings a ledger written before the catalog was pinned (schema 1)
// to schema 2: it appends the entry pinning content, the catalog its entries
// were derived with, in force since the beginning, and nothing stored is
// rewritten. It refuses if the ledger's entries do not all derive with it.
func (db *Service) Upgrade(ctx context.Context, content []byte, name string) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	w, err := db.DB.Upgrade(func(tx *ledger.Tx) ([]ledger.Entry, error) {
		e, err := db.pinFirst(content, name, "pinned on upgrade: the catalog this ledger's entries were derived with", by)
		return []ledger.Entry{e}, err
	}, func(tx *ledger.Tx) error {
		for _, s := range tx.Pumps() {
			if err := db.checkPump(tx, s); err != nil {
				return pumpledger.Invalid("catalog", "Pump %s's entries do not derive with the catalog %s (%s); upgrade with the catalog they were recorded with.",
					s, filepath.Base(name), strings.TrimSuffix(pumpledger.ErrorMessage(err), "."))
			}
		}
		return nil
	})
	if err != nil {
		db.forgetCatalogs()
		return Result{}, err
	}
	return Result{Entry: w.Entry()}, nil
}

// forgetCatalogs drops the catalogs read so far: the next transaction reads
// them again (after a rolled-back write that may have appended one).
func (db *Service) forgetCatalogs() {
	db.cats.mu.Lock()
	db.cats.set = nil
	db.cats.mu.Unlock()
	db.items.clear()
}

// Verify is the store's verify (every entry against the tree, the indexes,
// the signed checkpoints), then every pinned catalog read back: its bytes
// must hash to the SHA-256 its entry records and load as a catalog, so the
// figures derived with it can be derived again.
func (db *Service) Verify() (ledger.VerifyResult, error) {
	res, err := db.DB.Verify()
	if err != nil {
		return res, err
	}
	db.forgetCatalogs() // read them from the file, not from what this process kept
	return res, db.View(func(tx *ledger.Tx) error {
		_, err := db.catalogsIn(tx)
		return err
	})
}
