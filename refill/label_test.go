package refill_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/refill"
)

// labelRule picks out the warnings of the label's device and dilution rules
// (SPEC §8), which TestLabelFillRules compares whole.
func labelRule(w string) bool {
	return strings.HasPrefix(w, "Off-label:") || strings.Contains(w, "the label's first fill") ||
		strings.Contains(w, "in this fill; the label uses") || strings.Contains(w, "before the dose is established") ||
		strings.HasPrefix(w, "Label: the diluent is")
}

const src = " (Prialt US label, DailyMed b025d8ed, 2.1)."

// Each rule: a case that fires and a near miss that does not, with the
// exact sentences.
func TestLabelFillRules(t *testing.T) {
	diluted := func(when, fill, conc, dose, diluent string, v ...pumpledger.VialUse) func() pumpledger.Refill {
		return func() pumpledger.Refill {
			r := zic(when, fill, conc, dose, v...)
			r.DiluentML = dec(diluent)
			return r
		}
	}
	naive := func(fill, conc, diluent string, v ...pumpledger.VialUse) func() pumpledger.Refill {
		return func() pumpledger.Refill {
			r := zic("2026-03-31T09:00:00Z", fill, conc, "2.4", v...)
			r.RinseML, r.DiluentML = dec("6"), dec(diluent)
			return r
		}
	}
	const when = "2026-03-31T09:00:00Z"
	withDiluent := func(name string) func() pumpledger.Refill {
		return func() pumpledger.Refill {
			r := diluted(when, "20", "5", "2.4", "19", vials("70720-720-10", 1))()
			r.Diluent = name
			return r
		}
	}
	tests := []struct {
		name  string
		cat   *catalog.Catalog
		model string
		in    func() pumpledger.Refill
		hist  []entry
		want  []string
	}{
		{name: "ziconotide in a Prometra", model: "prometra-ii-20",
			in: diluted(when, "20", "5", "2.4", "19", vials("70720-720-10", 1)), hist: []entry{earlier("5", "2.4")},
			want: []string{"Off-label: Flowonix Prometra II 20 mL is labelled for morphine, baclofen and saline, not ziconotide (Flowonix brief statement, 2024)."}},
		{name: "ziconotide in a SynchroMed II", model: "synchromed-ii-20",
			in: diluted(when, "20", "5", "2.4", "19", vials("70720-720-10", 1)), hist: []entry{earlier("5", "2.4")}},
		{name: "a catalog without the matrix: no pump is off-label", cat: testCatalog, model: "prometra-ii-20",
			in: diluted(when, "20", "5", "2.4", "19", vials("70720-720-10", 1)), hist: []entry{earlier("5", "2.4")}},

		{name: "25 mcg/mL diluted", model: "synchromed-ii-20",
			in: diluted(when, "20", "12.5", "2.4", "10", vials("70720-723-10", 1)), hist: []entry{earlier("5", "2.4")},
			want: []string{"Label: the 25 mcg/mL ziconotide is diluted to 12.5 mcg/mL in this fill; the label uses 25 mcg/mL undiluted" + src}},
		{name: "25 mcg/mL undiluted", model: "synchromed-ii-20",
			in: diluted(when, "20", "25", "2.4", "0", vials("70720-723-10", 1)), hist: []entry{earlier("5", "2.4")}},
		{name: "100 mcg/mL diluted to 25", model: "synchromed-ii-20",
			in: diluted(when, "20", "25", "2.4", "15", vials("68118-722-10", 1)), hist: []entry{earlier("5", "2.4")}},

		{name: "naive pump filled with 5 mcg/mL diluted from 25", model: "synchromed-ii-20",
			in:   naive("14", "5", "11.2", vials("70720-723-10", 1)),
			want: []string{"Label: this pump has not held ziconotide before: the label's first fill is 25 mcg/mL undiluted, and this one is 5 mcg/mL diluted from 25 mcg/mL containers" + src}},
		{name: "naive pump filled with 25 mcg/mL, part diluted from 100", model: "synchromed-ii-20",
			in:   naive("20", "25", "4.5", vials("70720-723-10", 1), vials("70720-720-10", 2)),
			want: []string{"Label: this pump has not held ziconotide before: the label's first fill is 25 mcg/mL undiluted, and this one is 25 mcg/mL diluted from 100 mcg/mL containers" + src}},
		{name: "naive pump filled with 25 mcg/mL undiluted", model: "synchromed-ii-20",
			in: naive("14", "25", "0", vials("70720-723-10", 1))},

		{name: "100 mcg/mL undiluted within 14 days of a dose change", model: "synchromed-ii-20",
			in:   diluted(when, "20", "100", "3.6", "0", vials("68118-722-10", 4)),
			hist: []entry{earlier("5", "2.4"), {Reprogram: reprogram("2026-03-17T09:00:01Z", "3.6")}},
			want: []string{"Label: the 100 mcg/mL ziconotide is used undiluted before the dose is established (it was set to 3.6 mcg/day on 2026-03-17, less than 14 days before); the label dilutes it with preservative-free 0.9% sodium chloride until then" + src}},
		{name: "100 mcg/mL undiluted at a refill that changes the dose", model: "synchromed-ii-20",
			in: diluted(when, "20", "100", "3.6", "0", vials("68118-722-10", 4)), hist: []entry{earlier("5", "2.4")},
			want: []string{"Label: the 100 mcg/mL ziconotide is used undiluted before the dose is established (this refill changes it from 2.4 to 3.6 mcg/day); the label dilutes it with preservative-free 0.9% sodium chloride until then" + src}},
		{name: "100 mcg/mL undiluted 14 days after the last change", model: "synchromed-ii-20",
			in:   diluted(when, "20", "100", "3.6", "0", vials("68118-722-10", 4)),
			hist: []entry{earlier("5", "2.4"), {Reprogram: reprogram("2026-03-17T09:00:00Z", "3.6")}}},
		{name: "diluted with sterile water", model: "synchromed-ii-20", in: withDiluent("sterile water"), hist: []entry{earlier("5", "2.4")},
			want: []string{`Label: the diluent is "sterile water"; the ziconotide label dilutes with preservative-free 0.9% sodium chloride` + src}},
		{name: "diluted with preservative-free saline, written another way", model: "synchromed-ii-20",
			in: withDiluent("Preservative-free  0.9% NaCl"), hist: []entry{earlier("5", "2.4")}},
		{name: "no diluent named: the label's", model: "synchromed-ii-20", in: withDiluent(""), hist: []entry{earlier("5", "2.4")}},
		{name: "a diluent named but none used", model: "synchromed-ii-20",
			in: func() pumpledger.Refill {
				r := diluted(when, "20", "25", "2.4", "0", vials("70720-723-10", 1))()
				r.Diluent = "sterile water"
				return r
			}, hist: []entry{earlier("5", "2.4")}},
		{name: "100 mcg/mL diluted within 14 days of a dose change", model: "synchromed-ii-20",
			in:   diluted(when, "20", "50", "3.6", "10", vials("68118-722-10", 2)),
			hist: []entry{earlier("5", "2.4"), {Reprogram: reprogram("2026-03-25T09:00:00Z", "3.6")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := tt.cat
			if cat == nil {
				cat = defaultCatalog
			}
			rec, err := refill.Derive(cat, tt.in(), historyOf(t, cat, tt.model, "", tt.hist...), now)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.DeleteFunc(slices.Clone(rec.Warnings), func(w string) bool { return !labelRule(w) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("label warnings\n got %q\nwant %q\n(all: %q)", got, tt.want, rec.Warnings)
			}
		})
	}
}

// The vial-choice warning points only to plans the label allows: a naive
// pump's 25 mcg/mL fill from two 500 mcg/20 mL vials discards 500 mcg with
// its rinse, but topping it up from 100 mcg/mL vials (200) is no
// better choice, as the label's first fill is 25 mcg/mL undiluted; a
// non-naive diluted fill from a 25 mcg/mL vial is still pointed to the
// 100 mcg/mL vial that discards nothing.
func TestVialChoiceOnlyLabelPlans(t *testing.T) {
	r := zic("2026-03-31T09:00:00Z", "20", "25", "2.4", vials("70720-723-10", 2))
	r.RinseML = dec("6")
	rec, err := refill.Derive(defaultCatalog, r, historyOf(t, defaultCatalog, "synchromed-ii-20", ""), now)
	if err != nil {
		t.Fatal(err)
	}
	if hasWarning(rec.Warnings, "would discard") || slices.ContainsFunc(rec.Warnings, labelRule) {
		t.Errorf("a naive pump's 25 mcg/mL fill: %q", rec.Warnings)
	}
	r = zic("2026-03-31T09:00:00Z", "20", "5", "2.4", vials("70720-723-10", 1))
	r.DiluentML = dec("16")
	rec, err = refill.Derive(defaultCatalog, r, historyOf(t, defaultCatalog, "synchromed-ii-20", "", earlier("5", "2.4")), now)
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(rec.Warnings, "The ziconotide containers opened discard 400 mcg; 1 × 70720-0720-10 would discard 0 mcg.") {
		t.Errorf("a 5 mcg/mL fill from a 25 mcg/mL vial: %q", rec.Warnings)
	}
}

// diluent is optional: an entry made before it existed reads, encodes and
// derives as before (no key, the label's diluent), and one naming it keeps it.
func TestDiluentField(t *testing.T) {
	r := zic("2026-03-31T09:00:00Z", "20", "5", "2.4", vials("70720-720-10", 1))
	r.DiluentML = dec("19")
	b, err := json.Marshal(r)
	if err != nil || bytes.Contains(b, []byte(`"diluent"`)) {
		t.Fatalf("a refill without a diluent encodes as %s (%v)", b, err)
	}
	back, err := pumpledger.ParseRefill(bytes.NewReader(b))
	if err != nil || back.Diluent != "" {
		t.Fatalf("read back: %q, %v", back.Diluent, err)
	}
	named, err := pumpledger.ParseRefill(bytes.NewReader(bytes.Replace(b, []byte(`"diluent_ml"`), []byte(`"diluent":"sterile water","diluent_ml"`), 1)))
	if err != nil || named.Diluent != "sterile water" {
		t.Fatalf("a refill naming its diluent: %q, %v", named.Diluent, err)
	}
}
