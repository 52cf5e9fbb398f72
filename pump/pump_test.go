package pump_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/pump"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func eq(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(dec(want)) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func zicFill(when, ml, conc, dose string) pump.Fill {
	w := at(when)
	return pump.Fill{At: w, ML: dec(ml), MCGPerML: map[string]decimal.Decimal{"ziconotide": dec(conc)},
		Dose: pump.DoseChange{At: w, Drug: "ziconotide", MCGPerDay: dec(dose)}}
}

func change(when, dose string) pump.DoseChange {
	return pump.DoseChange{At: at(when), Drug: "ziconotide", MCGPerDay: dec(dose)}
}

func TestMLPerDayAndDays(t *testing.T) {
	eq(t, "MLPerDay(1.2, 5)", pump.MLPerDay(dec("1.2"), dec("5")), "0.24")
	eq(t, "MLPerDay(2.4, 5)", pump.MLPerDay(dec("2.4"), dec("5")), "0.48")
	eq(t, "MLPerDay(1, 3)", pump.MLPerDay(dec("1"), dec("3")), "0.3333")
	eq(t, "MLPerDay(2, 3)", pump.MLPerDay(dec("2"), dec("3")), "0.6667")
	eq(t, "Days(30 days)", pump.Days(at("2026-03-01T09:00:00Z"), at("2026-03-31T09:00:00Z")), "30")
	eq(t, "Days(36 h)", pump.Days(at("2026-03-01T09:00:00Z"), at("2026-03-02T21:00:00Z")), "1.5")
	// 1 March 09:00 EST to 31 March 09:00 EDT: the clocks went forward on
	// 8 March, so 29 days 23 hours passed, not 30 days.
	eq(t, "Days(across DST)", pump.Days(at("2026-03-01T09:00:00-05:00"), at("2026-03-31T09:00:00-04:00")), "29.9583")
	eq(t, "Days(backwards)", pump.Days(at("2026-03-02T09:00:00Z"), at("2026-03-01T09:00:00Z")), "-1")
}

func TestReconcile(t *testing.T) {
	type want struct {
		days, expected, discrepancy string
		flagged                     bool
		infused, expectedInfused    map[string]string
		segments                    int
		emptyAt                     string // "" for none
	}
	tests := []struct {
		name      string
		prev      pump.Fill
		changes   []pump.DoseChange
		at        string
		residual  string
		threshold string
		want      want
	}{
		{
			name:    "SPEC §6 worked example",
			prev:    zicFill("2026-03-01T09:00:00Z", "20", "5", "1.2"),
			changes: []pump.DoseChange{change("2026-03-11T09:00:00Z", "2.4")},
			at:      "2026-03-31T09:00:00Z", residual: "5.5", threshold: "1",
			want: want{days: "30", expected: "8", discrepancy: "-2.5", flagged: true, segments: 2,
				infused: map[string]string{"ziconotide": "72.5"}, expectedInfused: map[string]string{"ziconotide": "60"}},
		},
		{
			name:    "SPEC §6 with the residual as expected",
			prev:    zicFill("2026-03-01T09:00:00Z", "20", "5", "1.2"),
			changes: []pump.DoseChange{change("2026-03-11T09:00:00Z", "2.4")},
			at:      "2026-03-31T09:00:00Z", residual: "8", threshold: "1",
			want: want{days: "30", expected: "8", discrepancy: "0", flagged: false, segments: 2,
				infused: map[string]string{"ziconotide": "60"}, expectedInfused: map[string]string{"ziconotide": "60"}},
		},
		{
			name: "discrepancy exactly at the threshold is not flagged",
			prev: zicFill("2026-03-01T09:00:00Z", "20", "5", "1.2"),
			at:   "2026-03-31T09:00:00Z", residual: "11.8", threshold: "1", // expected 20 − 7.2 = 12.8
			want: want{days: "30", expected: "12.8", discrepancy: "-1", flagged: false, segments: 1,
				infused: map[string]string{"ziconotide": "41"}, expectedInfused: map[string]string{"ziconotide": "36"}},
		},
		{
			name: "just above the threshold, more left than expected: flagged",
			prev: zicFill("2026-03-01T09:00:00Z", "20", "5", "1.2"),
			at:   "2026-03-31T09:00:00Z", residual: "13.81", threshold: "1",
			want: want{days: "30", expected: "12.8", discrepancy: "1.01", flagged: true, segments: 1,
				infused: map[string]string{"ziconotide": "30.95"}, expectedInfused: map[string]string{"ziconotide": "36"}},
		},
		{
			name: "a 40 mL pump's 2 mL threshold",
			prev: zicFill("2026-03-01T09:00:00Z", "40", "5", "1.2"),
			at:   "2026-03-31T09:00:00Z", residual: "31", threshold: "2", // expected 32.8
			want: want{days: "30", expected: "32.8", discrepancy: "-1.8", flagged: false, segments: 1,
				infused: map[string]string{"ziconotide": "45"}, expectedInfused: map[string]string{"ziconotide": "36"}},
		},
		{
			name: "DST inside the interval: real elapsed time",
			prev: zicFill("2026-03-01T09:00:00-05:00", "20", "5", "1.2"),
			at:   "2026-03-31T09:00:00-04:00", residual: "12.81", threshold: "1",
			// 719 h × 0.01 mL/h = 7.19 mL, not 30 days' 7.2 mL.
			want: want{days: "29.9583", expected: "12.81", discrepancy: "0", flagged: false, segments: 1,
				infused: map[string]string{"ziconotide": "35.95"}, expectedInfused: map[string]string{"ziconotide": "35.95"}},
		},
		{
			name: "empty reservoir: the expected residual stops at zero",
			prev: zicFill("2026-03-01T09:00:00Z", "20", "5", "10"), // 2 mL/day: dry after 10 days
			at:   "2026-03-16T09:00:00Z", residual: "0", threshold: "1",
			want: want{days: "15", expected: "0", discrepancy: "0", flagged: false, segments: 1, emptyAt: "2026-03-11T09:00:00Z",
				infused: map[string]string{"ziconotide": "100"}, expectedInfused: map[string]string{"ziconotide": "100"}},
		},
		{
			name:    "runs dry in the second segment",
			prev:    zicFill("2026-03-01T09:00:00Z", "20", "5", "5"), // 1 mL/day
			changes: []pump.DoseChange{change("2026-03-11T09:00:00Z", "20")},
			// 10 mL in 10 days, then 4 mL/day: the last 10 mL last 2.5 days.
			at: "2026-03-21T09:00:00Z", residual: "0", threshold: "1",
			want: want{days: "20", expected: "0", discrepancy: "0", flagged: false, segments: 2, emptyAt: "2026-03-13T21:00:00Z",
				infused: map[string]string{"ziconotide": "100"}, expectedInfused: map[string]string{"ziconotide": "100"}},
		},
		{
			name: "changes out of order, and outside the interval, are sorted and dropped",
			prev: zicFill("2026-03-01T09:00:00Z", "20", "5", "1.2"),
			changes: []pump.DoseChange{
				change("2026-03-21T09:00:00Z", "0"),   // last 10 days: nothing
				change("2026-03-11T09:00:00Z", "2.4"), // 10 days at 0.48
				change("2026-02-20T09:00:00Z", "99"),  // before the fill
				change("2026-04-20T09:00:00Z", "99"),  // after the refill
				change("2026-03-01T09:00:00Z", "99"),  // at the fill itself: the fill's dose stands
			},
			at: "2026-03-31T09:00:00Z", residual: "12.8", threshold: "1", // 20 − 2.4 − 4.8
			want: want{days: "30", expected: "12.8", discrepancy: "0", flagged: false, segments: 3,
				infused: map[string]string{"ziconotide": "36"}, expectedInfused: map[string]string{"ziconotide": "36"}},
		},
		{
			name: "admixture: the dose of one drug sets the rate, each drug infused at its own strength",
			prev: pump.Fill{At: at("2026-03-01T09:00:00Z"), ML: dec("20"),
				MCGPerML: map[string]decimal.Decimal{"ziconotide": dec("5"), "morphine": dec("10000")},
				Dose:     pump.DoseChange{At: at("2026-03-01T09:00:00Z"), Drug: "ziconotide", MCGPerDay: dec("2.4")}},
			// 0.48 mL/day × 20 days = 9.6 mL
			at: "2026-03-21T09:00:00Z", residual: "10", threshold: "1",
			want: want{days: "20", expected: "10.4", discrepancy: "-0.4", flagged: false, segments: 1,
				infused:         map[string]string{"ziconotide": "50", "morphine": "100000"},
				expectedInfused: map[string]string{"ziconotide": "48", "morphine": "96000"}},
		},
		{
			name:    "admixture: a later change doses the other drug",
			prev:    pump.Fill{At: at("2026-03-01T09:00:00Z"), ML: dec("20"), MCGPerML: map[string]decimal.Decimal{"ziconotide": dec("5"), "morphine": dec("10000")}, Dose: pump.DoseChange{At: at("2026-03-01T09:00:00Z"), Drug: "ziconotide", MCGPerDay: dec("2.4")}},
			changes: []pump.DoseChange{{At: at("2026-03-11T09:00:00Z"), Drug: "morphine", MCGPerDay: dec("10000")}}, // 1 mL/day
			at:      "2026-03-21T09:00:00Z", residual: "5.2", threshold: "1",                                        // 20 − 4.8 − 10
			want: want{days: "20", expected: "5.2", discrepancy: "0", flagged: false, segments: 2,
				infused:         map[string]string{"ziconotide": "74", "morphine": "148000"},
				expectedInfused: map[string]string{"ziconotide": "74", "morphine": "148000"}},
		},
		{
			name: "zero dose delivers nothing",
			prev: zicFill("2026-03-01T09:00:00Z", "20", "5", "0"),
			at:   "2026-03-31T09:00:00Z", residual: "20", threshold: "1",
			want: want{days: "30", expected: "20", discrepancy: "0", flagged: false, segments: 1,
				infused: map[string]string{"ziconotide": "0"}, expectedInfused: map[string]string{"ziconotide": "0"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv, err := pump.Reconcile(tt.prev, tt.changes, at(tt.at), dec(tt.residual), dec(tt.threshold))
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			eq(t, "Days", iv.Days, w.days)
			eq(t, "ExpectedResidualML", iv.ExpectedResidualML, w.expected)
			eq(t, "DiscrepancyML", iv.DiscrepancyML, w.discrepancy)
			eq(t, "ResidualML", iv.ResidualML, tt.residual)
			eq(t, "FillML", iv.FillML, tt.prev.ML.String())
			eq(t, "ThresholdML", iv.ThresholdML, tt.threshold)
			if iv.Flagged != w.flagged {
				t.Errorf("Flagged = %v, want %v", iv.Flagged, w.flagged)
			}
			if len(iv.Segments) != w.segments {
				t.Errorf("%d segments, want %d", len(iv.Segments), w.segments)
			}
			if len(iv.InfusedMCG) != len(w.infused) || len(iv.ExpectedInfusedMCG) != len(w.expectedInfused) {
				t.Errorf("InfusedMCG %v, ExpectedInfusedMCG %v; want %v, %v", iv.InfusedMCG, iv.ExpectedInfusedMCG, w.infused, w.expectedInfused)
			}
			for drug, v := range w.infused {
				eq(t, "InfusedMCG["+drug+"]", iv.InfusedMCG[drug], v)
			}
			for drug, v := range w.expectedInfused {
				eq(t, "ExpectedInfusedMCG["+drug+"]", iv.ExpectedInfusedMCG[drug], v)
			}
			switch {
			case w.emptyAt == "" && iv.EmptyAt != nil:
				t.Errorf("EmptyAt = %s, want none", iv.EmptyAt)
			case w.emptyAt != "" && (iv.EmptyAt == nil || !iv.EmptyAt.Equal(at(w.emptyAt))):
				t.Errorf("EmptyAt = %v, want %s", iv.EmptyAt, w.emptyAt)
			}
			// The segments tile the interval and their volumes add up.
			if len(iv.Segments) > 0 {
				if !iv.Segments[0].From.Equal(tt.prev.At) || !iv.Segments[len(iv.Segments)-1].To.Equal(at(tt.at)) {
					t.Errorf("segments run %s–%s, want %s–%s", iv.Segments[0].From, iv.Segments[len(iv.Segments)-1].To, tt.prev.At, tt.at)
				}
				sum := decimal.Zero
				for i, s := range iv.Segments {
					if i > 0 && !s.From.Equal(iv.Segments[i-1].To) {
						t.Errorf("segment %d starts at %s, the previous ended at %s", i, s.From, iv.Segments[i-1].To)
					}
					sum = sum.Add(s.ML)
				}
				if w.emptyAt == "" {
					eq(t, "fill − Σ segment mL", tt.prev.ML.Sub(sum), w.expected)
				}
			}
		})
	}
}

func TestReconcileSegmentsOfSPEC(t *testing.T) {
	iv, err := pump.Reconcile(zicFill("2026-03-01T09:00:00Z", "20", "5", "1.2"),
		[]pump.DoseChange{change("2026-03-11T09:00:00Z", "2.4")}, at("2026-03-31T09:00:00Z"), dec("5.5"), dec("1"))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []struct{ days, mlPerDay, ml, dose string }{{"10", "0.24", "2.4", "1.2"}, {"20", "0.48", "9.6", "2.4"}} {
		s := iv.Segments[i]
		eq(t, "Days", s.Days, w.days)
		eq(t, "MLPerDay", s.MLPerDay, w.mlPerDay)
		eq(t, "ML", s.ML, w.ml)
		eq(t, "MCGPerDay", s.MCGPerDay, w.dose)
		if s.Drug != "ziconotide" {
			t.Errorf("segment %d drug %q", i, s.Drug)
		}
	}
}

func TestReconcileRefused(t *testing.T) {
	prev := zicFill("2026-03-01T09:00:00Z", "20", "5", "1.2")
	if _, err := pump.Reconcile(prev, nil, at("2026-02-28T09:00:00Z"), dec("5"), dec("1")); err == nil || !strings.Contains(err.Error(), "before the previous fill") {
		t.Errorf("refill before the fill: err = %v", err)
	}
	bad := []pump.DoseChange{{At: at("2026-03-05T09:00:00Z"), Drug: "morphine", MCGPerDay: dec("1000")}}
	if _, err := pump.Reconcile(prev, bad, at("2026-03-31T09:00:00Z"), dec("5"), dec("1")); err == nil || !strings.Contains(err.Error(), "morphine") {
		t.Errorf("dose of a drug the fill does not hold: err = %v", err)
	}
}

func TestNextRefill(t *testing.T) {
	tests := []struct {
		name      string
		fill      pump.Fill
		alarm     string
		stability int
		want      string // RFC 3339, "" for none
		reason    string // part of the reason
	}{
		{
			name: "threshold first: 18 mL × 5 mcg/mL ÷ 2.4 mcg/day = 37.5 days, before 40",
			fill: zicFill("2026-03-31T09:00:00Z", "20", "5", "2.4"), alarm: "2", stability: 40,
			want: "2026-05-07T21:00:00Z", reason: "2 mL refill threshold at 0.48 mL/day",
		},
		{
			name: "stability first: undiluted 25 mcg/mL lasts 187.5 days, the label 84",
			fill: zicFill("2026-03-31T09:00:00Z", "20", "25", "2.4"), alarm: "2", stability: 84,
			want: "2026-06-23T09:00:00Z", reason: "stability limit of 84 days",
		},
		{
			name: "naive pump: 14 days",
			fill: zicFill("2026-03-31T09:00:00Z", "14", "25", "1.2"), alarm: "2", stability: 14,
			want: "2026-04-14T09:00:00Z", reason: "stability limit of 14 days",
		},
		{
			name: "diluted: 40 days",
			fill: zicFill("2026-03-31T09:00:00Z", "20", "5", "1.2"), alarm: "2", stability: 40, // threshold at 75 days
			want: "2026-05-10T09:00:00Z", reason: "stability limit of 40 days",
		},
		{
			name: "Prometra 3.0 mL threshold: 17 mL × 5 ÷ 2.4 = 35 days 10 h",
			fill: zicFill("2026-03-31T09:00:00Z", "20", "5", "2.4"), alarm: "3.0", stability: 40,
			want: "2026-05-05T19:00:00Z", reason: "3 mL refill threshold",
		},
		{
			name: "no stability limit: threshold only",
			fill: zicFill("2026-03-31T09:00:00Z", "20", "5", "2.4"), alarm: "2", stability: 0,
			want: "2026-05-07T21:00:00Z", reason: "refill threshold",
		},
		{
			name: "zero dose: stability only",
			fill: zicFill("2026-03-31T09:00:00Z", "20", "5", "0"), alarm: "2", stability: 40,
			want: "2026-05-10T09:00:00Z", reason: "stability limit of 40 days",
		},
		{
			name: "filled at or below the threshold: due now",
			fill: zicFill("2026-03-31T09:00:00Z", "2", "5", "2.4"), alarm: "2", stability: 40,
			want: "2026-03-31T09:00:00Z", reason: "refill threshold",
		},
		{
			name: "rounded down to the second: due no later",
			fill: zicFill("2026-03-31T09:00:00Z", "3", "1", "3"), alarm: "2", stability: 0, // 1/3 day = 28800 s
			want: "2026-03-31T17:00:00Z", reason: "refill threshold",
		},
		{
			name: "a vanishing dose is capped, stability stands",
			fill: zicFill("2026-03-31T09:00:00Z", "20", "25", "0.000000001"), alarm: "2", stability: 84,
			want: "2026-06-23T09:00:00Z", reason: "stability limit",
		},
		{
			name: "zero dose and no stability: none",
			fill: zicFill("2026-03-31T09:00:00Z", "20", "5", "0"), alarm: "2", stability: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dueAt, reason, ok := pump.NextRefill(tt.fill, dec(tt.alarm), tt.stability)
			if tt.want == "" {
				if ok {
					t.Fatalf("NextRefill = %v (%s), want none", dueAt, reason)
				}
				return
			}
			if !ok {
				t.Fatal("NextRefill: none")
			}
			if !dueAt.Equal(at(tt.want)) {
				t.Errorf("at = %s, want %s", dueAt.UTC().Format(time.RFC3339), tt.want)
			}
			if !strings.Contains(reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}
