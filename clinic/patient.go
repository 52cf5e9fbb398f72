package clinic

import (
	"bytes"
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// Appending. Each public method runs in one read-write transaction that
// checks the entry against what is recorded, appends it with its tree hashes
// and indexes, and signs a checkpoint of the new tree; it returns only after
// bbolt has committed. A refused entry writes nothing.

// Patients: registering one.

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
	if err := db.checkBirthDate(p); err != nil {
		return Result{}, err
	}
	payload := ledger.Canonical(p)
	return db.write(ctx, "", pumpledger.KindPatient, payload, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
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

func unknownPatient(mrn string) error {
	return pumpledger.Errorf(pumpledger.ENOTFOUND, "Unknown patient %s; register the patient first with `pumpledger patient add --mrn %s --name NAME`.", mrn, mrn)
}

// replacePatient is a registration corrected: the same MRN, the name
// given.
func replacePatient(db *Service, _ *ledger.Tx, old ledger.Entry, by string, payload any) (*ledger.Entry, Result, error) {
	p := payload.(pumpledger.Patient)
	op, _ := old.Patient()
	if p.MRN != op.MRN || strings.TrimSpace(p.Name) == "" {
		return nil, Result{}, pumpledger.Invalid("mrn", "A patient's replacement keeps the MRN %s and gives a name; to move entries to another MRN, correct each entry.", op.MRN)
	}
	if err := db.checkBirthDate(p); err != nil {
		return nil, Result{}, err
	}
	e := db.Envelope(uuid.NewString(), pumpledger.KindPatient, by, pumpledger.NewInstant(db.Now()), ledger.Canonical(p))
	e.Late = false
	return &e, Result{}, nil
}

// checkBirthDate refuses a date of birth after today.
func (db *Service) checkBirthDate(p pumpledger.Patient) error {
	if p.BirthDate > db.Today() {
		return pumpledger.Invalid("birth_date", "birth_date %s is in the future; check the year.", p.BirthDate)
	}
	return nil
}

// Patients is each registered MRN's registration as it stands (a corrected
// one is its replacement), in one read: a page that names its patients
// reads their names here, not from each chart. An MRN not registered, or
// whose registration was voided without a replacement, is left out.
func (db *Service) Patients(_ context.Context, mrns []string) (map[string]pumpledger.Patient, error) {
	out := make(map[string]pumpledger.Patient, len(mrns))
	err := db.View(func(tx *ledger.Tx) error {
		for _, mrn := range mrns {
			if _, ok := out[mrn]; ok {
				continue
			}
			p, err := db.registration(tx, mrn)
			if err != nil {
				return err
			}
			if p.MRN != "" {
				out[mrn] = p
			}
		}
		return nil
	})
	return out, err
}
