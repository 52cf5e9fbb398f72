package ledger

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Importing. A clinic's appends are one transaction each: one fsync and one
// signed checkpoint per entry, which is what makes each acknowledgement
// durable. A generator of many entries known in advance (the demo, the
// benchmarks' large ledgers) would spend nearly all its time in those, so
// Import groups its appends into shared transactions. Every append is still
// checked and derived exactly as alone; only the commit and the checkpoint
// are shared.

// DefaultImportGroup is how many appends Import commits at a time when the
// caller does not say.
const DefaultImportGroup = 1000

// importer is the open group of an Import (DB.imp).
type importer struct {
	every   int
	tx      *bolt.Tx
	pending int   // appends in tx
	failed  error // an append failed inside tx: tx may hold part of it
}

// Import runs fn, which appends through db's usual methods (AddPatient,
// Implant, RecordRefill, ...), committing every group appends in one
// transaction with one signed checkpoint of the tree it leaves. An append
// returns before its group commits: nothing fn is told is durable until
// Import returns nil. If an append or fn fails, the open group is rolled
// back (bbolt has no savepoints, so the group may hold part of the failed
// append) and Import returns the error; earlier groups stay committed, each
// of their entries checked. fn must be the only writer of db meanwhile.
func (db *DB) Import(group int, fn func() error) (err error) {
	if group < 1 {
		group = DefaultImportGroup
	}
	if db.imp != nil {
		return errors.New("ledger: Import called inside Import")
	}
	k, err := db.signingKey()
	if err != nil {
		return err
	}
	imp := &importer{every: group}
	db.imp = imp
	defer func() {
		db.imp = nil
		if imp.tx != nil {
			_ = imp.tx.Rollback()
		}
	}()
	if err := fn(); err != nil {
		return err
	}
	if imp.failed != nil {
		return imp.failed
	}
	return db.commitImport(imp, k)
}

// importUpdate runs fn in the import's open transaction, beginning one if
// none is open and committing it when the group is full.
func (db *DB) importUpdate(fn func(*bolt.Tx) error) error {
	imp := db.imp
	if imp.failed != nil {
		return fmt.Errorf("an earlier append of this import failed: %w", imp.failed)
	}
	if imp.tx == nil {
		tx, err := db.bolt.Begin(true)
		if err != nil {
			return fmt.Errorf("begin import group in %s: %w", db.path, err)
		}
		imp.tx = tx
	}
	if err := fn(imp.tx); err != nil {
		var ex errExisting
		if !errors.As(err, &ex) { // a replayed id writes nothing before it returns
			imp.failed = err
		}
		return err
	}
	imp.pending++
	if imp.pending < imp.every {
		return nil
	}
	k, err := db.signingKey()
	if err != nil {
		return err
	}
	return db.commitImport(imp, k)
}

// commitImport signs a checkpoint of the open group's tree and commits it.
func (db *DB) commitImport(imp *importer, k *keys) error {
	if imp.tx == nil {
		return nil
	}
	tx := imp.tx
	imp.tx, imp.pending = nil, 0
	t, err := treeAt(tx)
	if err == nil {
		_, err = db.signCheckpoint(tx, k, t)
	}
	if err != nil {
		_ = tx.Rollback()
		imp.failed = err
		return err
	}
	if err := tx.Commit(); err != nil {
		imp.failed = err
		return fmt.Errorf("commit import group to %s: %w", db.path, err)
	}
	db.sawCommitted(t.N)
	return nil
}
