package refill

import (
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/pump"
)

// CheckReprogram checks a dose change against the pump's history (h.Last is
// the fill in the reservoir, h.Changes the changes since) and returns the
// label's warnings. It refuses a change with no fill to act on, one dated
// before that fill or in the future, a dose of a drug the fill does not hold,
// and a procedure code that is not a reprogramming.
func CheckReprogram(cat *catalog.Catalog, in pumpledger.Reprogram, h History, now time.Time) ([]string, error) {
	if in.PerformedAt.UTC.After(now) {
		return nil, pumpledger.Invalid("performed_at", "performed_at %s is in the future; record a reprogramming after it is done.", in.PerformedAt)
	}
	if h.Last == nil {
		return nil, pumpledger.Invalid("pump_serial", "pump_serial %s: the pump has no fill recorded; record its refill first, then the dose change.", in.PumpSerial)
	}
	if !in.PerformedAt.UTC.After(h.Last.At) {
		return nil, pumpledger.Invalid("performed_at", "performed_at %s is not after the pump's last fill at %s; a change before it belongs to the earlier interval: correct that entry instead.",
			in.PerformedAt, h.Last.At.Format(time.RFC3339))
	}
	svc, ok := cat.Service(in.Procedure)
	if !ok || !svc.Reprogram || svc.Refill {
		var codes []string
		for _, s := range cat.Services {
			if s.Reprogram && !s.Refill {
				codes = append(codes, s.Code)
			}
		}
		return nil, pumpledger.Invalid("procedure", "procedure %q is not a reprogramming code; use one of %s (a refill with reprogramming is recorded as a refill).", in.Procedure, strings.Join(codes, ", "))
	}
	drug, ok := cat.Drug(in.Dose.Drug)
	if _, held := h.Last.MCGPerML[drug.Name]; !ok || !held {
		return nil, pumpledger.Invalid("dose.drug", "dose.drug %q is not in the pump's current fill; give the dose of one of %s.", in.Dose.Drug, strings.Join(sortedKeys(h.Last.MCGPerML), ", "))
	}
	next := pump.DoseChange{At: in.PerformedAt.UTC, Drug: drug.Name, MCGPerDay: in.Dose.MCGPerDay}
	warnings := labelWarnings(cat, h, h.Last.MCGPerML, next)
	if m, ok := ReprogramCPT(cat, in, h); ok {
		warnings = append(warnings, m.Warning())
	}
	if warnings == nil {
		warnings = []string{}
	}
	return warnings, nil
}

// ReprogramLines are a recorded dose change's claim lines, as Lines are a
// refill's: its pump-service line, the procedure code for one unit with no
// modifier. Like Lines they depend on the entry and the catalog only.
func ReprogramLines(cat *catalog.Catalog, in pumpledger.Reprogram) []billing.Line {
	svc, _ := cat.Service(in.Procedure) // checked when recorded
	return []billing.Line{{DateOfService: in.PerformedAt.Date(), MRN: in.MRN, EntryID: in.ID,
		Code: in.Procedure, Modifiers: []string{}, Units: 1, Description: svc.Description}}
}
