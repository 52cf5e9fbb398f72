package clinic

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/refill"
)

// Appending. Each public method runs in one read-write transaction that
// checks the entry against what is recorded, appends it with its tree hashes
// and indexes, and signs a checkpoint of the new tree; it returns only after
// bbolt has committed. A refused entry writes nothing.

// Result is an appended (or, for a replayed id, an already recorded) entry.
type Result struct {
	Entry ledger.Entry
	// Existing: the id was already recorded with the same content; nothing
	// was written (idempotent replay).
	Existing bool
	// Record is the derived refill, for refill entries.
	Record *refill.Record
	// Warnings are the clinical warnings, for refills and reprogrammings.
	Warnings []string
	// Replacement is the entry a correction recorded in place of the voided one.
	Replacement *ledger.Entry
	// NextRefillDue is, for a dose change, when the fill is now due for
	// refill (YYYY-MM-DD), and why.
	NextRefillDue, NextRefillReason string
	// Authorizations are what a refill drew of the patient's prior
	// authorizations, with what is left of each after it.
	Authorizations []RefillAuthorization
}

// write appends through the store (ledger.DB.Write) the entries fn
// derives, with what fn derived of them (r); fn may run more than once, so
// only its last run's result is kept. For a ctx of Preview it runs the
// same transaction and rolls it back (ledger.DB.Preview).
func (db *Service) write(ctx context.Context, id string, kind pumpledger.Kind, payload []byte, fn func(tx *ledger.Tx) ([]ledger.Entry, *Result, error), check func(tx *ledger.Tx) error) (Result, error) {
	var res Result
	write := db.DB.Write
	preview := IsPreview(ctx)
	switch {
	case preview && (kind == pumpledger.KindRefill || kind == pumpledger.KindReprogram):
		// The forms' live previews: derived in a read transaction, beside
		// each other and beside appends (a late one falls back to Preview).
		write = db.DB.PreviewRead
	case preview:
		write = db.DB.Preview
	}
	w, err := write(id, kind, payload, func(tx *ledger.Tx) ([]ledger.Entry, error) {
		ps, r, err := fn(tx)
		res = Result{}
		if r != nil {
			res = *r
		}
		return ps, err
	}, check)
	if err != nil || preview && kind == pumpledger.KindCatalog {
		db.forgetCatalogs() // they may have been read from the rolled-back transaction
	}
	if err != nil {
		return Result{}, err
	}
	if w.Existing {
		e := w.Entry()
		return Result{Entry: e, Existing: true, Warnings: e.Warnings}, nil
	}
	// The entry asked for is the last; a correction's replacement precedes
	// it so that the correction can name it.
	res.Entry = w.Entry()
	if len(w.Entries) > 1 {
		res.Replacement = &w.Entries[0]
	}
	return res, nil
}

type previewKey struct{}

// Preview returns ctx asking every recording use case to check and derive
// as it would record, and write nothing (a dry run on a ledger held open
// for writing: the server's preview of a form).
func Preview(ctx context.Context) context.Context {
	return context.WithValue(ctx, previewKey{}, true)
}

// IsPreview reports whether ctx asks for a preview (Preview).
func IsPreview(ctx context.Context) bool {
	v, _ := ctx.Value(previewKey{}).(bool)
	return v
}

func newID(id string) string {
	if id == "" {
		return uuid.NewString()
	}
	return id
}

// dateInstant is a calendar date as an instant (00:00 UTC) for entries that
// carry no time of day.
func dateInstant(field, date string) (pumpledger.Instant, error) {
	t, err := pumpledger.ParseDate(date)
	if err != nil {
		return pumpledger.Instant{}, pumpledger.Invalid(field, "%s must be a date like 2026-03-02, not %q.", field, date)
	}
	return pumpledger.NewInstant(t), nil
}

// checkTexts refuses invisible and control characters in identifiers typed
// on the command line (field, value pairs), as the JSON inputs do: an MRN
// with a zero-width space would register a second patient who prints exactly
// like the first.
func checkTexts(fieldValues ...string) error {
	for i := 0; i+1 < len(fieldValues); i += 2 {
		if err := pumpledger.CheckText(fieldValues[i], fieldValues[i+1], false); err != nil {
			return err
		}
	}
	return nil
}

// lateCheck is the post-write check of an entry dated before others of its
// pump: the pump's later figures, which it changes, must still derive. An
// entry after all the others changes nothing earlier and is not re-derived.
// *before is the pump's state the entry was checked against, set by the
// write (the same transaction: nothing else has changed it since).
func (db *Service) lateCheck(before **pumpState, at time.Time, what string) func(tx *ledger.Tx) error {
	return func(tx *ledger.Tx) error {
		st := *before
		later := st.lastFillAt().After(at)
		for _, c := range st.changes {
			later = later || c.change.At.After(at)
		}
		if !later {
			return nil
		}
		if !tx.Writable() { // a preview in a read transaction: the later entries need this one in the tree
			return ledger.ErrPreviewNeedsWrite
		}
		return db.chainsDerive(tx, what, st.serial)
	}
}

// drugName resolves a name, code or alias to the catalog's drug name.
func drugName(cat *catalog.Catalog, key string) string {
	if d, ok := cat.Drug(key); ok {
		return d.Name
	}
	return key
}

// chainsDerive checks, inside a write, that every figure of the pumps still
// derives: voiding an implant under refills, a fill whose removal or late
// insertion makes a later one impossible, is refused rather than breaking
// every bill after it.
func (db *Service) chainsDerive(tx *ledger.Tx, what string, serials ...string) error {
	for _, serial := range serials {
		if err := db.checkPump(tx, serial); err != nil {
			return pumpledger.Invalid("entry", "This %s would leave pump %s's later entries underivable (%s); correct those entries first.",
				what, serial, strings.TrimSuffix(pumpledger.ErrorMessage(err), "."))
		}
	}
	return nil
}

// checkPump derives every live refill of a pump and checks every live dose
// change against the fill it was programmed into.
func (db *Service) checkPump(tx *ledger.Tx, serial string) error {
	st, err := db.loadPump(tx, serial, -1)
	if err != nil {
		return err
	}
	if _, err := db.chain(st); err != nil {
		return err
	}
	for _, c := range st.changes {
		r, err := c.entry.Reprogram()
		if err != nil {
			return err
		}
		if _, err := refill.CheckReprogram(st.cats.at(c.date).Catalog, r, st.history(c.change.At), farFuture); err != nil {
			return pumpledger.Errorf(pumpledger.EINVALID, "dose change %s: %s", c.entry.ID, pumpledger.ErrorMessage(err))
		}
	}
	return nil
}
