package clinic

import (
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/refill"
)

// What a use case answers a program: one object for `refill --json` and
// the server's POST /api/refill, one way to hold back a bill's lines for
// `bill` and GET /api/bill, so the two never drift apart.

// RefillAnswer is the refill --json object: SPEC §7's record, with what
// the refill drew of the patient's prior authorizations and what the claim
// still needs (ready: the check of the entry as recorded; nil for a
// preview, which has nothing recorded to check).
func RefillAnswer(res Result, ready []billing.Finding) any {
	if res.Authorizations == nil && ready == nil {
		return res.Record
	}
	return struct {
		*refill.Record
		Authorizations []RefillAuthorization `json:"authorizations,omitempty"`
		Readiness      []billing.Finding     `json:"readiness,omitempty"`
	}{res.Record, res.Authorizations, ready}
}

// HoldBack is the bill's lines to export: those of visits with an error
// finding are held back unless allow (held counts them); with attach,
// each line carries its visit's findings (the JSON export's).
func HoldBack(lines []billing.Line, findings []billing.Finding, allow, attach bool) (out []billing.Line, held int) {
	isHeld := Holds(findings)
	var byEntry map[string][]billing.Finding
	if attach {
		byEntry = map[string][]billing.Finding{}
		for _, f := range findings {
			byEntry[f.EntryID] = append(byEntry[f.EntryID], f)
		}
	}
	out = lines[:0:0]
	for _, l := range lines {
		if isHeld(l) && !allow {
			held++
			continue
		}
		if attach {
			l.Findings = byEntry[l.EntryID]
		}
		out = append(out, l)
	}
	return out, held
}

// Holds is whether findings hold a line back from the bill: the lines of
// a visit with an error finding, and of a claim with a conflict of codes
// (a dose change and a refill of one patient's day): told on one visit,
// it holds back the whole claim, or half of a conflicting claim would go
// out. The bill page shows what the downloads hold back by this rule.
func Holds(findings []billing.Finding) func(billing.Line) bool {
	isHeld := map[string]bool{}
	heldClaim := map[[2]string]bool{}
	for _, f := range findings {
		if f.Severity != billing.Error {
			continue
		}
		isHeld[f.EntryID] = true
		if f.Rule == RuleCPTConflict {
			heldClaim[[2]string{f.MRN, f.DateOfService}] = true
		}
	}
	return func(l billing.Line) bool { return isHeld[l.EntryID] || heldClaim[[2]string{l.MRN, l.DateOfService}] }
}
