package billing_test

import (
	"testing"

	"github.com/pumpledger/pumpledger/billing"
)

// CPT by what happened (SPEC §8): each rule fires with its exact sentences,
// and each near miss gives nothing.
func TestCodeMismatch(t *testing.T) {
	const changed, kept = "from 2.4 to 3 mcg/day of ziconotide", "2.4 mcg/day of ziconotide"
	tests := []struct {
		name     string
		code     string
		step     billing.DoseStep
		dose     string
		fits     string // "" for no finding
		msg, fix string
	}{
		{"a dose change coded 62367", "62367", billing.DoseChanged, changed, "62368",
			"Procedure 62367 is pump analysis without reprogramming, but this visit changed the dose from 2.4 to 3 mcg/day of ziconotide.",
			"Bill 62368 (analysis with reprogramming), or correct the entry if the dose did not change."},
		{"a refill that changed the dose coded 95990", "95990", billing.DoseChanged, changed, "62369",
			"Procedure 95990 is a pump refill without reprogramming, but this visit changed the dose from 2.4 to 3 mcg/day of ziconotide.",
			"Bill 62369 (refill with reprogramming), or correct the entry if the dose did not change."},
		{"a refill that changed the dose coded 95991", "95991", billing.DoseChanged, changed, "62370",
			"Procedure 95991 is a pump refill without reprogramming, but this visit changed the dose from 2.4 to 3 mcg/day of ziconotide.",
			"Bill 62370 (refill with reprogramming, physician or other qualified health care professional's skill), or correct the entry if the dose did not change."},
		{"a refill that kept the dose coded 62369", "62369", billing.DoseKept, kept, "95990",
			"Procedure 62369 is a pump refill with reprogramming, but this refill kept the dose at 2.4 mcg/day of ziconotide and the concentrations of the fill before.",
			"Bill 95990 (refill and maintenance), unless the pump was reprogrammed otherwise: say how in the note."},
		{"a refill that kept the dose coded 62370", "62370", billing.DoseKept, kept, "95991",
			"Procedure 62370 is a pump refill with reprogramming, but this refill kept the dose at 2.4 mcg/day of ziconotide and the concentrations of the fill before.",
			"Bill 95991 (refill and maintenance, physician or other qualified health care professional's skill), unless the pump was reprogrammed otherwise: say how in the note."},
		// Near misses.
		{"a dose change coded 62368", "62368", billing.DoseChanged, changed, "", "", ""},
		{"62368 that kept the dose: other settings may have changed", "62368", billing.DoseKept, kept, "", "", ""},
		{"62367 that kept the dose", "62367", billing.DoseKept, kept, "", "", ""},
		{"a refill that changed the dose coded 62369", "62369", billing.DoseChanged, changed, "", "", ""},
		{"a refill that changed the dose coded 62370", "62370", billing.DoseChanged, changed, "", "", ""},
		{"a refill that kept the dose coded 95990", "95990", billing.DoseKept, kept, "", "", ""},
		{"a pump's first fill coded 95990", "95990", billing.DoseUnknown, "", "", "", ""},
		{"a pump's first fill coded 62369", "62369", billing.DoseUnknown, "", "", "", ""},
		{"a code of no pump-service family", "99213", billing.DoseChanged, changed, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := billing.CodeMismatch(tt.code, tt.step, tt.dose)
			if ok != (tt.fits != "") {
				t.Fatalf("finding %v %+v, want one: %v", ok, m, tt.fits != "")
			}
			if !ok {
				return
			}
			want := billing.CPTMismatch{Rule: "cpt-mismatch", Severity: "warning", Code: tt.code, Fits: tt.fits, Message: tt.msg, Fix: tt.fix, Basis: billing.CPTBasis}
			if m != want {
				t.Errorf("got  %+v\nwant %+v", m, want)
			}
			if w := m.Warning(); w != tt.msg+" "+tt.fix {
				t.Errorf("warning %q", w)
			}
		})
	}
}
