package pump_test

import (
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/vial"
)

var ziconotide = vial.Drug{Name: "ziconotide", Code: "J2278", UnitMCG: dec("1"), Label: vial.Label{
	StartMaxMCGPerDay: dec("2.4"), StepMaxMCGPerDay: dec("2.4"), MaxIncreasesPerWeek: 3, MinHoursBetweenUps: 24, MaxMCGPerDay: dec("19.2"),
}}

func TestCheckDose(t *testing.T) {
	tests := []struct {
		name    string
		drug    vial.Drug
		history []pump.DoseChange
		next    pump.DoseChange
		want    []string // one substring per warning, in order; nil for none
	}{
		{name: "start at the label's 2.4", next: change("2026-03-01T09:00:00Z", "2.4")},
		{name: "start above 2.4", next: change("2026-03-01T09:00:00Z", "2.5"),
			want: []string{"Starting dose 2.5 mcg/day of ziconotide is above the label's starting maximum of 2.4"}},
		{name: "step of exactly 2.4", history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "2.4")},
			next: change("2026-03-08T09:00:00Z", "4.8")},
		{name: "step above 2.4", history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "2.4")},
			next: change("2026-03-08T09:00:00Z", "4.9"),
			want: []string{"Increase of 2.5 mcg/day of ziconotide (from 2.4 to 4.9) is above the label's largest step of 2.4"}},
		{name: "a large decrease is no step", history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "12")},
			next: change("2026-03-08T09:00:00Z", "1.2")},
		{name: "two increases within 24 h", history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "1.2"), change("2026-03-02T09:00:00Z", "2.4")},
			next: change("2026-03-03T08:00:00Z", "3.6"),
			want: []string{"second increase of ziconotide within 24 hours (the last was 23h0m0s earlier)"}},
		{name: "two increases exactly 24 h apart", history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "1.2"), change("2026-03-02T09:00:00Z", "2.4")},
			next: change("2026-03-03T09:00:00Z", "3.6")},
		{name: "an increase within 24 h of a decrease is no second increase",
			history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "4.8"), change("2026-03-05T09:00:00Z", "2.4")},
			next:    change("2026-03-05T12:00:00Z", "3.6")},
		{name: "a decrease within 24 h of an increase warns nothing",
			history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "1.2"), change("2026-03-02T09:00:00Z", "2.4")},
			next:    change("2026-03-02T10:00:00Z", "1.2")},
		{name: "three increases in 7 days",
			history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "1.2"), change("2026-03-02T09:00:00Z", "2.4"), change("2026-03-04T09:00:00Z", "3.6")},
			next:    change("2026-03-06T09:00:00Z", "4.8")},
		{name: "four increases in 7 days",
			history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "1.2"), change("2026-03-02T09:00:00Z", "2.4"),
				change("2026-03-04T09:00:00Z", "3.6"), change("2026-03-06T09:00:00Z", "4.8")},
			next: change("2026-03-08T09:00:00Z", "6.0"),
			want: []string{"increase number 4 of ziconotide in 7 days; the label allows at most 3 a week"}},
		{name: "four increases spread over more than 7 days",
			history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "1.2"), change("2026-03-02T09:00:00Z", "2.4"),
				change("2026-03-04T09:00:00Z", "3.6"), change("2026-03-06T09:00:00Z", "4.8")},
			next: change("2026-03-09T09:00:00Z", "6.0")}, // 7 days after the 2 March increase
		{name: "history in any order",
			history: []pump.DoseChange{change("2026-03-06T09:00:00Z", "4.8"), change("2026-03-02T09:00:00Z", "2.4"),
				change("2026-03-04T09:00:00Z", "3.6"), change("2026-03-01T09:00:00Z", "1.2")},
			next: change("2026-03-08T09:00:00Z", "6.0"),
			want: []string{"increase number 4"}},
		{name: "later history does not count", history: []pump.DoseChange{change("2026-03-10T09:00:00Z", "1.2")},
			next: change("2026-03-01T09:00:00Z", "3"),
			want: []string{"Starting dose 3"}},
		{name: "the label maximum 19.2 is allowed", history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "18")},
			next: change("2026-03-08T09:00:00Z", "19.2")},
		{name: "above 19.2", history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "19.2")},
			next: change("2026-03-08T09:00:00Z", "21.6"),
			want: []string{"Dose 21.6 mcg/day of ziconotide is above the label maximum of 19.2"}},
		{name: "above 19.2 even when lowering the dose", history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "30")},
			next: change("2026-03-08T09:00:00Z", "25"),
			want: []string{"above the label maximum"}},
		{name: "every warning at once",
			history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "1.2"), change("2026-03-02T09:00:00Z", "2.4"),
				change("2026-03-03T09:00:00Z", "3.6"), change("2026-03-04T09:00:00Z", "16")},
			next: change("2026-03-04T10:00:00Z", "20"),
			want: []string{"Increase of 4 mcg/day", "second increase of ziconotide within 24 hours (the last was 1h0m0s earlier)", "increase number 4", "above the label maximum"}},
		{name: "a drug whose label sets no limits", drug: vial.Drug{Name: "morphine"},
			history: []pump.DoseChange{change("2026-03-01T09:00:00Z", "1000")},
			next:    change("2026-03-01T10:00:00Z", "900000")},
		{name: "a drug whose label sets no limits, starting", drug: vial.Drug{Name: "morphine"},
			next: change("2026-03-01T10:00:00Z", "900000")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drug := tt.drug
			if drug.Name == "" {
				drug = ziconotide
			}
			got := pump.CheckDose(drug, tt.history, tt.next, false)
			if len(got) != len(tt.want) {
				t.Fatalf("CheckDose = %q, want %d warnings like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
