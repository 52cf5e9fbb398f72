package clinic

import (
	"context"
	"fmt"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/refill"
)

// Appending. Each public method runs in one read-write transaction that
// checks the entry against what is recorded, appends it with its tree hashes
// and indexes, and signs a checkpoint of the new tree; it returns only after
// bbolt has committed. A refused entry writes nothing.

// Dose changes: recording one, what it tells its pump's history, and what
// it bills.

// reprogramEntry checks a dose change against the pump's state and says
// when the fill is now due for refill.
func (db *Service) reprogramEntry(tx *ledger.Tx, r pumpledger.Reprogram, skip int64, by string) (ledger.Entry, *Result, error) {
	e, res, _, err := db.reprogramState(tx, r, skip, by)
	return e, res, err
}

// reprogramState is reprogramEntry, returning the pump's state before the
// dose change too.
func (db *Service) reprogramState(tx *ledger.Tx, r pumpledger.Reprogram, skip int64, by string) (ledger.Entry, *Result, *pumpState, error) {
	st, err := db.livePump(tx, r.MRN, r.PumpSerial, r.PerformedAt.UTC, skip)
	if err != nil {
		return ledger.Entry{}, nil, nil, err
	}
	for _, c := range st.changes {
		if c.change.At.Equal(r.PerformedAt.UTC) {
			return ledger.Entry{}, nil, nil, pumpledger.Errorf(pumpledger.ECONFLICT, "A dose change of pump %s at %s is already recorded (entry %s); if this one replaces it, run `pumpledger correct --entry %s --reason \"what was wrong\" --file FILE` with this input as FILE.",
				r.PumpSerial, r.PerformedAt, c.entry.ID, c.entry.ID)
		}
	}
	h := st.history(r.PerformedAt.UTC)
	cat := st.cats.at(r.PerformedAt.Date()).Catalog
	warnings, err := refill.CheckReprogram(cat, r, h, db.Now())
	if err != nil {
		return ledger.Entry{}, nil, nil, err
	}
	warnings = append(warnings, db.serviceConflicts(st, r.MRN, r.PerformedAt.Date(), r.Procedure, r.ID)...)
	// When the fill in the reservoir is now due; not for a change recorded
	// late, behind a fill that has replaced it.
	next := pump.DoseChange{At: r.PerformedAt.UTC, Drug: drugName(cat, r.Dose.Drug), MCGPerDay: r.Dose.MCGPerDay}
	var due refill.Due
	if !st.lastFillAt().After(next.At) {
		due, _ = refill.NextRefillAfter(h, next, r.PerformedAt.Offset)
		if due.Now {
			warnings = append(warnings, fmt.Sprintf("REFILL NOW: %s.", due.Reason))
		}
	}
	e := db.Envelope(r.ID, pumpledger.KindReprogram, by, r.PerformedAt, ledger.Canonical(r))
	e.Warnings = warnings
	return e, &Result{Warnings: warnings, NextRefillDue: due.Date, NextRefillReason: due.Reason}, st, nil
}

// RecordReprogram appends a dose change recorded by by.
func (db *Service) RecordReprogram(ctx context.Context, r pumpledger.Reprogram) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	r.ID = newID(r.ID)
	var before *pumpState
	return db.write(ctx, r.ID, pumpledger.KindReprogram, ledger.Canonical(r), func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		e, res, st, err := db.reprogramState(tx, r, -1, by)
		if err != nil {
			return nil, nil, err
		}
		before = st
		return []ledger.Entry{e}, res, nil
	}, db.lateCheck(&before, r.PerformedAt.UTC, "late dose change"))
}

// decodeReprogram reads the dose a change programmed.
func decodeReprogram(cats *catalogSet, it *pumpItem) error {
	r, err := it.entry.Reprogram()
	if err != nil {
		return err
	}
	it.change = changeEntry{entry: it.entry, change: pump.DoseChange{At: r.PerformedAt.UTC, Drug: drugName(cats.at(r.PerformedAt.Date()).Catalog, r.Dose.Drug), MCGPerDay: r.Dose.MCGPerDay},
		procedure: r.Procedure, date: r.PerformedAt.Date()}
	return nil
}

func intoReprogram(st *pumpState, it *pumpItem) { st.changes = append(st.changes, it.change) }

// reprogramLines is a dose change's service line (refill.ReprogramLines).
func reprogramLines(cats *catalogSet, e ledger.Entry) ([]billing.Line, error) {
	r, err := e.Reprogram()
	if err != nil {
		return nil, err
	}
	return refill.ReprogramLines(cats.at(r.PerformedAt.Date()).Catalog, r), nil
}

// replaceReprogram checks a correction's replacement dose change against
// the pump's entries with the voided one left out.
func replaceReprogram(db *Service, tx *ledger.Tx, old ledger.Entry, by string, payload any) (*ledger.Entry, Result, error) {
	r := payload.(pumpledger.Reprogram)
	var err error
	if r.ID, err = newReplacementID(tx, r.ID); err != nil {
		return nil, Result{}, err
	}
	e, res, err := db.reprogramEntry(tx, r, old.Seq, by)
	if err != nil {
		return nil, Result{}, err
	}
	return &e, *res, nil
}
