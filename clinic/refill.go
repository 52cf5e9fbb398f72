package clinic

import (
	"context"
	"fmt"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/refill"
)

// Appending. Each public method runs in one read-write transaction that
// checks the entry against what is recorded, appends it with its tree hashes
// and indexes, and signs a checkpoint of the new tree; it returns only after
// bbolt has committed. A refused entry writes nothing.

// Refills: recording one, what it tells its pump's history, and what it
// bills.

// refillEntry checks and derives a refill against the pump's state.
// It returns the pump's state before the refill too.
func (db *Service) refillEntry(tx *ledger.Tx, r pumpledger.Refill, skip int64, by string) (ledger.Entry, *refill.Record, *pumpState, []RefillAuthorization, error) {
	st, err := db.livePump(tx, r.MRN, r.PumpSerial, r.PerformedAt.UTC, skip)
	if err != nil {
		return ledger.Entry{}, nil, nil, nil, err
	}
	// A refill at the very time of another is refused. A second refill of
	// one pump on one day is most often the first one recorded again (a
	// form opened afresh, a time retyped): said, never refused, since a
	// refill can be redone the same day.
	var sameDay []string
	for _, f := range st.fills {
		if f.fill.At.Equal(r.PerformedAt.UTC) {
			return ledger.Entry{}, nil, nil, nil, pumpledger.Errorf(pumpledger.ECONFLICT, "A refill of pump %s at %s is already recorded (entry %s); if this one replaces it, run `pumpledger correct --entry %s --reason \"what was wrong\" --file FILE` with this input as FILE.",
				r.PumpSerial, r.PerformedAt, f.entry.ID, f.entry.ID)
		}
		if f.date == r.PerformedAt.Date() && f.entry.ID != r.ID {
			sameDay = append(sameDay, fmt.Sprintf("A refill of pump %s is already recorded on %s (at %s, entry %s); if this is that refill again, correct that entry instead of recording a second.",
				r.PumpSerial, f.date, pumpledger.NewInstant(f.entry.PerformedAt).String(), f.entry.ID))
		}
	}
	rec, err := refill.Derive(st.cats.at(r.PerformedAt.Date()).Catalog, r, st.history(r.PerformedAt.UTC), db.Now())
	if err != nil {
		return ledger.Entry{}, nil, nil, nil, err
	}
	rec.Warnings = append(rec.Warnings, db.serviceConflicts(st, r.MRN, r.PerformedAt.Date(), r.Procedure, r.ID)...)
	rec.Warnings = append(rec.Warnings, sameDay...)
	e := db.Envelope(r.ID, pumpledger.KindRefill, by, r.PerformedAt, ledger.Canonical(r))
	// What it draws of the patient's prior authorizations, as recorded
	// now: a refill beyond one is recorded with a warning.
	dd, err := db.drawdownOf(tx, r.MRN, &e, skip)
	if err != nil {
		return ledger.Entry{}, nil, nil, nil, err
	}
	rec.Warnings = append(rec.Warnings, dd.warnings[e.ID]...)
	e.Warnings = rec.Warnings
	return e, &rec, st, dd.byRefill[e.ID], nil
}

// RecordRefill appends a refill recorded by by (recorded_by: the actor
// who recorded it, apart from the refill's nurse and witness).
func (db *Service) RecordRefill(ctx context.Context, r pumpledger.Refill) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	r.ID = newID(r.ID)
	payload := ledger.Canonical(r)
	var before *pumpState
	res, err := db.write(ctx, r.ID, pumpledger.KindRefill, payload, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		e, rec, st, auths, err := db.refillEntry(tx, r, -1, by)
		if err != nil {
			return nil, nil, err
		}
		before = st
		return []ledger.Entry{e}, &Result{Record: rec, Warnings: rec.Warnings, Authorizations: auths}, nil
	}, db.lateCheck(&before, r.PerformedAt.UTC, "late refill"))
	if err != nil {
		return res, err
	}
	if res.Existing {
		rec, err := db.RefillRecord(ctx, res.Entry.ID)
		if err != nil {
			return res, err
		}
		res.Record = &rec
	}
	return res, nil
}

// decodeRefill reads the fill a refill left, with its stability limit in a
// pump that already held its drugs (refill.HeldStability).
func decodeRefill(cats *catalogSet, it *pumpItem) (err error) {
	if it.refill, err = it.entry.Refill(); err != nil {
		return err
	}
	it.date = it.refill.PerformedAt.Date()
	cat := cats.at(it.date).Catalog
	it.fill = refill.FillOf(cat, it.refill)
	it.stabilityHeld, it.stabilityHeldDrug = refill.HeldStability(cat, it.refill, it.fill)
	return nil
}

func intoRefill(st *pumpState, it *pumpItem) {
	st.fills = append(st.fills, fillEntry{entry: it.entry, refill: it.refill, fill: it.fill, date: it.date,
		stabilityHeld: it.stabilityHeld, stabilityHeldDrug: it.stabilityHeldDrug})
}

// refillLines are a refill's drug and service lines (refill.Lines).
func refillLines(cats *catalogSet, e ledger.Entry) ([]billing.Line, error) {
	r, err := e.Refill()
	if err != nil {
		return nil, err
	}
	return refillLinesOf(cats, e, r)
}

// refillLinesOf are the claim lines of refill entry e, its payload r.
func refillLinesOf(cats *catalogSet, e ledger.Entry, r pumpledger.Refill) ([]billing.Line, error) {
	ls, err := refill.Lines(cats.at(r.PerformedAt.Date()).Catalog, r)
	if err != nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "re-derive the claim lines of refill %s (entry %d): %s", e.ID, e.Seq, pumpledger.ErrorMessage(err))
	}
	return ls, nil
}

// replaceRefill checks a correction's replacement refill against the
// pump's entries with the voided one left out.
func replaceRefill(db *Service, tx *ledger.Tx, old ledger.Entry, by string, payload any) (*ledger.Entry, Result, error) {
	r := payload.(pumpledger.Refill)
	var err error
	if r.ID, err = newReplacementID(tx, r.ID); err != nil {
		return nil, Result{}, err
	}
	e, rec, _, auths, err := db.refillEntry(tx, r, old.Seq, by)
	if err != nil {
		return nil, Result{}, err
	}
	return &e, Result{Record: rec, Warnings: rec.Warnings, Authorizations: auths}, nil
}
