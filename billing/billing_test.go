package billing_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pumpledger/pumpledger/billing"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestAdministeredUnits(t *testing.T) {
	tests := []struct {
		mcg, unit string
		want      int64
	}{
		{"150", "1", 150},  // SPEC: ziconotide J2278, 1 mcg
		{"64.35", "1", 65}, // SPEC: any part of a unit bills as one
		{"350", "1", 350},  // SPEC naive pump
		{"0", "1", 0},      //
		{"0.001", "1", 1},  //
		{"99.999", "1", 100},
		{"10000", "10000", 1},              // morphine J2274, 10 mg
		{"10001", "10000", 2},              //
		{"25000", "10000", 3},              //
		{"4000", "4000", 1},                // hydromorphone J1170, up to 4 mg
		{"4000.5", "4000", 2},              // a part over 4 mg is another unit
		{"1", "4000", 1},                   // up to 4 mg: 1 mcg bills one unit
		{"12000", "4000", 3},               //
		{"2000", "50", 40},                 // baclofen trial J0476, 50 mcg
		{"1000000000", "1", 1_000_000_000}, //
		// Exact to the last digit: 1 + 10^-18 mcg is more than one unit, though
		// a 16-place quotient would say 1.
		{"1.000000000000000001", "1", 2},
		{"4000.000000000000000001", "4000", 2},
		{"-1.5", "1", -1}, // never billed, but still ⌈⌉
	}
	for _, tt := range tests {
		if got := billing.AdministeredUnits(dec(tt.mcg), dec(tt.unit)); got != tt.want {
			t.Errorf("AdministeredUnits(%s mcg, unit %s) = %d, want %d", tt.mcg, tt.unit, got, tt.want)
		}
	}
}

func TestDiscardedUnits(t *testing.T) {
	tests := []struct {
		mcg, unit string
		want      int64
	}{
		{"50", "1", 50},    // SPEC: 200 opened − 150
		{"35.65", "1", 35}, // SPEC: 100 − 64.35
		{"150", "1", 150},  // SPEC naive rinse
		{"0", "1", 0},
		{"0.99", "1", 0}, // less than a unit: no JW line
		{"9999", "10000", 0},
		{"10000", "10000", 1},
		{"29999.9", "10000", 2},
		{"3999", "4000", 0},
		{"8000", "4000", 2},
		{"0.999999999999999999", "1", 0}, // exact: a 16-place quotient would round to 1
		{"7999.9999999999999999", "4000", 1},
		{"-1.5", "1", -2}, // never billed, but still ⌊⌋
	}
	for _, tt := range tests {
		if got := billing.DiscardedUnits(dec(tt.mcg), dec(tt.unit)); got != tt.want {
			t.Errorf("DiscardedUnits(%s mcg, unit %s) = %d, want %d", tt.mcg, tt.unit, got, tt.want)
		}
	}
}

// Administered (up) + discarded (down) = opened, whenever the opened amount is
// a whole number of units: exact for any split of it.
func TestUnitsAddUpToOpened(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		unit := []string{"1", "50", "1000", "4000", "10000"}[r.IntN(5)]
		u := dec(unit)
		opened := u.Mul(decimal.NewFromInt(r.Int64N(1000) + 1))
		// A given amount with up to 9 decimal places, from 0 to all of it.
		scale := int32(r.IntN(10))
		given := decimal.New(r.Int64N(opened.Shift(scale).IntPart()+1), -scale)
		a := billing.AdministeredUnits(given, u)
		d := billing.DiscardedUnits(opened.Sub(given), u)
		if want := opened.Div(u).IntPart(); a+d != want {
			t.Fatalf("unit %s: given %s of %s: %d + %d units, want %d", unit, given, opened, a, d, want)
		}
	}
}

func TestSplit(t *testing.T) {
	type want struct {
		ndc   string
		units int64
		mcg   string
		qty   string
	}
	part := func(ndc, mcg, ml string) billing.Part { return billing.Part{NDC: ndc, MCG: dec(mcg), ML: dec(ml)} }
	tests := []struct {
		name   string
		parts  []billing.Part
		unit   string
		up     bool
		total  int64
		result []want
	}{
		{
			name:  "SPEC 150 mcg administered from two vials of one NDC: one line",
			parts: []billing.Part{part("70720072010", "100", "1"), part("70720072010", "50", "0.5")}, unit: "1", up: true, total: 150,
			result: []want{{"70720072010", 150, "150", "1.5"}},
		},
		{
			name:  "two NDCs of one drug: one line each",
			parts: []billing.Part{part("70720072010", "100", "1"), part("68118072010", "50", "0.5")}, unit: "1", up: true, total: 150,
			result: []want{{"70720072010", 100, "100", "1"}, {"68118072010", 50, "50", "0.5"}},
		},
		{
			name:  "fractions: cumulative rounding up keeps the sum at ⌈1.5⌉ = 2",
			parts: []billing.Part{part("A", "0.5", "0.005"), part("B", "0.5", "0.005"), part("C", "0.5", "0.005")}, unit: "1", up: true, total: 2,
			result: []want{{"A", 1, "0.5", "0.005"}, {"C", 1, "0.5", "0.005"}},
		},
		{
			name:  "fractions: cumulative rounding down keeps the sum at ⌊1.2⌋ = 1",
			parts: []billing.Part{part("A", "0.6", "0.006"), part("B", "0.6", "0.006")}, unit: "1", up: false, total: 1,
			result: []want{{"B", 1, "0.6", "0.006"}},
		},
		{
			name:  "parts of one NDC merge even when not adjacent",
			parts: []billing.Part{part("A", "100", "1"), part("B", "500", "5"), part("A", "30", "0.3")}, unit: "1", up: true, total: 630,
			result: []want{{"A", 130, "130", "1.3"}, {"B", 500, "500", "5"}},
		},
		{
			name:  "zero parts are dropped",
			parts: []billing.Part{part("A", "0", "0"), part("B", "64.35", "0.6435")}, unit: "1", up: true, total: 65,
			result: []want{{"B", 65, "64.35", "0.644"}},
		},
		{
			name:  "morphine 10 mg units across two NDCs",
			parts: []billing.Part{part("99999010101", "500000", "20"), part("99999010301", "15000", "15")}, unit: "10000", up: true, total: 52,
			result: []want{{"99999010101", 50, "500000", "20"}, {"99999010301", 2, "15000", "15"}},
		},
		{
			name:  "nothing at all",
			parts: nil, unit: "1", up: true, total: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := billing.Split(tt.parts, dec(tt.unit), tt.up)
			if len(got) != len(tt.result) {
				t.Fatalf("Split = %+v, want %d lines", got, len(tt.result))
			}
			sum := int64(0)
			for i, w := range tt.result {
				g := got[i]
				if g.NDC != w.ndc || g.Units != w.units || !g.MCG.Equal(dec(w.mcg)) || !g.Qty.Equal(dec(w.qty)) {
					t.Errorf("line %d = {%s %d %s %s}, want %+v", i, g.NDC, g.Units, g.MCG, g.Qty, w)
				}
				sum += g.Units
			}
			if sum != tt.total {
				t.Errorf("lines sum to %d units, want %d", sum, tt.total)
			}
		})
	}
}

// The lines' units always sum to the units of the total, up or down.
func TestSplitSumsToTotal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 3000; i++ {
		unit := dec([]string{"1", "4000", "10000"}[r.IntN(3)])
		var parts []billing.Part
		total := decimal.Zero
		for range r.IntN(6) + 1 {
			mcg := decimal.New(r.Int64N(3_000_000), -int32(r.IntN(4)))
			parts = append(parts, billing.Part{NDC: fmt.Sprint("N", r.IntN(3)), MCG: mcg, ML: mcg.Div(dec("100"))})
			total = total.Add(mcg)
		}
		for _, up := range []bool{true, false} {
			want := billing.DiscardedUnits(total, unit)
			if up {
				want = billing.AdministeredUnits(total, unit)
			}
			sum := int64(0)
			seen := map[string]bool{}
			for _, l := range billing.Split(parts, unit, up) {
				if l.Units <= 0 {
					t.Fatalf("line with %d units", l.Units)
				}
				if seen[l.NDC] {
					t.Fatalf("NDC %s has two lines", l.NDC)
				}
				seen[l.NDC] = true
				sum += l.Units
			}
			if sum != want {
				t.Fatalf("parts %v, unit %s, up %v: lines sum to %d, want %d", parts, unit, up, sum, want)
			}
		}
	}
}

func TestConflicts(t *testing.T) {
	svc := map[string]billing.Service{
		"95990": {Code: "95990", Refill: true, Excludes: []string{"62367", "62368", "62369", "62370"}},
		"62368": {Code: "62368", Reprogram: true, Excludes: []string{"95990", "95991"}},
		"62369": {Code: "62369", Refill: true, Reprogram: true, Excludes: []string{"95990", "95991"}},
	}
	lookup := func(c string) (billing.Service, bool) { s, ok := svc[c]; return s, ok }
	line := func(mrn, date, code string) billing.Line {
		return billing.Line{MRN: mrn, DateOfService: date, Code: code, EntryID: mrn + date + code}
	}
	for _, tc := range []struct {
		name  string
		lines []billing.Line
		want  int
	}{
		{"refill and reprogram same day", []billing.Line{line("M1", "2026-03-31", "95990"), line("M1", "2026-03-31", "J2278"), line("M1", "2026-03-31", "62368")}, 1},
		{"refill with reprogramming alone", []billing.Line{line("M1", "2026-03-31", "62369"), line("M1", "2026-03-31", "J2278")}, 0},
		{"other day", []billing.Line{line("M1", "2026-03-31", "95990"), line("M1", "2026-04-01", "62368")}, 0},
		{"other patient", []billing.Line{line("M1", "2026-03-31", "95990"), line("M2", "2026-03-31", "62368")}, 0},
		{"62369 and 95990", []billing.Line{line("M1", "2026-03-31", "62369"), line("M1", "2026-03-31", "95990")}, 1},
	} {
		if got := billing.Conflicts(tc.lines, lookup); len(got) != tc.want {
			t.Errorf("%s: %d conflicts %q, want %d", tc.name, len(got), got, tc.want)
		}
	}
}

// Recording a visit warns of the conflicts its date's bill will list: only
// the same patient's visits of the same date count.
func TestVisitConflicts(t *testing.T) {
	lookup := func(c string) (billing.Service, bool) {
		s, ok := map[string]billing.Service{
			"95990": {Code: "95990", Refill: true, Excludes: []string{"62368"}},
			"62368": {Code: "62368", Reprogram: true, Excludes: []string{"95990"}},
		}[c]
		return s, ok
	}
	v := billing.Visit{MRN: "M1", Date: "2026-03-31", Code: "62368", EntryID: "e2"}
	refill := billing.Visit{MRN: "M1", Date: "2026-03-31", Code: "95990", EntryID: "e1"}
	for _, tc := range []struct {
		name   string
		others []billing.Visit
		want   int
	}{
		{"none before", nil, 0},
		{"a refill the same day", []billing.Visit{refill}, 1},
		{"a refill another day", []billing.Visit{{MRN: "M1", Date: "2026-03-30", Code: "95990", EntryID: "e1"}}, 0},
		{"another patient's refill", []billing.Visit{{MRN: "M2", Date: "2026-03-31", Code: "95990", EntryID: "e1"}}, 0},
	} {
		got := billing.VisitConflicts(tc.others, v, lookup)
		if len(got) != tc.want {
			t.Errorf("%s: %q, want %d conflicts", tc.name, got, tc.want)
		}
		// The same sentences a bill of that day gives.
		lines := []billing.Line{}
		for _, o := range append(tc.others, v) {
			lines = append(lines, billing.Line{MRN: o.MRN, DateOfService: o.Date, Code: o.Code, EntryID: o.EntryID})
		}
		if bill := billing.Conflicts(lines, lookup); len(got) > 0 && !slices.Equal(got, bill) {
			t.Errorf("%s: record warns %q, the bill %q", tc.name, got, bill)
		}
	}
}
