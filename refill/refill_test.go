package refill_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/shopspring/decimal"
)

var defaultCatalog = catalog.Default()

// now is well after every refill below unless a case says otherwise.
var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// earlier is a ziconotide fill a month before 2026-03-31, so the pump is not naive.
func earlier(conc, dose string) entry {
	r := zic("2026-03-01T09:00:00Z", "20", conc, dose, vials("70720-720-10", 1))
	r.DiluentML = dec("19")
	return entry{Refill: &r}
}

type line struct {
	code      string
	modifiers string // comma-separated
	units     int64
	ndc, qty  string
}

func linesOf(rec refill.Record) []line {
	var out []line
	for _, l := range rec.Lines {
		q := ""
		if !l.NDCQty.IsZero() {
			q = l.NDCQty.String()
		}
		out = append(out, line{l.Code, strings.Join(l.Modifiers, ","), l.Units, l.NDC, q})
	}
	return out
}

func TestDeriveDrugs(t *testing.T) {
	type drug struct {
		name, code                            string
		dispensed, rinse, opened, waste, kept string
		units, wasteUnits                     int64
		modifiers                             string
		naive, diluted                        bool
	}
	tests := []struct {
		name  string
		cat   *catalog.Catalog
		in    func() pumpledger.Refill
		hist  []entry
		drugs []drug
		lines []line
	}{
		{
			name: "SPEC: 150 mcg from two 100 mcg vials: 150 units + 50 JW",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "7.5", "2.4", vials("70720-720-10", 2))
				r.DiluentML = dec("18.5")
				return r
			},
			hist:  []entry{earlier("5", "2.4")},
			drugs: []drug{{"ziconotide", "J2278", "150", "0", "200", "50", "0", 150, 50, "", false, true}},
			lines: []line{{"J2278", "", 150, "70720072010", "1.5"}, {"J2278", "JW", 50, "70720072010", "0.5"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "SPEC: 64.35 mcg from one 100 mcg vial: 65 units + 35 JW",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "19.8", "3.25", "1.2", vials("70720-720-10", 1))
				r.DiluentML = dec("19.1565")
				return r
			},
			hist:  []entry{earlier("5", "1.2")},
			drugs: []drug{{"ziconotide", "J2278", "64.35", "0", "100", "35.65", "0", 65, 35, "", false, true}},
			lines: []line{{"J2278", "", 65, "70720072010", "0.644"}, {"J2278", "JW", 35, "70720072010", "0.357"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "SPEC: naive pump, 6 mL rinse of 25 mcg/mL then 350 mcg: 350 units + 150 JW",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "14", "25", "1.2", vials("70720-723-10", 1))
				r.RinseML = dec("6")
				return r
			},
			drugs: []drug{{"ziconotide", "J2278", "350", "150", "500", "0", "0", 350, 150, "", true, false}},
			lines: []line{{"J2278", "", 350, "70720072310", "14"}, {"J2278", "JW", 150, "70720072310", "6"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "JZ: nothing discarded",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
				r.DiluentML = dec("19")
				return r
			},
			hist:  []entry{earlier("5", "1.2")},
			drugs: []drug{{"ziconotide", "J2278", "100", "0", "100", "0", "0", 100, 0, "JZ", false, true}},
			lines: []line{{"J2278", "JZ", 100, "70720072010", "1"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "JZ: less than one unit discarded (0.5 mcg), no JW line",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "19.9", "5", "1.2", vials("70720-720-10", 1))
				r.DiluentML = dec("18.905")
				return r
			},
			hist:  []entry{earlier("5", "1.2")},
			drugs: []drug{{"ziconotide", "J2278", "99.5", "0", "100", "0.5", "0", 100, 0, "JZ", false, true}},
			lines: []line{{"J2278", "JZ", 100, "70720072010", "0.995"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "undiluted 100 mcg/mL from a 5 mL vial",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "5", "100", "2.4", vials("68118-722-10", 1))
				return r
			},
			hist:  []entry{earlier("5", "2.4")},
			drugs: []drug{{"ziconotide", "J2278", "500", "0", "500", "0", "0", 500, 0, "JZ", false, false}},
			lines: []line{{"J2278", "JZ", 500, "68118072210", "5"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "several NDCs of one drug: one line per NDC, units sum to the drug's",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "30", "2.4", vials("70720-720-10", 1), vials("68118-722-10", 1), vials("68118-720-10", 1))
				r.DiluentML = dec("14")
				return r
			},
			// 600 mcg: 100 (1 mL) + 500 (5 mL) from the first two, the third untouched: 100 mcg JW from 68118-720-10.
			hist:  []entry{earlier("5", "2.4")},
			drugs: []drug{{"ziconotide", "J2278", "600", "0", "700", "100", "0", 600, 100, "", false, true}},
			lines: []line{{"J2278", "", 100, "70720072010", "1"}, {"J2278", "", 500, "68118072210", "5"},
				{"J2278", "JW", 100, "68118072010", "1"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "the user's J2277 is ziconotide, billed J2278",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
				r.Solution[0].Drug = "J2277"
				r.Dose.Drug = "prialt"
				r.DiluentML = dec("19")
				return r
			},
			hist:  []entry{earlier("5", "1.2")},
			drugs: []drug{{"ziconotide", "J2278", "100", "0", "100", "0", "0", 100, 0, "JZ", false, true}},
			lines: []line{{"J2278", "JZ", 100, "70720072010", "1"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "admixture: ziconotide J2278 per 1 mcg and morphine J2274 per 10 mg, each its own lines",
			cat:  testCatalog,
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1), vials("99999-101-01", 1))
				r.Solution = append(r.Solution, pumpledger.SolutionDrug{Drug: "morphine-pf", MCGPerML: dec("2500")})
				r.DiluentML = dec("17") // 1 mL ziconotide + 2 mL morphine (50 mg at 25 mg/mL)
				return r
			},
			hist: []entry{earlier("5", "1.2")},
			drugs: []drug{
				{"ziconotide", "J2278", "100", "0", "100", "0", "0", 100, 0, "JZ", false, true},
				{"morphine", "J2274", "50000", "0", "500000", "450000", "0", 5, 45, "", true, true},
			},
			lines: []line{{"J2278", "JZ", 100, "70720072010", "1"}, {"J2274", "", 5, "99999010101", "2"}, {"J2274", "JW", 45, "99999010101", "18"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "morphine: a part of 10 mg bills one unit; under one unit left is JZ",
			cat:  testCatalog,
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "495", "1.2", vials("99999-0103-1", 1))
				r.Solution = []pumpledger.SolutionDrug{{Drug: "morphine", MCGPerML: dec("495")}} // 9.9 mg of a 10 mg vial
				r.Dose = pumpledger.Dose{Drug: "morphine", MCGPerDay: dec("500")}
				r.DiluentML = dec("10.1")
				return r
			},
			drugs: []drug{{"morphine", "J2274", "9900", "0", "10000", "100", "0", 1, 0, "JZ", true, true}},
			lines: []line{{"J2274", "JZ", 1, "99999010301", "9.9"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "multi-dose: neither JW nor JZ; what is left is kept",
			cat:  testCatalog,
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "1000", "1.2", vials("99999-102-01", 1))
				r.Solution = []pumpledger.SolutionDrug{{Drug: "morphine", MCGPerML: dec("1000")}}
				r.Dose = pumpledger.Dose{Drug: "morphine", MCGPerDay: dec("2000")}
				r.DiluentML = dec("18")
				return r
			},
			drugs: []drug{{"morphine", "J2274", "20000", "0", "100000", "0", "80000", 2, 0, "", true, true}},
			lines: []line{{"J2274", "", 2, "99999010201", "2"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "single-dose and multi-dose of one drug: only the single-dose remainder is JW",
			cat:  testCatalog,
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "1000", "1.2", vials("9999-0201-01", 1), vials("99998-202-05", 1))
				r.Solution = []pumpledger.SolutionDrug{{Drug: "hydromorphone", MCGPerML: dec("1000")}}
				r.Dose = pumpledger.Dose{Drug: "dilaudid", MCGPerDay: dec("1000")}
				r.DiluentML = dec("18")
				return r
			},
			// 20 mg: 10 mg from the single-dose vial (emptied), 10 mg from the 50 mg multi-dose (40 mg kept).
			drugs: []drug{{"hydromorphone", "J1170", "20000", "0", "60000", "0", "40000", 5, 0, "JZ", true, true}},
			lines: []line{{"J1170", "JZ", 3, "09999020101", "1"}, {"J1170", "", 2, "99998020205", "1"}, {"95990", "", 1, "", ""}}, // multi-dose NDC: neither JW nor JZ
		},
		{
			name: "hydromorphone J1170 'up to 4 mg': 6 mg is 2 units, 4 mg left is 1 JW",
			cat:  testCatalog,
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "300", "1.2", vials("9999-0201-01", 1))
				r.Solution = []pumpledger.SolutionDrug{{Drug: "J1170", MCGPerML: dec("300")}}
				r.Dose = pumpledger.Dose{Drug: "hydromorphone", MCGPerDay: dec("600")}
				r.DiluentML = dec("19.4")
				return r
			},
			drugs: []drug{{"hydromorphone", "J1170", "6000", "0", "10000", "4000", "0", 2, 1, "", true, true}},
			lines: []line{{"J1170", "", 2, "09999020101", "0.6"}, {"J1170", "JW", 1, "09999020101", "0.4"}, {"95990", "", 1, "", ""}},
		},
		{
			name: "rinse on a pump that is not naive: still discarded, still JW",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "14", "25", "1.2", vials("70720-723-10", 1))
				r.RinseML = dec("2")
				r.DiluentML = dec("0")
				return r
			},
			hist:  []entry{earlier("5", "1.2")},
			drugs: []drug{{"ziconotide", "J2278", "350", "50", "500", "100", "0", 350, 150, "", false, false}},
			lines: []line{{"J2278", "", 350, "70720072310", "14"}, {"J2278", "JW", 150, "70720072310", "6"}, {"95990", "", 1, "", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := tt.cat
			if cat == nil {
				cat = defaultCatalog
			}
			h := historyOf(t, cat, "synchromed-ii-20", "", tt.hist...)
			rec, err := refill.Derive(cat, tt.in(), h, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Drugs) != len(tt.drugs) {
				t.Fatalf("%d drugs, want %d", len(rec.Drugs), len(tt.drugs))
			}
			for i, w := range tt.drugs {
				g := rec.Drugs[i]
				if g.Drug != w.name || g.Code != w.code || !g.DispensedMCG.Equal(dec(w.dispensed)) || !g.RinseMCG.Equal(dec(w.rinse)) ||
					!g.OpenedMCG.Equal(dec(w.opened)) || !g.WasteMCG.Equal(dec(w.waste)) || !g.KeptMCG.Equal(dec(w.kept)) ||
					g.Units != w.units || g.WasteUnits != w.wasteUnits || strings.Join(g.Modifiers, ",") != w.modifiers ||
					g.Naive != w.naive || g.Diluted != w.diluted {
					t.Errorf("drug %d = %s %s dispensed %s rinse %s opened %s waste %s kept %s units %d JW %d %v naive %v diluted %v\nwant %+v",
						i, g.Drug, g.Code, g.DispensedMCG, g.RinseMCG, g.OpenedMCG, g.WasteMCG, g.KeptMCG, g.Units, g.WasteUnits, g.Modifiers, g.Naive, g.Diluted, w)
				}
				if g.Modifiers == nil {
					t.Errorf("drug %d modifiers nil, want [] in JSON", i)
				}
				// SPEC §6: opened = dispensed + rinse + waste + kept.
				if !g.DispensedMCG.Add(g.RinseMCG).Add(g.WasteMCG).Add(g.KeptMCG).Equal(g.OpenedMCG) {
					t.Errorf("drug %d: dispensed + rinse + waste + kept ≠ opened", i)
				}
			}
			if got := linesOf(rec); !slices.Equal(got, tt.lines) {
				t.Errorf("lines\n got %+v\nwant %+v", got, tt.lines)
			}
			for _, l := range rec.Lines {
				if l.DateOfService != "2026-03-31" || l.MRN != "MRN-1001" || l.EntryID != rec.ID || l.Description == "" {
					t.Errorf("line %+v: date, MRN, entry or description wrong", l)
				}
			}
			if rec.Warnings == nil || len(rec.Work) == 0 {
				t.Errorf("warnings %v, work %d lines", rec.Warnings, len(rec.Work))
			}
		})
	}
}

func TestDeriveSPECInterval(t *testing.T) {
	first := zic("2026-03-01T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
	first.DiluentML = dec("19")
	h := historyOf(t, defaultCatalog, "synchromed-ii-20", "", entry{Refill: &first}, entry{Reprogram: reprogram("2026-03-11T09:00:00Z", "2.4")})
	r := zic("2026-03-31T09:00:00Z", "20", "5", "2.4", vials("70720-720-10", 1))
	r.ResidualML, r.DiluentML = dec("5.5"), dec("19")
	rec, err := refill.Derive(defaultCatalog, r, h, now)
	if err != nil {
		t.Fatal(err)
	}
	iv := rec.Interval
	if iv == nil {
		t.Fatal("no interval")
	}
	for _, q := range []struct {
		name      string
		got, want decimal.Decimal
	}{
		{"days", iv.Days, dec("30")}, {"expected_residual_ml", iv.ExpectedResidualML, dec("8")}, {"residual_ml", iv.ResidualML, dec("5.5")},
		{"discrepancy_ml", iv.DiscrepancyML, dec("-2.5")}, {"infused_mcg", iv.InfusedMCG["ziconotide"], dec("72.5")},
		{"expected_infused_mcg", iv.ExpectedInfusedMCG["ziconotide"], dec("60")}, {"threshold", iv.ThresholdML, dec("1")},
	} {
		if !q.got.Equal(q.want) {
			t.Errorf("%s = %s, want %s", q.name, q.got, q.want)
		}
	}
	if !iv.DiscrepancyFlagged || iv.From != "2026-03-01T09:00:00Z" {
		t.Errorf("flagged %v from %s", iv.DiscrepancyFlagged, iv.From)
	}
	if !hasWarning(rec.Warnings, "RESIDUAL DISCREPANCY") || !hasWarning(rec.Warnings, "POCKET FILL") {
		t.Errorf("warnings %q lack the discrepancy", rec.Warnings)
	}
	// The same refill with the residual as expected: no flag, no warning.
	r.ResidualML = dec("8")
	rec, err = refill.Derive(defaultCatalog, r, h, now)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Interval.DiscrepancyFlagged || hasWarning(rec.Warnings, "DISCREPANCY") {
		t.Errorf("residual as expected: flagged %v, warnings %q", rec.Interval.DiscrepancyFlagged, rec.Warnings)
	}
}

func TestDeriveDSTAndEmpty(t *testing.T) {
	first := zic("2026-03-01T09:00:00-05:00", "20", "5", "1.2", vials("70720-720-10", 1))
	first.DiluentML = dec("19")
	h := historyOf(t, defaultCatalog, "synchromed-ii-20", "", entry{Refill: &first})
	r := zic("2026-03-31T09:00:00-04:00", "20", "5", "1.2", vials("70720-720-10", 1))
	r.ResidualML, r.DiluentML = dec("12.81"), dec("19")
	rec, err := refill.Derive(defaultCatalog, r, h, now)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Interval.Days.Equal(dec("29.9583")) || !rec.Interval.ExpectedResidualML.Equal(dec("12.81")) || !rec.Interval.DiscrepancyML.IsZero() {
		t.Errorf("across DST: %s days, expected %s, discrepancy %s; want 29.9583, 12.81, 0",
			rec.Interval.Days, rec.Interval.ExpectedResidualML, rec.Interval.DiscrepancyML)
	}
	if rec.Lines[0].DateOfService != "2026-03-31" {
		t.Errorf("date of service %s", rec.Lines[0].DateOfService)
	}

	// Empty: 10 mcg/day of 5 mcg/mL is 2 mL/day; 20 mL last 10 days.
	first = zic("2026-03-01T09:00:00Z", "20", "5", "10", vials("70720-720-10", 1))
	first.DiluentML = dec("19")
	h = historyOf(t, defaultCatalog, "synchromed-ii-20", "", entry{Refill: &first})
	r = zic("2026-03-16T09:00:00Z", "20", "5", "10", vials("70720-720-10", 1))
	r.DiluentML = dec("19")
	rec, err = refill.Derive(defaultCatalog, r, h, now)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Interval.ExpectedResidualML.IsZero() || !rec.Interval.ExpectedInfusedMCG["ziconotide"].Equal(dec("100")) || rec.Interval.DiscrepancyFlagged {
		t.Errorf("empty reservoir: expected %s, expected infused %s, flagged %v", rec.Interval.ExpectedResidualML, rec.Interval.ExpectedInfusedMCG, rec.Interval.DiscrepancyFlagged)
	}
	if !hasWarning(rec.Warnings, "should have run dry at 2026-03-11T09:00:00Z") {
		t.Errorf("warnings %q", rec.Warnings)
	}
}

func TestDeriveNextRefill(t *testing.T) {
	tests := []struct {
		name   string
		in     func() pumpledger.Refill
		hist   []entry
		model  string
		alarm  string
		want   string
		reason string
	}{
		{
			name: "threshold before the diluted limit: 18 × 5 ÷ 2.4 = 37.5 days",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "2.4", vials("70720-720-10", 1))
				r.DiluentML = dec("19")
				return r
			},
			hist: []entry{earlier("5", "2.4")}, want: "2026-05-07", reason: "2 mL refill threshold",
		},
		{
			name: "diluted limit, 40 days, before the threshold at 75 days",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
				r.DiluentML = dec("19")
				return r
			},
			hist: []entry{earlier("5", "1.2")}, want: "2026-05-10", reason: "ziconotide's stability limit of 40 days",
		},
		{
			name: "undiluted limit, 84 days, before the threshold at 187.5 days",
			in: func() pumpledger.Refill {
				return zic("2026-03-31T09:00:00Z", "20", "25", "2.4", vials("70720-723-10", 1))
			},
			hist: []entry{earlier("5", "2.4")}, want: "2026-06-23", reason: "ziconotide's stability limit of 84 days",
		},
		{
			name: "naive limit, 14 days",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "14", "25", "1.2", vials("70720-723-10", 1))
				r.RinseML = dec("6")
				return r
			},
			want: "2026-04-14", reason: "ziconotide's stability limit of 14 days",
		},
		{
			name: "a programmed alarm of 4 mL: 16 × 5 ÷ 2.4 = 33.33 days",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "2.4", vials("70720-720-10", 1))
				r.DiluentML = dec("19")
				return r
			},
			hist: []entry{earlier("5", "2.4")}, alarm: "4", want: "2026-05-03", reason: "4 mL refill threshold",
		},
		{
			name: "Prometra 3.0 mL: 17 × 5 ÷ 2.4 = 35.42 days",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "2.4", vials("70720-720-10", 1))
				r.DiluentML = dec("19")
				return r
			},
			hist: []entry{earlier("5", "2.4")}, model: "prometra-ii-20", want: "2026-05-05", reason: "3 mL refill threshold",
		},
		{
			name: "the date is on the clinic's wall clock: 37.5 days after 21:00 -05:00 is 4 May 09:00 local (14:00 UTC)",
			in: func() pumpledger.Refill {
				r := zic("2026-03-27T21:00:00-05:00", "20", "5", "2.4", vials("70720-720-10", 1))
				r.DiluentML = dec("19")
				return r
			},
			hist: []entry{earlier("5", "2.4")}, want: "2026-05-04", reason: "threshold",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := tt.model
			if model == "" {
				model = "synchromed-ii-20"
			}
			rec, err := refill.Derive(defaultCatalog, tt.in(), historyOf(t, defaultCatalog, model, tt.alarm, tt.hist...), now)
			if err != nil {
				t.Fatal(err)
			}
			if rec.NextRefillDue == nil || *rec.NextRefillDue != tt.want {
				t.Fatalf("next_refill_due = %v, want %s", rec.NextRefillDue, tt.want)
			}
			if !strings.Contains(rec.NextRefillReason, tt.reason) {
				t.Errorf("reason %q, want %q", rec.NextRefillReason, tt.reason)
			}
		})
	}
}

func TestDeriveNoNextRefill(t *testing.T) {
	r := zic("2026-03-31T09:00:00Z", "20", "1000", "0", vials("99999-102-01", 1))
	r.Solution = []pumpledger.SolutionDrug{{Drug: "morphine", MCGPerML: dec("1000")}}
	r.Dose = pumpledger.Dose{Drug: "morphine", MCGPerDay: dec("0")}
	r.DiluentML = dec("18")
	rec, err := refill.Derive(testCatalog, r, historyOf(t, testCatalog, "synchromed-ii-20", ""), now)
	if err != nil {
		t.Fatal(err)
	}
	if rec.NextRefillDue != nil || !hasWarning(rec.Warnings, "No next refill date") || !hasWarning(rec.Warnings, "The dose is 0 mcg/day") {
		t.Errorf("next %v, warnings %q", rec.NextRefillDue, rec.Warnings)
	}
}

func TestDeriveWarnings(t *testing.T) {
	tests := []struct {
		name string
		in   func() pumpledger.Refill
		hist []entry
		want []string // substrings, each in some warning
		not  []string // substrings in no warning
	}{
		{
			name: "starting dose above 2.4",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "14", "25", "3", vials("70720-723-10", 1))
				r.RinseML = dec("6")
				return r
			},
			want: []string{"Starting dose 3 mcg/day of ziconotide is above the label's starting maximum of 2.4"},
			not:  []string{"rinse"},
		},
		{
			name: "step above 2.4",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "5", vials("70720-720-10", 1))
				r.DiluentML = dec("19")
				return r
			},
			hist: []entry{earlier("5", "2.4")},
			want: []string{"Increase of 2.6 mcg/day of ziconotide (from 2.4 to 5)"},
			not:  []string{"Starting", "within 24 hours"},
		},
		{
			name: "above 19.2",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "25", "21.6", vials("70720-723-10", 1))
				return r
			},
			hist: []entry{earlier("5", "19.2")},
			want: []string{"Dose 21.6 mcg/day of ziconotide is above the label maximum of 19.2"},
		},
		{
			name: "two increases within 24 h, and the fourth in 7 days",
			in: func() pumpledger.Refill {
				r := zic("2026-03-07T08:00:00Z", "20", "10", "6", vials("70720-720-10", 2))
				r.DiluentML = dec("18")
				return r
			},
			hist: []entry{
				func() entry {
					r := zic("2026-03-01T09:00:00Z", "20", "10", "1.2", vials("70720-720-10", 2))
					r.DiluentML = dec("18")
					return entry{Refill: &r}
				}(),
				{Reprogram: reprogram("2026-03-02T09:00:00Z", "2.4")},
				{Reprogram: reprogram("2026-03-04T09:00:00Z", "3.6")},
				{Reprogram: reprogram("2026-03-06T09:00:00Z", "4.8")},
			},
			want: []string{"second increase of ziconotide within 24 hours", "increase number 4 of ziconotide in 7 days"},
			not:  []string{"largest step"},
		},
		{
			name: "a naive pump not rinsed",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
				r.DiluentML = dec("19")
				return r
			},
			want: []string{"Label: this pump has not held ziconotide before", "rinse_ml is 0"},
		},
		{
			name: "a rinse drawn from 100 mcg/mL vials",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("68118-722-10", 2))
				r.RinseML, r.DiluentML = dec("6"), dec("19")
				return r
			},
			want: []string{"The rinse was drawn from 100 mcg/mL containers (NDC 68118-0722-10)", "List the 25 mcg/mL vials first"},
		},
		{
			name: "a rinse on a pump that is not naive",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "14", "25", "1.2", vials("70720-723-10", 1))
				r.RinseML = dec("6")
				return r
			},
			hist: []entry{earlier("5", "1.2")},
			want: []string{"rinse_ml 6 is recorded but this pump has held ziconotide before"},
		},
		{
			name: "expired vial, no lot, presentation to verify",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "25", "1.2", pumpledger.VialUse{NDC: "70720-723-10", Count: 1, Expires: "2026-03-30"})
				return r
			},
			hist: []entry{earlier("5", "1.2")},
			want: []string{"EXPIRED: vials[0] (NDC 70720-0723-10, no lot recorded) expired on 2026-03-30", "has no lot number", "check the carton says 500 mcg in 20 mL"},
		},
		{
			name: "a vial expiring on the refill's date is not expired",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T23:30:00-05:00", "20", "5", "1.2", pumpledger.VialUse{NDC: "70720-720-10", Count: 1, Lot: "A1", Expires: "2026-03-31"})
				r.DiluentML = dec("19")
				return r
			},
			hist: []entry{earlier("5", "1.2")},
			not:  []string{"EXPIRED"},
		},
		{
			name: "residual more than the last fill",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
				r.ResidualML, r.DiluentML = dec("20"), dec("19")
				return r
			},
			hist: []entry{func() entry {
				r := zic("2026-03-01T09:00:00Z", "18", "5", "1.2", vials("70720-720-10", 1))
				r.DiluentML = dec("17")
				return entry{Refill: &r}
			}()},
			want: []string{"residual_ml 20 is more than the 18 mL the pump was last filled with", "MORE left than expected"},
		},
		{
			name: "a fill at the refill threshold",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "2", "50", "1.2", vials("70720-720-10", 1))
				r.DiluentML = dec("1")
				return r
			},
			hist: []entry{earlier("5", "1.2")},
			want: []string{"fill_ml 2 is at or below the pump's 2 mL refill threshold"},
		},
		{
			name: "nothing to warn about",
			in: func() pumpledger.Refill {
				r := zic("2026-03-31T09:00:00Z", "20", "5", "2.4", vials("70720-720-10", 1))
				r.ResidualML, r.DiluentML = dec("12.8"), dec("19")
				r.Procedure = "62369" // the dose changed: a refill with reprogramming
				return r
			},
			hist: []entry{earlier("5", "1.2")},
			not:  []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := refill.Derive(defaultCatalog, tt.in(), historyOf(t, defaultCatalog, "synchromed-ii-20", "", tt.hist...), now)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !hasWarning(rec.Warnings, w) {
					t.Errorf("no warning with %q in %q", w, rec.Warnings)
				}
			}
			for _, w := range tt.not {
				if hasWarning(rec.Warnings, w) {
					t.Errorf("a warning with %q in %q", w, rec.Warnings)
				}
			}
		})
	}
}

// SPEC §7: every refused input its own EINVALID error naming its field.
func TestDeriveRefused(t *testing.T) {
	ok := func() pumpledger.Refill {
		r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
		r.ResidualML, r.DiluentML = dec("12.8"), dec("19")
		return r
	}
	tests := []struct {
		name  string
		cat   *catalog.Catalog
		edit  func(*pumpledger.Refill)
		hist  []entry
		now   time.Time
		field string
		want  string
	}{
		{name: "unknown drug", edit: func(r *pumpledger.Refill) { r.Solution[0].Drug = "fentanyl" },
			field: "solution[0].drug", want: `solution[0].drug "fentanyl" is not in the catalog`},
		{name: "unknown NDC", edit: func(r *pumpledger.Refill) { r.Vials[0].NDC = "99999-999-99" },
			field: "vials[0].ndc", want: "vials[0].ndc 99999-0999-99 is not in the catalog"},
		{name: "NDC in no accepted form", edit: func(r *pumpledger.Refill) { r.Vials[0].NDC = "7072072010" },
			field: "vials[0].ndc", want: `vials[0].ndc "7072072010" is not an NDC`},
		{name: "a vial of a drug the solution does not hold", cat: testCatalog,
			edit:  func(r *pumpledger.Refill) { r.Vials = append(r.Vials, vials("99999-101-01", 1)) },
			field: "vials[1].ndc", want: "vials[1].ndc 99999-0101-01 is morphine, which the solution does not list"},
		{name: "a drug of the solution with no vial", cat: testCatalog,
			edit: func(r *pumpledger.Refill) {
				r.Solution = append(r.Solution, pumpledger.SolutionDrug{Drug: "morphine", MCGPerML: dec("1000")})
			},
			field: "vials", want: "vials lists no container of morphine"},
		{name: "the same drug twice, by name and code", edit: func(r *pumpledger.Refill) {
			r.Solution = append(r.Solution, pumpledger.SolutionDrug{Drug: "J2277", MCGPerML: dec("5")})
		}, field: "solution[1].drug", want: `solution[1].drug "J2277" is ziconotide again`},
		{name: "dose of a drug not in the solution", cat: testCatalog, edit: func(r *pumpledger.Refill) { r.Dose.Drug = "morphine" },
			field: "dose.drug", want: `dose.drug "morphine" is not a drug of the solution`},
		{name: "dose of an unknown drug", edit: func(r *pumpledger.Refill) { r.Dose.Drug = "aspirin" },
			field: "dose.drug", want: `dose.drug "aspirin" is not a drug of the solution`},
		{name: "fill above the reservoir", edit: func(r *pumpledger.Refill) { r.FillML, r.DiluentML = dec("20.5"), dec("19.5") },
			field: "fill_ml", want: "fill_ml 20.5 is more than the synchromed-ii-20 reservoir of 20 mL"},
		{name: "residual above the reservoir", edit: func(r *pumpledger.Refill) { r.ResidualML = dec("21") },
			field: "residual_ml", want: "residual_ml 21 is more than the synchromed-ii-20 reservoir of 20 mL"},
		{name: "containers hold less than the fill", edit: func(r *pumpledger.Refill) { r.Solution[0].MCGPerML = dec("7.5") },
			field: "vials", want: "vials hold 100 mcg of ziconotide but the rinse and fill need 150 mcg"},
		{name: "containers hold less than the rinse and the fill", edit: func(r *pumpledger.Refill) {
			r.Vials[0] = vials("70720-723-10", 1)
			r.Solution[0].MCGPerML, r.FillML, r.RinseML, r.DiluentML = dec("25"), dec("16"), dec("6"), dec("0")
		}, field: "vials", want: "vials hold 500 mcg of ziconotide but the rinse and fill need 550 mcg"},
		{name: "diluent 0.11 mL off", edit: func(r *pumpledger.Refill) { r.DiluentML = dec("19.11") },
			field: "diluent_ml", want: "diluent_ml 19.11 does not add up: 1 mL of drug plus diluent must make the 20 mL fill, so diluent_ml should be 19"},
		{name: "diluent 0.11 mL short", edit: func(r *pumpledger.Refill) { r.DiluentML = dec("18.89") },
			field: "diluent_ml", want: "diluent_ml should be 19"},
		{name: "the drug alone more than the fill", edit: func(r *pumpledger.Refill) {
			r.Vials[0] = vials("70720-723-10", 1)
			r.Solution[0].MCGPerML, r.FillML, r.DiluentML = dec("50"), dec("2"), dec("0")
		}, field: "fill_ml", want: "The drug alone is 4 mL, more than fill_ml 2"},
		{name: "performed_at in the future", now: time.Date(2026, 3, 31, 8, 59, 0, 0, time.UTC),
			field: "performed_at", want: "performed_at 2026-03-31T09:00:00Z is in the future"},
		{name: "performed_at not after the last fill", hist: []entry{func() entry {
			r := zic("2026-03-31T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
			r.DiluentML = dec("19")
			return entry{Refill: &r}
		}()}, field: "performed_at", want: "is not after this pump's last fill at 2026-03-31T09:00:00Z"},
		{name: "a procedure that is no refill", edit: func(r *pumpledger.Refill) { r.Procedure = "62368" },
			field: "procedure", want: `procedure "62368" is not a refill code; use one of 62369, 62370, 95990, 95991`},
		{name: "an unknown procedure", edit: func(r *pumpledger.Refill) { r.Procedure = "J2278" },
			field: "procedure", want: `procedure "J2278" is not a refill code`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := tt.cat
			if cat == nil {
				cat = defaultCatalog
			}
			r := ok()
			if tt.edit != nil {
				tt.edit(&r)
			}
			hist := tt.hist
			if hist == nil {
				hist = []entry{earlier("5", "1.2")}
			}
			clock := tt.now
			if clock.IsZero() {
				clock = now
			}
			rec, err := refill.Derive(cat, r, historyOf(t, cat, "synchromed-ii-20", "", hist...), clock)
			if err == nil {
				t.Fatalf("Derive accepted it: %+v", rec.Drugs)
			}
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID {
				t.Fatalf("err = %#v, want an EINVALID *Error", err)
			}
			if e.Field != tt.field {
				t.Errorf("Field = %q, want %q", e.Field, tt.field)
			}
			if !strings.Contains(e.Message, tt.field) {
				t.Errorf("message %q does not name the field %s", e.Message, tt.field)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q, want it to contain %q", e.Message, tt.want)
			}
		})
	}
	// The tolerance itself is accepted.
	for _, d := range []string{"19.1", "18.9"} {
		r := ok()
		r.DiluentML = dec(d)
		if _, err := refill.Derive(defaultCatalog, r, historyOf(t, defaultCatalog, "synchromed-ii-20", "", earlier("5", "1.2")), now); err != nil {
			t.Errorf("diluent %s (0.1 mL off): %v", d, err)
		}
	}
	// A refill at the clock's very instant is not in the future.
	r := ok()
	if _, err := refill.Derive(defaultCatalog, r, historyOf(t, defaultCatalog, "synchromed-ii-20", "", earlier("5", "1.2")), r.PerformedAt.UTC); err != nil {
		t.Errorf("refill at now: %v", err)
	}
}

func TestFillOf(t *testing.T) {
	r := zic("2026-03-31T09:00:00-04:00", "20", "5", "2.4", vials("70720-720-10", 1))
	r.Solution = []pumpledger.SolutionDrug{{Drug: "J2277", MCGPerML: dec("5")}, {Drug: "Morphine-PF", MCGPerML: dec("1000")}}
	r.Dose.Drug = "prialt"
	f := refill.FillOf(testCatalog, r)
	if !f.At.Equal(time.Date(2026, 3, 31, 13, 0, 0, 0, time.UTC)) || !f.ML.Equal(dec("20")) || len(f.MCGPerML) != 2 ||
		!f.MCGPerML["ziconotide"].Equal(dec("5")) || !f.MCGPerML["morphine"].Equal(dec("1000")) {
		t.Errorf("FillOf = %+v", f)
	}
	if f.Dose.Drug != "ziconotide" || !f.Dose.At.Equal(f.At) || !f.Dose.MCGPerDay.Equal(dec("2.4")) {
		t.Errorf("FillOf dose = %+v", f.Dose)
	}
}

func TestCheckReprogram(t *testing.T) {
	first := zic("2026-03-01T09:00:00Z", "20", "5", "1.2", vials("70720-720-10", 1))
	first.DiluentML = dec("19")
	h := historyOf(t, defaultCatalog, "synchromed-ii-20", "", entry{Refill: &first})

	tests := []struct {
		name  string
		p     *pumpledger.Reprogram
		h     refill.History
		now   time.Time
		field string   // refused on this field; "" accepted
		warn  []string // accepted with these warnings
	}{
		{name: "a step of 2.4", p: reprogram("2026-03-08T09:00:00Z", "3.6"), h: h},
		{name: "by code", p: func() *pumpledger.Reprogram {
			p := reprogram("2026-03-08T09:00:00Z", "2.4")
			p.Dose.Drug = "J2277"
			return p
		}(), h: h},
		{name: "a step above 2.4", p: reprogram("2026-03-08T09:00:00Z", "4"), h: h, warn: []string{"Increase of 2.8 mcg/day"}},
		{name: "the second increase within 24 h",
			p:    reprogram("2026-03-09T08:00:00Z", "3.6"),
			h:    historyOf(t, defaultCatalog, "synchromed-ii-20", "", entry{Refill: &first}, entry{Reprogram: reprogram("2026-03-08T09:00:00Z", "2.4")}),
			warn: []string{"second increase of ziconotide within 24 hours"}},
		{name: "zero dose", p: reprogram("2026-03-08T09:00:00Z", "0"), h: h, warn: []string{"The dose is 0 mcg/day"}},
		{name: "in the future", p: reprogram("2026-06-02T09:00:00Z", "2.4"), h: h, field: "performed_at"},
		{name: "no fill recorded", p: reprogram("2026-03-08T09:00:00Z", "2.4"), h: historyOf(t, defaultCatalog, "synchromed-ii-20", ""), field: "pump_serial"},
		{name: "at the fill", p: reprogram("2026-03-01T09:00:00Z", "2.4"), h: h, field: "performed_at"},
		{name: "a refill code", p: func() *pumpledger.Reprogram {
			p := reprogram("2026-03-08T09:00:00Z", "2.4")
			p.Procedure = "62369"
			return p
		}(), h: h, field: "procedure"},
		{name: "a refill-only code", p: func() *pumpledger.Reprogram {
			p := reprogram("2026-03-08T09:00:00Z", "2.4")
			p.Procedure = "95990"
			return p
		}(), h: h, field: "procedure"},
		{name: "a drug the fill does not hold", p: func() *pumpledger.Reprogram {
			p := reprogram("2026-03-08T09:00:00Z", "2.4")
			p.Dose.Drug = "morphine"
			return p
		}(), h: h, field: "dose.drug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := tt.now
			if clock.IsZero() {
				clock = now
			}
			ws, err := refill.CheckReprogram(defaultCatalog, *tt.p, tt.h, clock)
			if tt.field != "" {
				var e *pumpledger.Error
				if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Field != tt.field || !strings.Contains(e.Message, tt.field) {
					t.Fatalf("err = %v, want EINVALID naming %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ws == nil || len(ws) != len(tt.warn) {
				t.Fatalf("warnings %q, want %d like %q", ws, len(tt.warn), tt.warn)
			}
			for _, w := range tt.warn {
				if !hasWarning(ws, w) {
					t.Errorf("no warning %q in %q", w, ws)
				}
			}
		})
	}
}

// The property of SPEC §5 over many random refills: for single-dose containers
// holding whole units, administered units + JW units = the units opened, and
// each drug's claim lines (one per NDC) sum to its units and its JW units.
func TestPropertyUnitsAddUp(t *testing.T) {
	r := newRand(20260331)
	wholeUnit := map[string][]string{} // drug → printed NDCs of single-dose products with whole-unit contents
	for _, p := range testCatalog.Products {
		d, _ := testCatalog.Drug(p.Drug)
		if p.SingleDose && p.MCG().Mod(d.UnitMCG).IsZero() {
			wholeUnit[p.Drug] = append(wholeUnit[p.Drug], p.Printed)
		}
	}
	if len(wholeUnit["ziconotide"]) < 3 || len(wholeUnit["morphine"]) < 2 {
		t.Fatalf("test catalog products: %v", wholeUnit)
	}
	checked := 0
	for i := 0; i < 3000; i++ {
		in, h, ok := randomRefill(r, wholeUnit)
		if !ok {
			continue
		}
		rec, err := refill.Derive(testCatalog, in, h, now)
		if err != nil {
			t.Fatalf("refill %d: %v\n%+v", i, err, in)
		}
		checked++
		if lines, err := refill.Lines(testCatalog, in); err != nil || !reflect.DeepEqual(lines, rec.Lines) {
			t.Fatalf("refill %d: Lines = %+v, %v; want the record's %+v", i, lines, err, rec.Lines)
		}
		for _, d := range rec.Drugs {
			drug, _ := testCatalog.Drug(d.Drug)
			opened := d.OpenedMCG.Div(drug.UnitMCG)
			if !opened.IsInteger() {
				t.Fatalf("refill %d: %s opened %s mcg, not whole units", i, d.Drug, d.OpenedMCG)
			}
			if d.Units+d.WasteUnits != opened.IntPart() {
				t.Fatalf("refill %d: %s %d units + %d JW ≠ %s opened units (dispensed %s, rinse %s, waste %s)",
					i, d.Drug, d.Units, d.WasteUnits, opened, d.DispensedMCG, d.RinseMCG, d.WasteMCG)
			}
			var given, jw int64
			ndcs := map[string]bool{}
			for _, l := range rec.Lines {
				if l.Code != drug.Code {
					continue
				}
				key := strings.Join(l.Modifiers, ",") + "|" + l.NDC
				if ndcs[key] {
					t.Fatalf("refill %d: two %s lines for NDC %s", i, key, l.NDC)
				}
				ndcs[key] = true
				if l.Units <= 0 || len(l.NDC) != 11 {
					t.Fatalf("refill %d: line %+v", i, l)
				}
				if slices.Contains(l.Modifiers, billing.JW) {
					jw += l.Units
				} else {
					given += l.Units
				}
			}
			if given != d.Units || jw != d.WasteUnits {
				t.Fatalf("refill %d: %s lines sum to %d + %d JW, want %d + %d", i, d.Drug, given, jw, d.Units, d.WasteUnits)
			}
			if (d.WasteUnits == 0) != slices.Equal(d.Modifiers, []string{billing.JZ}) {
				t.Fatalf("refill %d: %s JW %d, modifiers %v", i, d.Drug, d.WasteUnits, d.Modifiers)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d random refills were derivable", checked)
	}
}

// The vial-choice warning weighs each drug of an admixture in the room the
// other drugs leave: 16 mL of ziconotide leaves 4 mL of a 20 mL fill for
// 10 mg of morphine, which the waste-free 1 mg/mL ampul (10 mL) cannot fit,
// so the 25 mg/mL ampul the nurse drew from is the best that fits, and no
// "better vial combination" is claimed. With the room (an 8 mL ziconotide
// draw leaving 12), the waste-free ampul fits and the warning stands.
func TestVialChoiceLeavesRoomForTheOtherDrugs(t *testing.T) {
	admix := func(zicConc, zicVials string, zicCount int) pumpledger.Refill {
		r := zic("2026-03-31T09:00:00Z", "20", zicConc, "2.4", vials(zicVials, zicCount), vials("99999-101-01", 1))
		r.Solution = append(r.Solution, pumpledger.SolutionDrug{Drug: "morphine", MCGPerML: dec("500")})
		return r
	}
	hist := historyOf(t, testCatalog, "synchromed-ii-20", "", earlier("5", "1.2"))
	cases := []struct {
		name    string
		in      pumpledger.Refill
		diluent string
		warned  bool
	}{
		{"no room for the 10 mL ampul", admix("20", "70720-723-10", 1), "3.6", false}, // 16 mL + 0.4 mL of drug
		{"room for the 10 mL ampul", admix("10", "70720-723-10", 1), "11.6", true},    // 8 mL + 0.4 mL
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.DiluentML = dec(tc.diluent)
			rec, err := refill.Derive(testCatalog, tc.in, hist, now)
			if err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, w := range rec.Warnings {
				warned = warned || strings.Contains(w, "The morphine containers opened discard")
			}
			if warned != tc.warned {
				t.Errorf("morphine vial-choice warning %v, want %v: %q", warned, tc.warned, rec.Warnings)
			}
		})
	}
}
