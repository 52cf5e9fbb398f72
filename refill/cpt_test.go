package refill_test

import (
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/refill"
)

// cptWarnings are the procedure-code warnings among ws.
func cptWarnings(ws []string) []string {
	var out []string
	for _, w := range ws {
		if strings.HasPrefix(w, "Procedure ") {
			out = append(out, w)
		}
	}
	return out
}

// admix is a ziconotide 5 mcg/mL + morphine 2.5 mg/mL refill, dose given in
// drug: 1000 mcg/day of morphine and 2 mcg/day of ziconotide are the same
// 0.4 mL/day.
func admix(when, drug, dose, procedure string) pumpledger.Refill {
	r := zic(when, "20", "5", "1", vials("70720-720-10", 1), vials("99999-101-01", 1))
	r.Solution = append(r.Solution, pumpledger.SolutionDrug{Drug: "morphine", MCGPerML: dec("2500")})
	r.DiluentML = dec("17")
	r.Dose = pumpledger.Dose{Drug: drug, MCGPerDay: dec(dose)}
	r.Procedure = procedure
	return r
}

// CPT by what happened (SPEC §8), as a refill records it: the dose in force
// just before is the previous fill's or a later change's; a pump's first
// fill has none.
func TestRefillCPT(t *testing.T) {
	refillAt := func(conc, dose, procedure string) func() pumpledger.Refill {
		return func() pumpledger.Refill {
			r := zic("2026-03-31T09:00:00Z", "20", conc, dose, vials("70720-720-10", 1))
			r.DiluentML = dec("20").Sub(dec("20").Mul(dec(conc)).Div(dec("100")))
			r.Procedure = procedure
			return r
		}
	}
	change := entry{Reprogram: reprogram("2026-03-10T09:00:00Z", "2.4")}
	tests := []struct {
		name string
		in   func() pumpledger.Refill
		hist []entry
		want []string // the exact procedure-code warnings
	}{
		{"a dose change coded 95990", refillAt("5", "2.4", "95990"), []entry{earlier("5", "1.2")}, []string{
			"Procedure 95990 is a pump refill without reprogramming, but this visit changed the dose from 1.2 to 2.4 mcg/day of ziconotide. Bill 62369 (refill with reprogramming), or correct the entry if the dose did not change."}},
		{"a dose change coded 95991", refillAt("5", "2.4", "95991"), []entry{earlier("5", "1.2")}, []string{
			"Procedure 95991 is a pump refill without reprogramming, but this visit changed the dose from 1.2 to 2.4 mcg/day of ziconotide. Bill 62370 (refill with reprogramming, physician or other qualified health care professional's skill), or correct the entry if the dose did not change."}},
		{"the dose kept at the same concentration coded 62369", refillAt("5", "1.2", "62369"), []entry{earlier("5", "1.2")}, []string{
			"Procedure 62369 is a pump refill with reprogramming, but this refill kept the dose at 1.2 mcg/day of ziconotide and the concentrations of the fill before. Bill 95990 (refill and maintenance), unless the pump was reprogrammed otherwise: say how in the note."}},
		{"the dose kept coded 62370", refillAt("5", "1.2", "62370"), []entry{earlier("5", "1.2")}, []string{
			"Procedure 62370 is a pump refill with reprogramming, but this refill kept the dose at 1.2 mcg/day of ziconotide and the concentrations of the fill before. Bill 95991 (refill and maintenance, physician or other qualified health care professional's skill), unless the pump was reprogrammed otherwise: say how in the note."}},
		{"back to the fill's dose after a change coded 95990: the change's dose was in force", refillAt("5", "1.2", "95990"), []entry{earlier("5", "1.2"), change}, []string{
			"Procedure 95990 is a pump refill without reprogramming, but this visit changed the dose from 2.4 to 1.2 mcg/day of ziconotide. Bill 62369 (refill with reprogramming), or correct the entry if the dose did not change."}},
		{"the changed dose kept coded 62369", refillAt("5", "2.4", "62369"), []entry{earlier("5", "1.2"), change}, []string{
			"Procedure 62369 is a pump refill with reprogramming, but this refill kept the dose at 2.4 mcg/day of ziconotide and the concentrations of the fill before. Bill 95990 (refill and maintenance), unless the pump was reprogrammed otherwise: say how in the note."}},
		{"an admixture's dose kept, given in the other drug, coded 62369",
			func() pumpledger.Refill { return admix("2026-03-31T09:00:00Z", "ziconotide", "2", "62369") },
			[]entry{{Refill: ptr(admix("2026-03-01T09:00:00Z", "morphine", "1000", "95990"))}}, []string{
				"Procedure 62369 is a pump refill with reprogramming, but this refill kept the dose at 2 mcg/day of ziconotide and the concentrations of the fill before. Bill 95990 (refill and maintenance), unless the pump was reprogrammed otherwise: say how in the note."}},
		{"an admixture's dose changed, given in the other drug, coded 95990",
			func() pumpledger.Refill { return admix("2026-03-31T09:00:00Z", "ziconotide", "2.4", "95990") },
			[]entry{{Refill: ptr(admix("2026-03-01T09:00:00Z", "morphine", "1000", "95990"))}}, []string{
				"Procedure 95990 is a pump refill without reprogramming, but this visit changed the dose from 1000 mcg/day of morphine to 2.4 mcg/day of ziconotide. Bill 62369 (refill with reprogramming), or correct the entry if the dose did not change."}},
		// Near misses.
		{"a dose change coded 62369", refillAt("5", "2.4", "62369"), []entry{earlier("5", "1.2")}, nil},
		{"the dose kept coded 95990", refillAt("5", "1.2", "95990"), []entry{earlier("5", "1.2")}, nil},
		{"the dose kept at a new concentration coded 62369", refillAt("2.5", "1.2", "62369"), []entry{earlier("5", "1.2")}, nil},
		{"the changed dose kept coded 95990", refillAt("5", "2.4", "95990"), []entry{earlier("5", "1.2"), change}, nil},
		{"an admixture's dose kept, given in the other drug, coded 95990",
			func() pumpledger.Refill { return admix("2026-03-31T09:00:00Z", "ziconotide", "2", "95990") },
			[]entry{{Refill: ptr(admix("2026-03-01T09:00:00Z", "morphine", "1000", "95990"))}}, nil},
		{"a pump's first fill coded 95990", refillAt("5", "2.4", "95990"), nil, nil},
		{"a pump's first fill coded 62369", refillAt("5", "2.4", "62369"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in()
			h := historyOf(t, testCatalog, "synchromed-ii-20", "", tt.hist...)
			rec, err := refill.Derive(testCatalog, in, h, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := cptWarnings(rec.Warnings); !equalStrings(got, tt.want) {
				t.Errorf("warnings %q\nwant %q", got, tt.want)
			}
			m, ok := refill.RefillCPT(testCatalog, in, h)
			if ok != (len(tt.want) > 0) || ok && m.Warning() != tt.want[0] {
				t.Errorf("RefillCPT = %+v, %v: not the warning Derive records", m, ok)
			}
		})
	}
}

// A dose change coded 62367 (analysis without reprogramming) fits 62368.
func TestReprogramCPT(t *testing.T) {
	at := func(dose, procedure string) pumpledger.Reprogram {
		r := reprogram("2026-03-20T09:00:00Z", dose)
		r.Procedure = procedure
		return *r
	}
	change := entry{Reprogram: reprogram("2026-03-10T09:00:00Z", "2.4")}
	tests := []struct {
		name string
		in   pumpledger.Reprogram
		hist []entry
		want []string
	}{
		{"a dose change coded 62367", at("2.4", "62367"), []entry{earlier("5", "1.2")}, []string{
			"Procedure 62367 is pump analysis without reprogramming, but this visit changed the dose from 1.2 to 2.4 mcg/day of ziconotide. Bill 62368 (analysis with reprogramming), or correct the entry if the dose did not change."}},
		{"a dose change after another coded 62367", at("3.6", "62367"), []entry{earlier("5", "1.2"), change}, []string{
			"Procedure 62367 is pump analysis without reprogramming, but this visit changed the dose from 2.4 to 3.6 mcg/day of ziconotide. Bill 62368 (analysis with reprogramming), or correct the entry if the dose did not change."}},
		// Near misses.
		{"the dose kept coded 62367", at("1.2", "62367"), []entry{earlier("5", "1.2")}, nil},
		{"the changed dose kept coded 62367", at("2.4", "62367"), []entry{earlier("5", "1.2"), change}, nil},
		{"a dose change coded 62368", at("2.4", "62368"), []entry{earlier("5", "1.2")}, nil},
		{"the dose kept coded 62368: other settings may have changed", at("1.2", "62368"), []entry{earlier("5", "1.2")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := historyOf(t, defaultCatalog, "synchromed-ii-20", "", tt.hist...)
			ws, err := refill.CheckReprogram(defaultCatalog, tt.in, h, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := cptWarnings(ws); !equalStrings(got, tt.want) {
				t.Errorf("warnings %q\nwant %q", got, tt.want)
			}
			m, ok := refill.ReprogramCPT(defaultCatalog, tt.in, h)
			if ok != (len(tt.want) > 0) || ok && m.Warning() != tt.want[0] {
				t.Errorf("ReprogramCPT = %+v, %v: not the warning CheckReprogram records", m, ok)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
