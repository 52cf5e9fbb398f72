package clinic

import (
	"context"
	"slices"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// The practice that bills (SPEC §13): recorded like every entry, read by
// the 837P. A new fee schedule is a new site entry effective from its date;
// the claims of dates before it keep the one in force then.

const siteKind = string(pumpledger.KindSite)

// RecordSite records the practice: its billing provider, ids and fee
// schedule. Each payer it names must be a profile of the catalog in force
// when its fees take effect.
func (db *Service) RecordSite(ctx context.Context, s pumpledger.Site) (Result, error) {
	by, err := actor(ctx)
	if err != nil {
		return Result{}, err
	}
	s.ID = newID(s.ID)
	payload := ledger.Canonical(s)
	return db.write(ctx, s.ID, pumpledger.KindSite, payload, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
		cats, err := db.catalogsIn(tx)
		if err != nil {
			return nil, nil, err
		}
		cat := cats.at(s.Fees.Effective).Catalog
		for _, id := range sortedKeys(s.Payers) {
			if _, ok := cat.Payer(id); !ok {
				return nil, nil, pumpledger.Invalid("payers."+id, "payers.%s is not a payer profile of the catalog in force on %s; name the profile as `pumpledger catalog` lists it.", id, s.Fees.Effective)
			}
		}
		at, err := dateInstant("fees.effective", s.Fees.Effective)
		if err != nil {
			return nil, nil, err
		}
		e := db.Envelope(s.ID, pumpledger.KindSite, by, at, payload)
		e.Late = false // a fee schedule is often recorded before or after its date
		return []ledger.Entry{e}, &Result{}, nil
	}, nil)
}

// sitesIn are the live sites, in the order recorded.
func sitesIn(tx *ledger.Tx) ([]pumpledger.Site, error) {
	var out []pumpledger.Site
	for _, seq := range tx.Filed(ledger.ByKind, siteKind) {
		if _, void := tx.VoidedBy(seq); void {
			continue
		}
		e, err := tx.Entry(seq)
		if err != nil {
			return nil, err
		}
		var s pumpledger.Site
		if err := e.DecodePayload(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// siteOn is the site in force on date: of the sites whose fees are
// effective by then, the latest effective, then the latest recorded.
func siteOn(sites []pumpledger.Site, date string) (pumpledger.Site, bool) {
	var best pumpledger.Site
	found := false
	for _, s := range sites {
		if s.Fees.Effective <= date && (!found || s.Fees.Effective >= best.Fees.Effective) {
			best, found = s, true
		}
	}
	return best, found
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
