package ledger

import (
	bolt "go.etcd.io/bbolt"
)

// testCats is the catalogs a test's DB derives with: an open ledger's
// pinned ones, or, for a DB value holding only a catalog (billDB), that one.
func (db *DB) testCats() *catalogSet {
	if db.bolt == nil {
		return &catalogSet{list: []*Pinned{{Version: 1, Catalog: db.cat}}}
	}
	var s *catalogSet
	if err := db.bolt.View(func(tx *bolt.Tx) (err error) { s, err = db.catalogsIn(tx); return err }); err != nil {
		panic(err)
	}
	return s
}
