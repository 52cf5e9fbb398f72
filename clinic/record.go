package clinic

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/pump"
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
}

// write appends through the store (ledger.DB.Write) the entries fn
// derives, with what fn derived of them (r); fn may run more than once, so
// only its last run's result is kept.
func (db *Service) write(id string, kind pumpledger.Kind, payload []byte, fn func(tx *ledger.Tx) ([]ledger.Entry, *Result, error), check func(tx *ledger.Tx) error) (Result, error) {
	var res Result
	w, err := db.DB.Write(id, kind, payload, func(tx *ledger.Tx) ([]ledger.Entry, error) {
		ps, r, err := fn(tx)
		res = Result{}
		if r != nil {
			res = *r
		}
		return ps, err
	}, check)
	if err != nil {
		db.forgetCatalogs() // they may have been read from the rolled-back transaction
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

// AddPatient registers a patient. Registering the same MRN with the same name
// again is a no-op; with another name it is refused (correct the entry).
func (db *Service) AddPatient(ctx context.Context, p pumpledger.Patient) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	p.MRN, p.Name = strings.TrimSpace(p.MRN), strings.TrimSpace(p.Name)
	if p.MRN == "" {
		return Result{}, pumpledger.Invalid("mrn", "mrn is empty; give the patient's medical record number.")
	}
	if p.Name == "" {
		return Result{}, pumpledger.Invalid("name", "name is empty; give the patient's name.")
	}
	if err := checkTexts("mrn", p.MRN, "name", p.Name); err != nil {
		return Result{}, err
	}
	if err := pumpledger.CheckMRN("mrn", p.MRN); err != nil {
		return Result{}, err
	}
	payload := ledger.Canonical(p)
	return db.write("", pumpledger.KindPatient, payload, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		if seq, ok := db.patientSeq(tx, p.MRN); ok {
			e, err := tx.Entry(seq)
			if err != nil {
				return nil, nil, err
			}
			if bytes.Equal(e.Payload, payload) {
				return nil, nil, ledger.Already(e)
			}
			return nil, nil, pumpledger.Errorf(pumpledger.ECONFLICT, "MRN %s is already registered (entry %s) under another name; to fix the name use `pumpledger correct --entry %s`.", p.MRN, e.ID, e.ID)
		}
		e := db.Envelope(uuid.NewString(), pumpledger.KindPatient, by, pumpledger.NewInstant(db.Now()), payload)
		e.Late = false
		return []ledger.Entry{e}, nil, nil
	}, nil)
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

// patientSeq finds the live registration of an MRN.
func (db *Service) patientSeq(tx *ledger.Tx, mrn string) (int64, bool) {
	for _, seq := range tx.Filed(ledger.ByPatient, mrn) {
		if _, void := tx.VoidedBy(seq); void {
			continue
		}
		if e, err := tx.Entry(seq); err == nil && e.Kind == pumpledger.KindPatient {
			if p, err := e.Patient(); err == nil && p.MRN == mrn {
				return seq, true
			}
		}
	}
	return 0, false
}

// Implant registers a pump in a patient.
func (db *Service) Implant(ctx context.Context, im pumpledger.Implant) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	im.MRN, im.Serial, im.Model = strings.TrimSpace(im.MRN), strings.TrimSpace(im.Serial), strings.TrimSpace(im.Model)
	if im.Serial == "" {
		return Result{}, pumpledger.Invalid("serial", "serial is empty; give the pump's serial number.")
	}
	if err := checkTexts("mrn", im.MRN, "serial", im.Serial); err != nil {
		return Result{}, err
	}
	when, err := dateInstant("date", im.Date)
	if err != nil {
		return Result{}, err
	}
	if when.UTC.After(db.Now()) {
		return Result{}, pumpledger.Invalid("date", "date %s is in the future; record the implant after it is done.", im.Date)
	}
	return db.write("", pumpledger.KindImplant, nil, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		cat, err := db.catalogAt(tx, im.Date)
		if err != nil {
			return nil, nil, err
		}
		m, ok := cat.Pump(im.Model)
		if !ok {
			return nil, nil, pumpledger.Invalid("model", "model %q is not a pump model of the catalog; use one of %s.", im.Model, strings.Join(cat.PumpIDs(), ", "))
		}
		held := make([]string, len(im.Held))
		for i, d := range im.Held {
			drug, ok := cat.Drug(d)
			if !ok {
				return nil, nil, pumpledger.Invalid("held", "held %q is not a drug of the catalog; see `pumpledger catalog`.", d)
			}
			held[i] = drug.Name
		}
		im := im
		if len(held) > 0 {
			im.Held = held
		}
		if im.AlarmML.Valid && (!im.AlarmML.Decimal.IsPositive() || !im.AlarmML.Decimal.LessThan(m.ReservoirML)) {
			return nil, nil, pumpledger.Invalid("alarm_ml", "alarm_ml %s must be more than 0 and less than the %s mL reservoir.", im.AlarmML.Decimal, m.ReservoirML)
		}
		payload := ledger.Canonical(im)
		if _, ok := db.patientSeq(tx, im.MRN); !ok {
			return nil, nil, unknownPatient(im.MRN)
		}
		st, err := db.loadPump(tx, im.Serial, -1)
		if err != nil {
			return nil, nil, err
		}
		if st.implant != nil && st.explant == nil {
			if bytes.Equal(st.implantE.Payload, payload) {
				return nil, nil, ledger.Already(st.implantE)
			}
			return nil, nil, pumpledger.Errorf(pumpledger.ECONFLICT, "Pump %s is already implanted in patient %s (entry %s); correct that entry if it is wrong.", im.Serial, st.implant.MRN, st.implantE.ID)
		}
		e := db.Envelope(uuid.NewString(), pumpledger.KindImplant, by, when, payload)
		return []ledger.Entry{e}, nil, nil
	}, nil)
}

func unknownPatient(mrn string) error {
	return pumpledger.Errorf(pumpledger.ENOTFOUND, "Unknown patient %s; register the patient first with `pumpledger patient add --mrn %s --name NAME`.", mrn, mrn)
}

// livePump checks the pump exists, is the patient's, and was in place at t.
func (db *Service) livePump(tx *ledger.Tx, mrn, serial string, at time.Time, skip int64) (*pumpState, error) {
	if _, ok := db.patientSeq(tx, mrn); !ok {
		return nil, unknownPatient(mrn)
	}
	st, err := db.loadPump(tx, serial, skip)
	if err != nil {
		return nil, err
	}
	if st.implant == nil {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "Unknown pump %s; register it with `pumpledger pump implant --mrn %s --serial %s --model ID --date YYYY-MM-DD`.", serial, mrn, serial)
	}
	if st.implant.MRN != mrn {
		return nil, pumpledger.Invalid("pump_serial", "pump_serial %s is not patient %s's pump; check the serial or the MRN.", serial, mrn)
	}
	if at.Before(st.implantE.PerformedAt) {
		return nil, pumpledger.Invalid("performed_at", "performed_at is before pump %s was implanted on %s; check the date.", serial, st.implant.Date)
	}
	if st.explant != nil {
		if ex, _ := dateInstant("date", st.explant.Date); !at.Before(ex.UTC) {
			return nil, pumpledger.Invalid("pump_serial", "pump %s was explanted on %s; check the serial.", serial, st.explant.Date)
		}
	}
	return st, nil
}

// refillEntry checks and derives a refill against the pump's state.
// It returns the pump's state before the refill too.
func (db *Service) refillEntry(tx *ledger.Tx, r pumpledger.Refill, skip int64, by string) (ledger.Entry, *refill.Record, *pumpState, error) {
	st, err := db.livePump(tx, r.MRN, r.PumpSerial, r.PerformedAt.UTC, skip)
	if err != nil {
		return ledger.Entry{}, nil, nil, err
	}
	for _, f := range st.fills {
		if f.fill.At.Equal(r.PerformedAt.UTC) {
			return ledger.Entry{}, nil, nil, pumpledger.Errorf(pumpledger.ECONFLICT, "A refill of pump %s at %s is already recorded (entry %s); if this one replaces it, run `pumpledger correct --entry %s --reason \"what was wrong\" --file FILE` with this input as FILE.",
				r.PumpSerial, r.PerformedAt, f.entry.ID, f.entry.ID)
		}
	}
	rec, err := refill.Derive(st.cats.at(r.PerformedAt.Date()).Catalog, r, st.history(r.PerformedAt.UTC), db.Now())
	if err != nil {
		return ledger.Entry{}, nil, nil, err
	}
	rec.Warnings = append(rec.Warnings, db.serviceConflicts(st, r.MRN, r.PerformedAt.Date(), r.Procedure, r.ID)...)
	e := db.Envelope(r.ID, pumpledger.KindRefill, by, r.PerformedAt, ledger.Canonical(r))
	e.Warnings = rec.Warnings
	return e, &rec, st, nil
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
	res, err := db.write(r.ID, pumpledger.KindRefill, payload, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		e, rec, st, err := db.refillEntry(tx, r, -1, by)
		if err != nil {
			return nil, nil, err
		}
		before = st
		return []ledger.Entry{e}, &Result{Record: rec, Warnings: rec.Warnings}, nil
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

// RecordReprogram appends a dose change recorded by by.
func (db *Service) RecordReprogram(ctx context.Context, r pumpledger.Reprogram) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	r.ID = newID(r.ID)
	var before *pumpState
	return db.write(r.ID, pumpledger.KindReprogram, ledger.Canonical(r), func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		e, res, st, err := db.reprogramState(tx, r, -1, by)
		if err != nil {
			return nil, nil, err
		}
		before = st
		return []ledger.Entry{e}, res, nil
	}, db.lateCheck(&before, r.PerformedAt.UTC, "late dose change"))
}

// Replacement is what a correction records in place of the voided entry:
// one of its fields set, of the voided entry's kind; all nil to only void.
type Replacement struct {
	Refill    *pumpledger.Refill
	Reprogram *pumpledger.Reprogram
	Patient   *pumpledger.Patient
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
	return db.write("", pumpledger.KindCorrection, nil, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
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
	switch {
	case repl.Refill != nil:
		if old.Kind != pumpledger.KindRefill {
			return nil, Result{}, kindMismatch(old, pumpledger.KindRefill)
		}
		r := *repl.Refill
		r.ID = newID(r.ID)
		if tx.HasID(r.ID) {
			return nil, Result{}, pumpledger.Invalid("id", "The replacement's id %s is already used; leave id out to have a new one made.", r.ID)
		}
		e, rec, _, err := db.refillEntry(tx, r, old.Seq, by)
		if err != nil {
			return nil, Result{}, err
		}
		return &e, Result{Record: rec, Warnings: rec.Warnings}, nil
	case repl.Reprogram != nil:
		if old.Kind != pumpledger.KindReprogram {
			return nil, Result{}, kindMismatch(old, pumpledger.KindReprogram)
		}
		r := *repl.Reprogram
		r.ID = newID(r.ID)
		if tx.HasID(r.ID) {
			return nil, Result{}, pumpledger.Invalid("id", "The replacement's id %s is already used; leave id out to have a new one made.", r.ID)
		}
		e, res, err := db.reprogramEntry(tx, r, old.Seq, by)
		if err != nil {
			return nil, Result{}, err
		}
		return &e, *res, nil
	case repl.Patient != nil:
		if old.Kind != pumpledger.KindPatient {
			return nil, Result{}, kindMismatch(old, pumpledger.KindPatient)
		}
		p := *repl.Patient
		op, _ := old.Patient()
		if p.MRN != op.MRN || strings.TrimSpace(p.Name) == "" {
			return nil, Result{}, pumpledger.Invalid("mrn", "A patient's replacement keeps the MRN %s and gives a name; to move entries to another MRN, correct each entry.", op.MRN)
		}
		e := db.Envelope(uuid.NewString(), pumpledger.KindPatient, by, pumpledger.NewInstant(db.Now()), ledger.Canonical(p))
		e.Late = false
		return &e, Result{}, nil
	}
	return nil, Result{}, nil
}

func kindMismatch(old ledger.Entry, k pumpledger.Kind) error {
	return pumpledger.Invalid("file", "Entry %s is a %s; its replacement must be a %s too, not a %s.", old.ID, old.Kind, old.Kind, k)
}

// Explant records that a pump was removed.
func (db *Service) Explant(ctx context.Context, ex pumpledger.Explant) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	if err := checkTexts("mrn", ex.MRN, "serial", ex.Serial); err != nil {
		return Result{}, err
	}
	if err := pumpledger.CheckText("reason", ex.Reason, true); err != nil {
		return Result{}, err
	}
	when, err := dateInstant("date", ex.Date)
	if err != nil {
		return Result{}, err
	}
	return db.write("", pumpledger.KindExplant, ledger.Canonical(ex), func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		if _, err := db.livePump(tx, ex.MRN, ex.Serial, when.UTC, -1); err != nil {
			return nil, nil, err
		}
		e := db.Envelope(uuid.NewString(), pumpledger.KindExplant, by, when, ledger.Canonical(ex))
		return []ledger.Entry{e}, nil, nil
	}, nil)
}
