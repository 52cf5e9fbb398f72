package clinic

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// Appending. Each public method runs in one read-write transaction that
// checks the entry against what is recorded, appends it with its tree hashes
// and indexes, and signs a checkpoint of the new tree; it returns only after
// bbolt has committed. A refused entry writes nothing.

// Corrections: voiding an entry, with its replacement if any.

// Replacement is what a correction records in place of the voided entry:
// one of its fields set, of the voided entry's kind; all nil to only void.
type Replacement struct {
	Refill    *pumpledger.Refill
	Reprogram *pumpledger.Reprogram
	Patient   *pumpledger.Patient
	// Clinical is a clinical record (one of the seven kinds' types, or a
	// pointer to one).
	Clinical any
}

// Correct voids an entry with a reason, recording its replacement, if any,
// in the same transaction. The voided entry stays in the ledger and in
// history, marked; every view skips it. A correction itself cannot be
// voided (correct its replacement instead), nor can an entry twice.
func (db *Service) Correct(ctx context.Context, voidID, reason string, repl Replacement) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Result{}, pumpledger.Invalid("reason", "reason is empty; say why the entry is corrected, for the auditor.")
	}
	if strings.TrimSpace(voidID) == "" {
		return Result{}, pumpledger.Invalid("entry", "entry is empty; give the id of the entry to correct (see `pumpledger history`).")
	}
	if err := pumpledger.CheckText("reason", reason, true); err != nil {
		return Result{}, err
	}
	var affected []string // pumps whose chains the correction changes
	return db.write(ctx, "", pumpledger.KindCorrection, nil, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		old, err := tx.EntryByID(voidID)
		if err != nil {
			return nil, nil, err
		}
		if old.Kind == pumpledger.KindCorrection {
			return nil, nil, pumpledger.Invalid("entry", "Entry %s is a correction, which cannot be voided; correct its replacement instead.", voidID)
		}
		if old.Kind == pumpledger.KindCatalog {
			// The catalogs in force are every adoption: one voided would
			// still price bills. A wrong one is put right by adopting another.
			return nil, nil, pumpledger.Invalid("entry", "Entry %s adopts a catalog, which a correction cannot void; adopt the right one with `pumpledger catalog adopt FILE --reason TEXT --from DATE`.", voidID)
		}
		if old.Kind == pumpledger.KindKey {
			return nil, nil, pumpledger.Invalid("entry", "Entry %s rotates the signing key, which a correction cannot void; rotate again with `pumpledger key rotate`.", voidID)
		}
		if cseq, void := tx.VoidedBy(old.Seq); void {
			c, _ := tx.Entry(cseq)
			return nil, nil, pumpledger.Errorf(pumpledger.ECONFLICT, "Entry %s was already voided by correction %s on %s; correct its replacement instead.", voidID, c.ID, c.RecordedAt.Format(time.DateOnly))
		}
		var es []ledger.Entry
		var out Result
		c := ledger.Correction{Voids: old.ID, Reason: reason}
		_, affected, _, _ = ledger.Filing(old)
		if r, o, err := db.replacement(tx, old, by, repl); err != nil {
			return nil, nil, err
		} else if r != nil {
			c.Replacement = r.ID
			es, out = append(es, *r), o
			_, pumps, _, _ := ledger.Filing(*r)
			affected = append(affected, pumps...)
		}
		e := db.Envelope(uuid.NewString(), pumpledger.KindCorrection, by, pumpledger.NewInstant(db.Now()), ledger.Canonical(c))
		e.Late = false
		return append(es, e), &out, nil
	}, func(tx *ledger.Tx) error {
		// Voiding a registration under live entries would orphan them (they
		// would still be billed); replacing it (a name fixed) is fine.
		if old, _ := tx.EntryByID(voidID); old.Kind == pumpledger.KindPatient && repl.Patient == nil {
			p, _ := old.Patient()
			if seqs := tx.Filed(ledger.ByPatient, p.MRN); db.liveOtherThan(tx, seqs, old.Seq) {
				return pumpledger.Invalid("entry", "Patient %s has pumps or visits recorded; correct those entries first, or give a replacement registration.", p.MRN)
			}
		}
		return db.chainsDerive(tx, "correction", affected...)
	})
}

// liveOtherThan reports whether any of seqs other than skip is a live,
// non-correction entry.
func (db *Service) liveOtherThan(tx *ledger.Tx, seqs []int64, skip int64) bool {
	for _, seq := range seqs {
		if seq == skip {
			continue
		}
		if _, void := tx.VoidedBy(seq); void {
			continue
		}
		if e, err := tx.Entry(seq); err == nil && e.Kind != pumpledger.KindCorrection {
			return true
		}
	}
	return false
}

// replacement checks a correction's replacement against the ledger with the
// voided entry left out.
func (db *Service) replacement(tx *ledger.Tx, old ledger.Entry, by string, repl Replacement) (*ledger.Entry, Result, error) {
	kind, payload := repl.given()
	if payload == nil {
		return nil, Result{}, nil
	}
	if old.Kind != kind {
		return nil, Result{}, kindMismatch(old, kind)
	}
	replace := rules[kind].replace
	if replace == nil {
		return nil, Result{}, pumpledger.Invalid("file", "Entry %s is a %s; it can be voided but not replaced. Void it, then record the right one.", old.ID, old.Kind)
	}
	return replace(db, tx, old, by, payload)
}

// given is the kind and payload of the replacement, or nil.
func (r Replacement) given() (pumpledger.Kind, any) {
	switch {
	case r.Refill != nil:
		return pumpledger.KindRefill, *r.Refill
	case r.Reprogram != nil:
		return pumpledger.KindReprogram, *r.Reprogram
	case r.Patient != nil:
		return pumpledger.KindPatient, *r.Patient
	case r.Clinical != nil:
		return clinicalKind(r.Clinical), deref(r.Clinical)
	}
	return "", nil
}

// ReplacementFrom is the replacement a parsed input gives
// (pumpledger.ParseInput of the voided entry's kind).
func ReplacementFrom(v any) Replacement {
	var r Replacement
	switch p := v.(type) {
	case *pumpledger.Refill:
		r.Refill = p
	case *pumpledger.Reprogram:
		r.Reprogram = p
	case *pumpledger.Patient:
		r.Patient = p
	default:
		if clinicalKind(v) != "" {
			r.Clinical = v
		}
	}
	return r
}

// newReplacementID gives a replacement an id of its own.
func newReplacementID(tx *ledger.Tx, id string) (string, error) {
	id = newID(id)
	if tx.HasID(id) {
		return "", pumpledger.Invalid("id", "The replacement's id %s is already used; leave id out to have a new one made.", id)
	}
	return id, nil
}

func kindMismatch(old ledger.Entry, k pumpledger.Kind) error {
	return pumpledger.Invalid("file", "Entry %s is a %s; its replacement must be a %s too, not a %s.", old.ID, old.Kind, old.Kind, k)
}
