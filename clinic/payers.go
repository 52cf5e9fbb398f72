package clinic

import (
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
)

// Payer profiles on the bill. A visit is billed with the profile of the
// patient's primary coverage in force on its date of service, as the
// catalog in force that day defines it (billing.ApplyProfile); a visit
// without one is billed as the catalog bills it, and the pre-billing check
// says so.

// book is the live clinical records of kinds, by kind then patient, as a
// transaction saw the ledger: read once from the by-kind index, so a bill
// or a check costs the records of its kinds, not every patient's history.
type book map[pumpledger.Kind]map[string][]ledger.Entry

// bookIn reads the live records of kinds.
func (db *Service) bookIn(tx *ledger.Tx, kinds ...pumpledger.Kind) (book, error) {
	b := book{}
	for _, k := range kinds {
		b[k] = map[string][]ledger.Entry{}
		for _, seq := range tx.Filed(ledger.ByKind, string(k)) {
			if _, void := tx.VoidedBy(seq); void {
				continue
			}
			e, err := tx.Entry(seq)
			if err != nil {
				return nil, err
			}
			v, err := DecodeClinical(e)
			if err != nil {
				return nil, err
			}
			mrn := v.(pumpledger.Record).PatientMRN()
			b[k][mrn] = append(b[k][mrn], e)
		}
	}
	return b, nil
}

// coverageOn is a patient's primary coverage in force on date: the one
// that began last, if several overlap.
func (b book) coverageOn(mrn, date string) (pumpledger.Coverage, ledger.Entry, bool) {
	return b.coverageOf(mrn, date, "primary")
}

// coverageOf is the patient's coverage of priority in force on date, the
// latest begun when several are.
func (b book) coverageOf(mrn, date, priority string) (pumpledger.Coverage, ledger.Entry, bool) {
	var best pumpledger.Coverage
	var entry ledger.Entry
	found := false
	for _, e := range b[pumpledger.KindCoverage][mrn] {
		var c pumpledger.Coverage
		if e.DecodePayload(&c) != nil {
			continue
		}
		if c.Priority != priority || c.From > date || (c.To != "" && c.To < date) {
			continue
		}
		if !found || c.From > best.From {
			best, entry, found = c, e, true
		}
	}
	return best, entry, found
}

// applyProfiles bills each visit with its payer's profile (see above).
// Visits of one shape under one payer share their lines, as they share
// the catalog's.
func (db *Service) applyProfiles(visits []visit, cats *catalogSet, b book) {
	if len(b[pumpledger.KindCoverage]) == 0 {
		return
	}
	type key struct {
		lines *billing.Line
		payer string
		cat   *Pinned
	}
	memo := map[key][]billing.Line{}
	for i, v := range visits {
		if len(v.lines) == 0 {
			continue
		}
		cov, _, ok := b.coverageOn(v.mrn, v.date)
		if !ok {
			continue
		}
		pin := cats.at(v.date)
		p, ok := pin.Catalog.Payer(cov.Payer)
		if !ok {
			continue // the check reports a payer the catalog lacks
		}
		k := key{&v.lines[0], p.ID, pin}
		ls, done := memo[k]
		if !done {
			ls = billing.ApplyProfile(v.lines, p, unitMCG(pin))
			memo[k] = ls
		}
		visits[i].lines = ls
	}
}

// unitMCG is a drug's billing unit in mcg under a pinned catalog.
func unitMCG(pin *Pinned) func(string) decimal.Decimal {
	return func(drug string) decimal.Decimal {
		if d, ok := pin.Catalog.Drug(drug); ok {
			return d.UnitMCG
		}
		return decimal.NewFromInt(1)
	}
}
