package refill

import (
	"fmt"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/shopspring/decimal"
)

// RefillCPT checks a refill's procedure code against what it did to the
// dose (billing.CodeMismatch): h is the pump's history before it, as Derive
// takes it. A pump's first fill has no dose before it: no finding.
func RefillCPT(cat *catalog.Catalog, in pumpledger.Refill, h History) (billing.CPTMismatch, bool) {
	f := FillOf(cat, in)
	step, dose := DoseStepOf(h, f.MCGPerML, f.Dose)
	return billing.CodeMismatch(in.Procedure, step, dose)
}

// ReprogramCPT checks a dose change's procedure code against what it did
// to the dose (billing.CodeMismatch), h its pump's history before it.
func ReprogramCPT(cat *catalog.Catalog, in pumpledger.Reprogram, h History) (billing.CPTMismatch, bool) {
	if h.Last == nil {
		return billing.CPTMismatch{}, false
	}
	next := pump.DoseChange{At: in.PerformedAt.UTC, Drug: canonical(cat, in.Dose.Drug), MCGPerDay: in.Dose.MCGPerDay}
	step, dose := DoseStepOf(h, h.Last.MCGPerML, next)
	return billing.CodeMismatch(in.Procedure, step, dose)
}

// DoseStepOf compares dose next, programmed at concentrations concs, with
// the dose in force just before it: h.Last's, or the latest of h.Changes.
// It returns what billing.CodeMismatch needs: the step and the doses named
// for its message. A dose given in another drug of an admixture is
// compared in next's drug at h.Last's concentrations (the same mL/day), by
// cross-multiplying, so no rounding can make equal doses differ; a drug
// h.Last did not hold is a change. The same dose is DoseKept only when the
// concentrations are h.Last's too: at new ones the pump's rate changes.
func DoseStepOf(h History, concs map[string]decimal.Decimal, next pump.DoseChange) (billing.DoseStep, string) {
	if h.Last == nil {
		return billing.DoseUnknown, ""
	}
	prev := h.Last.Dose
	if n := len(h.Changes); n > 0 {
		prev = h.Changes[n-1]
	}
	// prev in next's drug is prev × to ÷ from; equal when next × from = prev × to.
	from, to := h.Last.MCGPerML[prev.Drug], h.Last.MCGPerML[next.Drug]
	same := prev.Drug == next.Drug && prev.MCGPerDay.Equal(next.MCGPerDay)
	if prev.Drug != next.Drug && from.IsPositive() && to.IsPositive() {
		same = next.MCGPerDay.Mul(from).Equal(prev.MCGPerDay.Mul(to))
	}
	if !same {
		if prev.Drug == next.Drug {
			return billing.DoseChanged, fmt.Sprintf("from %s to %s mcg/day of %s", prev.MCGPerDay, next.MCGPerDay, next.Drug)
		}
		return billing.DoseChanged, fmt.Sprintf("from %s mcg/day of %s to %s mcg/day of %s", prev.MCGPerDay, prev.Drug, next.MCGPerDay, next.Drug)
	}
	if !sameConcs(h.Last.MCGPerML, concs) {
		return billing.DoseUnknown, ""
	}
	return billing.DoseKept, fmt.Sprintf("%s mcg/day of %s", next.MCGPerDay, next.Drug)
}

func sameConcs(a, b map[string]decimal.Decimal) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}
