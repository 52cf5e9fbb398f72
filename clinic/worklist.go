package clinic

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/shopspring/decimal"
)

// The nurse's worklist: what needs a nurse now or soon, across every
// patient. Each pump's due date is the chart's (chartPump), so the two
// never disagree.

// WorklistDays is how far ahead the worklist looks by default: a week,
// time to book the visit.
const WorklistDays = 7

// Why a pump is on the worklist.
const (
	DueReservoir  = "reservoir"   // the reservoir reaches its refill threshold at the programmed rate
	DueStability  = "stability"   // the drug's stability limit in the pump
	DueNaive      = "naive"       // the first refill of a pump new to the drug (ziconotide: 14 days)
	DueDoseChange = "dose_change" // a dose change left the reservoir at or below its threshold: refill now
	DueReview     = "review"      // a refill's residual discrepancy is flagged and not yet reviewed
)

// WorkItem is one line of the worklist: a pump's refill due, or a
// refill's flagged residual discrepancy to review.
type WorkItem struct {
	Why    string `json:"why"` // Due*
	MRN    string `json:"mrn"`
	Serial string `json:"serial"`
	// Due is the refill's due date; for a review, the flagged refill's
	// date of service (it has awaited review since).
	Due string `json:"due"`
	// Days from the worklist's date to Due: negative, overdue.
	Days    int    `json:"days"`
	Overdue bool   `json:"overdue"`
	Reason  string `json:"reason"` // the due date's reason, or the discrepancy's warning
	// A refill due: the last fill, the dose now, and the volume expected in
	// the reservoir at noon of the worklist's date.
	LastRefill      string              `json:"last_refill,omitempty"`
	LastRefillEntry string              `json:"last_refill_entry,omitempty"`
	Dose            *pumpledger.Dose    `json:"dose,omitempty"`
	MLPerDay        decimal.NullDecimal `json:"ml_per_day"`
	ExpectedML      decimal.NullDecimal `json:"expected_ml"`
	// A review: the refill entry whose residual was flagged.
	Refill string `json:"refill,omitempty"`
}

// Worklist is every live pump (implanted, not explanted) whose refill is
// due by within days after asOf (YYYY-MM-DD; "" is today) or overdue, and
// every refill whose residual discrepancy is flagged and has no review,
// most urgent (earliest date) first. Entries dated after asOf are left out
// of the reviews; a pump's due date is from everything recorded.
func (db *Service) Worklist(_ context.Context, asOf string, within int) ([]WorkItem, error) {
	if asOf == "" {
		asOf = db.Today()
	}
	day, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		return nil, pumpledger.Invalid("as-of", "as-of %q is not a date; give it as YYYY-MM-DD.", asOf)
	}
	if within < 0 {
		return nil, pumpledger.Invalid("within", "within %d is negative; give the number of days ahead to look, 0 for today.", within)
	}
	out := []WorkItem{}
	err = db.View(func(tx *ledger.Tx) error {
		reviewedIDs, err := reviewedRefills(tx)
		if err != nil {
			return err
		}
		for _, serial := range tx.Pumps() {
			st, err := db.loadPump(tx, serial, -1)
			if err != nil {
				return err
			}
			if st.implant == nil {
				continue
			}
			for _, f := range st.fills {
				if f.date > asOf || reviewedIDs[f.entry.ID] || !Flagged(f.entry.Warnings) {
					continue
				}
				out = append(out, WorkItem{Why: DueReview, MRN: st.implant.MRN, Serial: serial, Due: f.date, Days: daysFrom(day, f.date),
					Overdue: f.date < asOf, Reason: discrepancy(f.entry.Warnings), Refill: f.entry.ID})
			}
			if st.explant != nil || len(st.fills) == 0 {
				continue
			}
			p, err := db.chartPumpOf(st)
			if err != nil {
				return err
			}
			if p.NextRefillDue == "" {
				continue
			}
			it := WorkItem{MRN: st.implant.MRN, Serial: serial, Due: p.NextRefillDue, Days: daysFrom(day, p.NextRefillDue),
				Overdue: p.NextRefillDue < asOf, Reason: p.NextRefillReason, Why: dueWhy(st, p.NextRefillReason),
				LastRefill: p.LastRefill, LastRefillEntry: p.LastRefillEntry, Dose: p.Dose, MLPerDay: p.MLPerDay, ExpectedML: expectedML(st, asOf)}
			if it.Days <= within {
				out = append(out, it)
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Due != b.Due {
			return a.Due < b.Due
		}
		if (a.Why == DueReview) != (b.Why == DueReview) {
			return b.Why == DueReview // on the same day, the refill first
		}
		return a.MRN+"\x00"+a.Serial+"\x00"+a.Refill < b.MRN+"\x00"+b.Serial+"\x00"+b.Refill
	})
	return out, err
}

// reviewedRefills are the refills a live review names.
func reviewedRefills(tx *ledger.Tx) (map[string]bool, error) {
	out := map[string]bool{}
	for _, seq := range tx.Filed(ledger.ByKind, string(pumpledger.KindReview)) {
		if _, void := tx.VoidedBy(seq); void {
			continue
		}
		e, err := tx.Entry(seq)
		if err != nil {
			return nil, err
		}
		var r pumpledger.Review
		if err := e.DecodePayload(&r); err != nil {
			return nil, err
		}
		out[r.Refill] = true
	}
	return out, nil
}

// dueWhy names the rule behind a due date's reason (refill.Due's phrases):
// a stability limit is the naive one when the last fill was the pump's
// first of the drug that sets it.
func dueWhy(st *pumpState, reason string) string {
	switch {
	case strings.Contains(reason, "refill now"):
		return DueDoseChange
	case strings.Contains(reason, "stability limit"):
		last := st.fills[len(st.fills)-1].fill
		held := st.heldAtImplant()
		for _, f := range st.fills[:len(st.fills)-1] {
			for d := range f.fill.MCGPerML {
				held[d] = true
			}
		}
		if last.StabilityDrug != "" && !held[last.StabilityDrug] {
			return DueNaive
		}
		return DueStability
	}
	return DueReservoir
}

// expectedML is what the reservoir should hold at noon of date (the
// middle of a clinic day, on the last fill's wall clock): the last fill run
// down at the doses programmed since. Null before the fill.
func expectedML(st *pumpState, date string) decimal.NullDecimal {
	last := st.fills[len(st.fills)-1].fill
	d, _ := time.Parse(time.DateOnly, date)
	at := time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, time.FixedZone("", last.Offset))
	changes := make([]pump.DoseChange, 0, len(st.changes))
	for _, c := range st.changes {
		changes = append(changes, c.change)
	}
	iv, err := pump.Reconcile(last, changes, at, decimal.Zero, decimal.Zero)
	if err != nil {
		return decimal.NullDecimal{}
	}
	return decimal.NewNullDecimal(iv.ExpectedResidualML)
}

func discrepancy(warnings []string) string {
	for _, w := range warnings {
		if strings.HasPrefix(w, DiscrepancyWarning) {
			return w
		}
	}
	return ""
}

func daysFrom(day time.Time, date string) int {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return 0
	}
	return int(d.Sub(day).Hours() / 24)
}
