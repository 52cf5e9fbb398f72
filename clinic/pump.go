package clinic

import (
	"bytes"
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

// Pumps: implanting and explanting one, and what a pump's entries tell its
// history.

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
	return db.write(ctx, "", pumpledger.KindImplant, nil, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
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
	return db.write(ctx, "", pumpledger.KindExplant, ledger.Canonical(ex), func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		if _, err := db.livePump(tx, ex.MRN, ex.Serial, when.UTC, -1); err != nil {
			return nil, nil, err
		}
		e := db.Envelope(uuid.NewString(), pumpledger.KindExplant, by, when, ledger.Canonical(ex))
		return []ledger.Entry{e}, nil, nil
	}, nil)
}

func decodeImplant(_ *catalogSet, it *pumpItem) (err error) {
	it.implant, err = it.entry.Implant()
	return err
}

func intoImplant(st *pumpState, it *pumpItem) {
	im := it.implant
	st.implant, st.implantE = &im, it.entry
}

func decodeExplant(_ *catalogSet, it *pumpItem) (err error) {
	it.explant, err = it.entry.Explant()
	return err
}

func intoExplant(st *pumpState, it *pumpItem) {
	ex := it.explant
	st.explant = &ex
}
