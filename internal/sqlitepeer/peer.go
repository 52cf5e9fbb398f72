//go:build sqlitepeer

// Package sqlitepeer is the benchmarks' peer: the ledger's entries stored the
// way a plain SQLite application would keep them, durably and chained, so
// that an append's cost can be set beside a well-known database's in the same
// run. It derives, checks and signs nothing.
//
// It is built only with -tags sqlitepeer (`make bench`), so `make test` and
// `go vet ./...` compile the stub in off.go and need neither cgo nor SQLite.
// The driver is github.com/mattn/go-sqlite3: the real SQLite C library (cgo),
// the one the earlier 0.34 ms figure and most deployments use; a pure-Go port
// (modernc.org/sqlite) is slower and would flatter the ledger.
package sqlitepeer

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net/url"

	_ "github.com/mattn/go-sqlite3"
)

// Enabled says the peer was built in (-tags sqlitepeer).
const Enabled = true

// Row is one entry as the peer stores it: its body and the keys the ledger
// indexes it by.
type Row struct {
	ID      string // unique: the ledger's id index
	Patient string // the patient index
	Pump    string // the pump index ("" for a patient's own entries)
	Date    string // the date index, YYYY-MM-DD
	Body    []byte // the entry as stored
}

// DB is an open peer file.
type DB struct {
	db     *sql.DB
	last   *sql.Stmt
	insert *sql.Stmt
}

const schema = `
CREATE TABLE IF NOT EXISTS entries (
	seq     INTEGER PRIMARY KEY,
	id      TEXT NOT NULL UNIQUE,
	patient TEXT NOT NULL,
	pump    TEXT NOT NULL,
	date    TEXT NOT NULL,
	body    BLOB NOT NULL,
	hash    BLOB NOT NULL -- SHA-256 of the previous row's hash and this body
);
CREATE INDEX IF NOT EXISTS by_patient ON entries (patient, seq);
CREATE INDEX IF NOT EXISTS by_pump ON entries (pump, seq);
CREATE INDEX IF NOT EXISTS by_date ON entries (date, seq);
`

// Open opens (creating if need be) the peer file at path: WAL journal,
// synchronous=FULL (every commit fsynced, as the ledger's), write
// transactions taken at BEGIN (IMMEDIATE) so that reading the chain's head
// and appending to it are one step.
func Open(path string) (*DB, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", "10000")
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one writer, as SQLite allows; callers queue here
	p := &DB{db: db}
	var mode string
	var sync int
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("sqlite peer %s: journal mode %q, want wal (%v)", path, mode, err)
	}
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		db.Close()
		return nil, fmt.Errorf("sqlite peer %s: synchronous %d, want 2 (FULL) (%v)", path, sync, err)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, err
	}
	if p.last, err = db.Prepare(`SELECT hash FROM entries ORDER BY seq DESC LIMIT 1`); err == nil {
		p.insert, err = db.Prepare(`INSERT INTO entries (id, patient, pump, date, body, hash) VALUES (?, ?, ?, ?, ?, ?)`)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

// Append stores rows in one transaction, each chained to the one before, and
// returns once the commit is on disk.
func (p *DB) Append(rows ...Row) error {
	tx, err := p.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var prev []byte
	if err := tx.Stmt(p.last).QueryRow().Scan(&prev); err != nil && err != sql.ErrNoRows {
		return err
	}
	ins := tx.Stmt(p.insert)
	for _, r := range rows {
		h := sha256.New()
		h.Write(prev)
		h.Write(r.Body)
		prev = h.Sum(nil)
		if _, err := ins.Exec(r.ID, r.Patient, r.Pump, r.Date, r.Body, prev); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the file.
func (p *DB) Close() error { return p.db.Close() }
