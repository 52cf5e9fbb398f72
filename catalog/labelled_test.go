package catalog_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/catalog"
)

// The device × drug matrix and the label's fill rules of the embedded
// catalog (SPEC §8): Prialt is labelled for SynchroMed II, Prometra for
// morphine, baclofen and saline.
func TestDefaultLabelMatrix(t *testing.T) {
	c := catalog.Default()
	for _, tt := range []struct {
		pump, drug string
		off        bool
	}{
		{"synchromed-ii-20", "ziconotide", false},
		{"synchromed-ii-40", "morphine", false},
		{"synchromed-ii-20", "hydromorphone", true},
		{"prometra-ii-20", "ziconotide", true},
		{"prometra-ii-40", "ziconotide", true},
		{"prometra-ii-20", "morphine", false},
		{"prometra-ii-40", "baclofen", false},
	} {
		m, ok := c.Pump(tt.pump)
		if !ok || m.OffLabel(tt.drug) != tt.off || m.LabelledSource == "" {
			t.Errorf("%s with %s: off-label %v, want %v (source %q)", tt.pump, tt.drug, m.OffLabel(tt.drug), tt.off, m.LabelledSource)
		}
	}
	z, _ := c.Drug("ziconotide")
	l := z.Label
	if len(l.UndilutedOnly) != 1 || l.UndilutedOnly[0].String() != "25" || l.NaiveFillMCGPerML.String() != "25" ||
		len(l.UndilutedOnceEstablished) != 1 || l.UndilutedOnceEstablished[0].String() != "100" || l.EstablishedDays != 14 ||
		len(l.Diluents) == 0 || l.Diluents[0] != "preservative-free 0.9% sodium chloride" || l.FillSource == "" {
		t.Errorf("ziconotide fill rules: %+v", l)
	}
}

// A catalog pinned before the matrix has none: no drug is off-label in any
// pump, and its label has no fill rules.
func TestLoadWithoutMatrix(t *testing.T) {
	c, err := catalog.Load(strings.NewReader(strings.Join(base, "\n")), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Pumps {
		if m.LabelledDrugs != nil || m.OffLabel("ziconotide") || m.OffLabel("anything") {
			t.Errorf("%s of an old catalog: labelled %v", m.ID, m.LabelledDrugs)
		}
	}
	if z, _ := c.Drug("ziconotide"); z.Label.UndilutedOnly != nil || !z.Label.NaiveFillMCGPerML.IsZero() || z.Label.EstablishedDays != 0 {
		t.Errorf("old ziconotide label has fill rules: %+v", z.Label)
	}
}

// Each refusal of the matrix and the fill rules, one sentence naming the
// field's path: the embedded catalog with one text replaced.
func TestLoadMatrixRefused(t *testing.T) {
	const prometra = `"labelled_drugs": ["morphine", "baclofen", "saline"]`
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown drug", prometra, `"labelled_drugs": ["morphine", "baclofen", "zicontide"]`,
			`pumps[2].labelled_drugs[2] "zicontide" is not a drug name of this catalog; name the drug as under "drugs" (ziconotide), or saline`},
		{"a drug by its code", prometra, `"labelled_drugs": ["J2274"]`,
			`pumps[2].labelled_drugs[0] "J2274" is not a drug name of this catalog; name the drug as under "drugs" (ziconotide), or saline`},
		{"twice", prometra, `"labelled_drugs": ["morphine", "morphine"]`,
			`pumps[2].labelled_drugs[1] "morphine" is listed twice; keep one`},
		{"empty", prometra, `"labelled_drugs": []`,
			`pumps[2].labelled_drugs is empty; list the drugs the device is labelled for, or leave the field out`},
		{"no source", `"labelled_source": "Flowonix brief statement, 2024"`, `"labelled_source": ""`,
			`pumps[2].labelled_source is missing; say where the device's drug labelling comes from`},
		{"a strength that is no number", `"undiluted_only_mcg_per_ml": ["25"]`, `"undiluted_only_mcg_per_ml": ["25", "x"]`,
			`drug ziconotide: label.undiluted_only_mcg_per_ml[1] must be a decimal number`},
		{"no days for established", `"established_dose_days": 14`, `"established_dose_days": 0`,
			`drug ziconotide: label.established_dose_days must be a whole number of days from 1 to 365 (no dose change in that many days makes a dose established), not 0`},
		{"an empty diluent", `"diluents": ["preservative-free 0.9% sodium chloride"`, `"diluents": [" "`,
			`drug ziconotide: label.diluents[0] is empty; write the diluent's name, such as "preservative-free 0.9% sodium chloride"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := catalog.DefaultJSON()
			if !bytes.Contains(def, []byte(tt.old)) {
				t.Fatalf("the embedded catalog has no %s", tt.old)
			}
			text := bytes.Replace(def, []byte(tt.old), []byte(tt.new), 1)
			_, err := catalog.Load(bytes.NewReader(text), "site.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v\nwant …%s", err, tt.want)
			}
		})
	}
}
