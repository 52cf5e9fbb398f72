package clinic

import "github.com/pumpledger/pumpledger/ledger"

// testCats is the catalogs a test's service derives with: an open
// ledger's pinned ones, or billDB's one.
func (db *Service) testCats() *catalogSet {
	if db.DB == nil {
		return db.cats.set
	}
	var s *catalogSet
	if err := db.View(func(tx *ledger.Tx) (err error) { s, err = db.catalogsIn(tx); return err }); err != nil {
		panic(err)
	}
	return s
}
