package clinic_test

import (
	"testing"

	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/clinic"
)

// A conflict of codes, told on one visit of a claim, holds back the whole
// claim (every visit of that patient and date), not half of it; another
// patient's lines of the same date go out.
func TestHoldBackHoldsTheConflictingClaim(t *testing.T) {
	lines := []billing.Line{
		{MRN: "MRN-1", DateOfService: "2026-03-31", EntryID: "refill", Code: "95990", Units: 1},
		{MRN: "MRN-1", DateOfService: "2026-03-31", EntryID: "change", Code: "62368", Units: 1},
		{MRN: "MRN-2", DateOfService: "2026-03-31", EntryID: "other", Code: "95990", Units: 1},
	}
	findings := []billing.Finding{{Rule: clinic.RuleCPTConflict, Severity: billing.Error, EntryID: "change", MRN: "MRN-1", DateOfService: "2026-03-31"}}
	out, held := clinic.HoldBack(lines, findings, false, false)
	if held != 2 || len(out) != 1 || out[0].EntryID != "other" {
		t.Errorf("held %d, out %+v; want MRN-1's two visits held and MRN-2's out", held, out)
	}
	if out, held := clinic.HoldBack(lines, findings, true, false); held != 0 || len(out) != 3 {
		t.Errorf("with allow: held %d, out %d lines", held, len(out))
	}
}
