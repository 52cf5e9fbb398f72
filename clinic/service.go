// Package clinic is the clinic's record kept in a ledger: every use case
// (register a patient or a pump, record a refill or a dose change, correct
// an entry, adopt a catalog; a patient's history, a pump's chain, a bill)
// checks and derives with the rule packages (refill, billing, pump, vial,
// catalog) and reads and appends through the store (package ledger), which
// knows no rule. The command line, and later the server, only wire and
// print: they call a Service.
package clinic

import (
	"context"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
)

// Service is the clinic's record over one open ledger. The store's own
// operations (Verify, Checkpoint, Prove, Backup, Size, Import, Close, …)
// are the embedded DB's.
type Service struct {
	*ledger.DB
	items itemCache      // decoded pump entries (state.go)
	cats  pinnedCatalogs // the catalogs the ledger pins (catalogs.go)
}

// Open opens the ledger at path (see ledger.Open).
func Open(path string, opt ledger.Options) (*Service, error) {
	db, err := ledger.Open(path, opt)
	if err != nil {
		return nil, err
	}
	return &Service{DB: db}, nil
}

// Create makes a new ledger at path (see ledger.Create) whose first entry
// pins cat (nil: the embedded catalog), recorded by ctx's actor.
func Create(ctx context.Context, path string, opt ledger.Options, cat *catalog.Catalog) (*Service, error) {
	by, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if cat == nil {
		cat = catalog.Default()
	}
	s := &Service{}
	db, err := ledger.Create(path, opt, func(tx *ledger.Tx) ([]ledger.Entry, error) {
		s.DB = tx.DB()
		e, err := s.pinFirst(cat.JSON(), cat.Name(), "the catalog this ledger was created with", by)
		return []ledger.Entry{e}, err
	})
	if err != nil {
		return nil, err
	}
	s.DB = db
	return s, nil
}

// actor is the name of who records, from ctx (pumpledger.ActorFrom).
func actor(ctx context.Context) (string, error) {
	a, err := pumpledger.ActorFrom(ctx)
	return a.Name, err
}
