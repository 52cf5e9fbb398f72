package ledger

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/demo"
)

// The store's own tests write entries as the store sees them: envelopes
// around payloads, with no rule applied (the use cases are package
// clinic's, which imports this one).

// createRaw makes a ledger whose first entry is a stand-in for the pinned
// catalog, closed when t ends.
func createRaw(t testing.TB, opt Options) *DB {
	t.Helper()
	db, err := Create(filepath.Join(t.TempDir(), "raw.db"), opt, func(tx *Tx) ([]Entry, error) {
		return []Entry{tx.DB().Envelope("", KindCatalog, "clerk", pumpledger.NewInstant(tx.DB().Now()), Canonical(map[string]string{"name": "stand-in"}))}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// appendRaw appends entries as they are.
func appendRaw(db *DB, es ...Entry) (Written, error) {
	return db.Write(es[len(es)-1].ID, es[len(es)-1].Kind, es[len(es)-1].Payload, func(*Tx) ([]Entry, error) { return es, nil }, nil)
}

// demoLedger is a ledger holding the demo's history of opt, every event an
// entry as the clinic would file it (a correction voids its refill and
// records the replacement), closed when t ends.
func demoLedger(t testing.TB, opt demo.Options) *DB {
	t.Helper()
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	db := createRaw(t, Options{NoSync: true, Now: func() time.Time { return clock }})
	b, err := demo.WithMorphine(catalog.DefaultJSON())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(bytes.NewReader(b), "demo")
	if err != nil {
		t.Fatal(err)
	}
	err = db.Import(0, func() error {
		for _, ev := range demo.Generate(cat, opt) {
			var es []Entry
			switch ev.Kind {
			case pumpledger.KindPatient:
				es = []Entry{db.Envelope("", ev.Kind, "clerk", pumpledger.NewInstant(clock), Canonical(ev.Patient))}
			case pumpledger.KindImplant:
				at, _ := pumpledger.ParseDate(ev.Implant.Date)
				es = []Entry{db.Envelope("", ev.Kind, "md", pumpledger.NewInstant(at), Canonical(ev.Implant))}
			case pumpledger.KindRefill:
				es = []Entry{db.Envelope(ev.Refill.ID, ev.Kind, ev.Refill.Nurse, ev.Refill.PerformedAt, Canonical(ev.Refill))}
			case pumpledger.KindReprogram:
				es = []Entry{db.Envelope(ev.Reprogram.ID, ev.Kind, ev.Reprogram.Clinician, ev.Reprogram.PerformedAt, Canonical(ev.Reprogram))}
			case pumpledger.KindCorrection:
				c := ev.Correction
				r := *c.Refill
				if r.ID == "" {
					r.ID = uuid.NewString()
				}
				repl := db.Envelope(r.ID, pumpledger.KindRefill, c.By, r.PerformedAt, Canonical(r))
				es = []Entry{repl, db.Envelope("", ev.Kind, c.By, pumpledger.NewInstant(clock),
					Canonical(Correction{Voids: c.Voids, Reason: c.Reason, Replacement: repl.ID}))}
			}
			if _, err := appendRaw(db, es...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}
