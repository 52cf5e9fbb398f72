//go:build !sqlitepeer

package sqlitepeer

import "errors"

// Enabled says the peer was built in: not without -tags sqlitepeer, which
// keeps cgo and SQLite out of `make test`.
const Enabled = false

// Row is one entry as the peer stores it (see peer.go).
type Row struct {
	ID, Patient, Pump, Date string
	Body                    []byte
}

// DB is the peer file; without the tag there is none.
type DB struct{}

// Open says the peer is not built in.
func Open(string) (*DB, error) {
	return nil, errors.New("the SQLite peer is built only with -tags sqlitepeer")
}

// Append is never reached: Open fails.
func (*DB) Append(...Row) error { return errors.New("no SQLite peer") }

// Close does nothing.
func (*DB) Close() error { return nil }
