// Package billing holds the claim rules: HCPCS units from amounts, the JW line
// for drug discarded from single-dose containers and the JZ modifier when none
// was, one line per NDC, and the pump-service line. Every rounding the program
// does for a claim is in this file.
package billing

import (
	"fmt"
	"slices"

	"github.com/pumpledger/pumpledger"
	"github.com/shopspring/decimal"
)

// Modifiers (Medicare Claims Processing Manual ch. 17 §40).
const (
	JW = "JW" // amount discarded from a single-dose container, on its own line
	JZ = "JZ" // single-dose container, nothing discarded (required since 2023-07-01)
)

// NDCQtyScale is the decimal places of an NDC quantity (X12 CTP04 and the
// NCPDP quantity carry at most three).
const NDCQtyScale = 3

// Line is one claim line.
type Line struct {
	DateOfService string          `json:"date_of_service"` // YYYY-MM-DD, on the clinic's wall clock
	MRN           string          `json:"mrn"`
	EntryID       string          `json:"entry_id"`
	Code          string          `json:"code"`
	Modifiers     []string        `json:"modifiers"`
	Units         int64           `json:"units"`
	NDC           string          `json:"ndc,omitempty"` // 11 digits
	NDCQty        decimal.Decimal `json:"ndc_qty,omitzero"`
	NDCUnit       string          `json:"ndc_unit,omitempty"` // ML
	Drug          string          `json:"drug,omitempty"`
	// Description says what the line is, for a person reading the bill.
	Description string `json:"description"`
	// Narrative is what the payer reads of a line whose code does not
	// say the drug (a compounded fill's J7799): the drugs and amounts
	// (837P SV101-7).
	Narrative string `json:"narrative,omitempty"`
	// MCG is the amount of the drug the line bills (given, or discarded
	// on a JW line): what a compounded line's narrative states. Not
	// exported: the units and NDC quantity are the claim's figures.
	MCG decimal.Decimal `json:"-"`
	// Findings are the pre-billing check's about this line's visit, when
	// the bill was checked.
	Findings []Finding `json:"findings,omitempty"`
}

// AdministeredUnits rounds the administered amount up to whole billing units
// (Medicare Claims Processing Manual ch. 17 §10: any part of a unit bills as one).
func AdministeredUnits(mcg, unitMCG decimal.Decimal) int64 {
	q, r := mcg.QuoRem(unitMCG, 0) // exact: Div rounds at 16 places
	if r.IsPositive() {
		return q.IntPart() + 1
	}
	return q.IntPart()
}

// DiscardedUnits rounds the discarded amount down to whole billing units. When
// that is zero there is no JW line: the administered line's round-up already
// pays for the part-unit left (Noridian, "Modifier JZ": "When the HCPCS code
// UOS is equal to or greater than the total of the actual dose and the amount
// discarded, use of the JW modifier is not permitted"), and the administered
// line takes JZ.
//
// With whole-unit containers, AdministeredUnits + DiscardedUnits = the units
// opened, because a part-unit given and its complement discarded add to one.
func DiscardedUnits(mcg, unitMCG decimal.Decimal) int64 {
	q, r := mcg.QuoRem(unitMCG, 0) // exact: Div rounds at 16 places
	if r.IsNegative() {
		return q.IntPart() - 1
	}
	return q.IntPart()
}

// Part is the share of one NDC in an amount: drawn from it, or discarded from it.
type Part struct {
	NDC string          // 11 digits
	MCG decimal.Decimal // amount
	ML  decimal.Decimal // volume
}

// Split distributes the units of a total amount over the NDCs it came from, in
// draw order, so that the lines' units sum to exactly the total's units
// (SPEC §5): each NDC gets round(cumulative through it) − round(cumulative
// before it), with round = up for administered and down for discarded amounts.
// Parts of one NDC are merged first; NDCs that end with zero units are dropped.
func Split(parts []Part, unitMCG decimal.Decimal, roundUp bool) []SplitLine {
	var merged []Part
	index := map[string]int{}
	for _, p := range parts {
		if !p.MCG.IsPositive() {
			continue
		}
		if i, ok := index[p.NDC]; ok {
			merged[i].MCG = merged[i].MCG.Add(p.MCG)
			merged[i].ML = merged[i].ML.Add(p.ML)
			continue
		}
		index[p.NDC] = len(merged)
		merged = append(merged, p)
	}
	units := DiscardedUnits
	if roundUp {
		units = AdministeredUnits
	}
	var out []SplitLine
	cum, done := decimal.Zero, int64(0)
	for _, p := range merged {
		cum = cum.Add(p.MCG)
		u := units(cum, unitMCG) - done
		done += u
		if u > 0 {
			out = append(out, SplitLine{NDC: p.NDC, Units: u, MCG: p.MCG, Qty: p.ML.Round(NDCQtyScale)})
		}
	}
	return out
}

// SplitLine is one NDC's share of a drug's units.
type SplitLine struct {
	NDC   string
	Units int64
	MCG   decimal.Decimal
	Qty   decimal.Decimal // mL, to NDCQtyScale
}

// Service is a pump-service procedure code (CPT, SPEC §4).
type Service struct {
	Code        string
	Description string
	Refill      bool // the code includes a refill (62369, 62370, 95990, 95991)
	Reprogram   bool // the code includes reprogramming or analysis (62367–62370)
	// Excludes lists codes not reported with this one on the same date.
	Excludes []string
}

// Conflicts lists, one sentence each, the pump-service codes billed for one
// patient on one date that CPT does not report together (62367–62370 with
// 95990/95991, SPEC §4), as the catalog's Excludes say. A refill and a
// reprogramming on the same day are one visit: 62369 or 62370.
func Conflicts(lines []Line, service func(code string) (Service, bool)) []string {
	type visit struct{ mrn, date string }
	seen := map[visit][]Line{}
	var out []string
	for _, l := range lines {
		s, ok := service(l.Code)
		if !ok {
			continue
		}
		v := visit{l.MRN, l.DateOfService}
		for _, o := range seen[v] {
			os, _ := service(o.Code)
			if slices.Contains(s.Excludes, o.Code) || slices.Contains(os.Excludes, l.Code) {
				out = append(out, fmt.Sprintf("%s on %s: %s (entry %s) is not reported with %s (entry %s) on the same date; bill the visit as one code (a refill with reprogramming is 62369 or 62370) or correct one entry.",
					l.MRN, l.DateOfService, l.Code, l.EntryID, o.Code, o.EntryID))
			}
		}
		seen[v] = append(seen[v], l)
	}
	return out
}

// Visit is one pump-service code billed for a patient on a date of service
// (YYYY-MM-DD), by the entry that records it.
type Visit struct {
	MRN, Date, Code, EntryID string
}

// VisitConflicts are the Conflicts that v, recorded beside the patient's
// other visits (those of other dates or patients do not count), puts on the
// bill of its date: what recording v warns of, as the bill will. The
// patient's conflicts that date are all listed, not only v's: the bill
// lists them all too.
func VisitConflicts(others []Visit, v Visit, service func(code string) (Service, bool)) []string {
	var lines []Line
	for _, o := range others {
		if o.MRN == v.MRN && o.Date == v.Date {
			lines = append(lines, o.line())
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return Conflicts(append(lines, v.line()), service)
}

func (v Visit) line() Line {
	return Line{MRN: v.MRN, DateOfService: v.Date, Code: v.Code, EntryID: v.EntryID}
}

// CheckPeriod refuses a bill's period of dates of service, from through to
// (YYYY-MM-DD, inclusive), that is not two dates in order, naming the field.
func CheckPeriod(from, to string) error {
	f, err := pumpledger.ParseDate(from)
	if err != nil {
		return pumpledger.Invalid("from", "from must be a date like 2026-03-01, not %q.", from)
	}
	t, err := pumpledger.ParseDate(to)
	if err != nil {
		return pumpledger.Invalid("to", "to must be a date like 2026-03-31, not %q.", to)
	}
	if t.Before(f) {
		return pumpledger.Invalid("to", "to %s is before the first date, %s; swap the two dates.", to, from)
	}
	return nil
}
