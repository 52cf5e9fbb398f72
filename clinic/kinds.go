package clinic

import (
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
)

// What each kind of entry is to the use cases, beside what the store knows
// of it (pumpledger.KindSpec): what it tells its pump's history, and what
// it bills, and how a correction replaces one. Each kind's functions are in
// its own file (patient.go, pump.go, refill.go, reprogram.go); a kind
// missing here tells no pump, bills nothing and is not replaced.
var rules map[pumpledger.Kind]kindRules

// The table is filled at init: its functions reach it again (a refill
// replaced loads its pump), which a variable's initializer may not.
func init() {
	rules = map[pumpledger.Kind]kindRules{
		pumpledger.KindPatient:   {replace: replacePatient},
		pumpledger.KindImplant:   {decode: decodeImplant, into: intoImplant},
		pumpledger.KindExplant:   {decode: decodeExplant, into: intoExplant},
		pumpledger.KindRefill:    {decode: decodeRefill, into: intoRefill, lines: refillLines, replace: replaceRefill},
		pumpledger.KindReprogram: {decode: decodeReprogram, into: intoReprogram, lines: reprogramLines, replace: replaceReprogram},
	}
	for _, s := range pumpledger.Kinds() {
		if s.Clinical {
			rules[s.Kind] = kindRules{replace: replaceClinical}
		}
	}
}

type kindRules struct {
	// decode reads what a pump's chain needs of a stored entry into it,
	// with the catalogs (each entry's date's).
	decode func(cats *catalogSet, it *pumpItem) error
	// into adds a decoded entry to its pump's state.
	into func(st *pumpState, it *pumpItem)
	// lines are the claim lines of a stored entry, derived with the
	// catalog in force on its date of service.
	lines func(cats *catalogSet, e ledger.Entry) ([]billing.Line, error)
	// replace checks and builds the entry a correction records in place of
	// old (payload: the kind's payload, by value); nil where an entry of
	// the kind can be voided but not replaced.
	replace func(db *Service, tx *ledger.Tx, old ledger.Entry, by string, payload any) (*ledger.Entry, Result, error)
}
