package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func ndc(s string) vial.NDC {
	n, err := vial.ParseNDC(s)
	if err != nil {
		panic(err)
	}
	return n
}

func TestDefault(t *testing.T) {
	c := catalog.Default()

	// SPEC §2: ziconotide is J2278, 1 mcg; "J2277" (and the brand) find it.
	for _, key := range []string{"ziconotide", "ZICONOTIDE", "J2278", "j2278", "J2277", "j2277", " prialt "} {
		d, ok := c.Drug(key)
		if !ok || d.Name != "ziconotide" {
			t.Errorf("Drug(%q) = %q, %v; want ziconotide", key, d.Name, ok)
		}
	}
	z, _ := c.Drug("J2277")
	if z.Code != "J2278" || !z.UnitMCG.Equal(dec("1")) {
		t.Errorf("ziconotide bills as %s, unit %s mcg; want J2278, 1", z.Code, z.UnitMCG)
	}
	// SPEC §3 label limits.
	l := z.Label
	for _, q := range []struct {
		name string
		got  decimal.Decimal
		want string
	}{
		{"start max", l.StartMaxMCGPerDay, "2.4"}, {"step max", l.StepMaxMCGPerDay, "2.4"}, {"max", l.MaxMCGPerDay, "19.2"},
		{"naive rinse mL", l.NaiveRinseML, "6"}, {"naive rinse mcg/mL", l.NaiveRinseMCGPerML, "25"},
	} {
		if !q.got.Equal(dec(q.want)) {
			t.Errorf("ziconotide label %s = %s, want %s", q.name, q.got, q.want)
		}
	}
	if l.MaxIncreasesPerWeek != 3 || l.MinHoursBetweenUps != 24 || l.NaiveRefillDays != 14 || l.DilutedRefillDays != 40 || l.UndilutedRefillDays != 84 {
		t.Errorf("ziconotide label = %+v", l)
	}

	// SPEC §2: the other codes.
	for _, w := range []struct{ drug, code, unit, text string }{
		{"morphine", "J2274", "10000", "10 mg"}, {"baclofen", "J0475", "10000", "10 mg"},
		{"hydromorphone", "J1170", "4000", "up to 4 mg"}, {"clonidine", "J0735", "1000", "1 mg"},
	} {
		d, ok := c.Drug(w.drug)
		if !ok || d.Code != w.code || !d.UnitMCG.Equal(dec(w.unit)) || d.UnitText != w.text {
			t.Errorf("Drug(%s) = %s %s %q, %v; want %s %s %q", w.drug, d.Code, d.UnitMCG, d.UnitText, ok, w.code, w.unit, w.text)
		}
		if d2, ok := c.Drug(w.code); !ok || d2.Name != w.drug {
			t.Errorf("Drug(%s) = %q, want %s", w.code, d2.Name, w.drug)
		}
	}

	// SPEC §2: the three ziconotide presentations, under five NDCs.
	type pres struct{ printed, mcgPerML, ml, mcg string }
	want := []pres{
		{"70720-720-10", "100", "1", "100"}, {"68118-720-10", "100", "1", "100"},
		{"68118-722-10", "100", "5", "500"}, {"70720-722-10", "100", "5", "500"},
		{"70720-723-10", "25", "20", "500"},
	}
	got := c.ProductsOf("ziconotide")
	if len(got) != len(want) {
		t.Fatalf("%d ziconotide products, want %d", len(got), len(want))
	}
	presentations := map[string]bool{}
	for i, w := range want {
		p := got[i]
		if p.Printed != w.printed || p.NDC != ndc(w.printed) || !p.MCGPerML.Equal(dec(w.mcgPerML)) || !p.ML.Equal(dec(w.ml)) ||
			!p.MCG().Equal(dec(w.mcg)) || !p.SingleDose || p.Drug != "ziconotide" {
			t.Errorf("product %d = %s %s mcg/mL × %s mL single-dose %v; want %+v", i, p.Printed, p.MCGPerML, p.ML, p.SingleDose, w)
		}
		// Looked up by NDC in any accepted form.
		for _, form := range []string{w.printed, ndc(w.printed).String(), ndc(w.printed).Digits()} {
			if q, ok := c.Product(ndc(form)); !ok || q.Printed != w.printed {
				t.Errorf("Product(%s) = %q, %v", form, q.Printed, ok)
			}
		}
		presentations[w.mcgPerML+"/"+w.ml] = true
	}
	if len(presentations) != 3 {
		t.Errorf("%d presentations, want 3", len(presentations))
	}
	// The presentations SPEC §2 says are inferred carry Verify.
	for _, p := range got {
		if wantVerify := p.Printed == "70720-722-10" || p.Printed == "70720-723-10"; p.Verify != wantVerify {
			t.Errorf("%s Verify = %v, want %v", p.Printed, p.Verify, wantVerify)
		}
	}
	if p, ok := c.Product(ndc("70720072010")); !ok || p.NDC.Digits() != "70720072010" {
		t.Errorf("Product(70720072010) = %v, %v", p, ok)
	}

	// SPEC §4: the four pump models.
	pumps := []struct{ id, reservoir, alarm, discrepancy string }{
		{"synchromed-ii-20", "20", "2", "1"}, {"synchromed-ii-40", "40", "2", "2"},
		{"prometra-ii-20", "20", "3.0", "1"}, {"prometra-ii-40", "40", "3.0", "2"},
	}
	if ids := c.PumpIDs(); !slices.Equal(ids, []string{"synchromed-ii-20", "synchromed-ii-40", "prometra-ii-20", "prometra-ii-40"}) {
		t.Errorf("PumpIDs = %v", ids)
	}
	for _, w := range pumps {
		m, ok := c.Pump(w.id)
		if !ok || !m.ReservoirML.Equal(dec(w.reservoir)) || !m.AlarmML.Equal(dec(w.alarm)) || !m.DiscrepancyML.Equal(dec(w.discrepancy)) || m.Device == "" {
			t.Errorf("Pump(%s) = %+v, %v; want %+v", w.id, m, ok, w)
		}
	}

	// SPEC §4: the service codes, and which exclude which.
	for _, w := range []struct {
		code              string
		refill, reprogram bool
		excludes          string
	}{
		{"62367", false, true, "95990"}, {"62368", false, true, "95991"}, {"62369", true, true, "95990"},
		{"62370", true, true, "95991"}, {"95990", true, false, "62369"}, {"95991", true, false, "62367"},
	} {
		s, ok := c.Service(w.code)
		if !ok || s.Refill != w.refill || s.Reprogram != w.reprogram || !slices.Contains(s.Excludes, w.excludes) {
			t.Errorf("Service(%s) = %+v, %v; want %+v", w.code, s, ok, w)
		}
	}

	// Misses.
	if _, ok := c.Drug("J9999"); ok {
		t.Error("Drug(J9999) found")
	}
	if _, ok := c.Product(ndc("99999-999-99")); ok {
		t.Error("Product(99999-999-99) found")
	}
	if _, ok := c.Pump("synchromed-ii-30"); ok {
		t.Error("Pump(synchromed-ii-30) found")
	}
	if _, ok := c.Service("99999"); ok {
		t.Error("Service(99999) found")
	}
	if ps := c.ProductsOf("morphine"); len(ps) != 0 {
		t.Errorf("the default catalog lists morphine products %v; SPEC §2 leaves them to the site", ps)
	}
	checkInvariants(t, c)
}

func TestDefaultJSONIsACopy(t *testing.T) {
	b := catalog.DefaultJSON()
	if !json.Valid(b) {
		t.Fatal("DefaultJSON is not valid JSON")
	}
	for i := range b {
		b[i] = 'x'
	}
	if !json.Valid(catalog.DefaultJSON()) {
		t.Error("changing DefaultJSON's result changed the embedded catalog")
	}
	catalog.Default()
}

func loadTestCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	f, err := os.Open("../testdata/catalog-test.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := catalog.Load(f, "catalog-test.json")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTestCatalog(t *testing.T) {
	c := loadTestCatalog(t)
	checkInvariants(t, c)
	for _, w := range []struct {
		printed, drug, digits string
		single                bool
	}{
		{"99999-101-01", "morphine", "99999010101", true},
		{"99999-102-01", "morphine", "99999010201", false},
		{"99999-0103-1", "morphine", "99999010301", true},
		{"9999-0201-01", "hydromorphone", "09999020101", true},
		{"99998-202-05", "hydromorphone", "99998020205", false},
	} {
		p, ok := c.Product(ndc(w.digits))
		if !ok || p.Drug != w.drug || p.SingleDose != w.single || p.Printed != w.printed {
			t.Errorf("Product(%s) = %+v, %v; want %+v", w.digits, p, ok, w)
		}
	}
	if d, ok := c.Drug("dilaudid"); !ok || d.Code != "J1170" || !d.UnitMCG.Equal(dec("4000")) {
		t.Errorf("Drug(dilaudid) = %+v, %v", d, ok)
	}
}

// base is a small valid catalog laid out one field per line, so a case can
// break one line and expect that line number in the error.
var base = []string{
	/* 1 */ `{`,
	/* 2 */ `  "version": 1,`,
	/* 3 */ `  "drugs": [`,
	/* 4 */ `    {`,
	/* 5 */ `      "name": "ziconotide",`,
	/* 6 */ `      "code": "J2278",`,
	/* 7 */ `      "aliases": ["J2277"],`,
	/* 8 */ `      "unit_mcg": "1",`,
	/* 9 */ `      "label": {`,
	/* 10 */ `        "max_mcg_per_day": "19.2",`,
	/* 11 */ `        "diluted_refill_days": 40`,
	/* 12 */ `      }`,
	/* 13 */ `    }`,
	/* 14 */ `  ],`,
	/* 15 */ `  "products": [`,
	/* 16 */ `    {`,
	/* 17 */ `      "ndc": "70720-720-10",`,
	/* 18 */ `      "drug": "ziconotide",`,
	/* 19 */ `      "mcg_per_ml": "100",`,
	/* 20 */ `      "ml": "1",`,
	/* 21 */ `      "single_dose": true`,
	/* 22 */ `    }`,
	/* 23 */ `  ],`,
	/* 24 */ `  "pumps": [`,
	/* 25 */ `    {"id": "synchromed-ii-20", "reservoir_ml": "20", "alarm_ml": "2", "discrepancy_ml": "1"}`,
	/* 26 */ `  ],`,
	/* 27 */ `  "services": [`,
	/* 28 */ `    {"code": "95990", "refill": true}`,
	/* 29 */ `  ]`,
	/* 30 */ `}`,
}

func withLine(n int, text string) string {
	lines := slices.Clone(base)
	lines[n-1] = text
	return strings.Join(lines, "\n")
}

func TestLoadBase(t *testing.T) {
	c, err := catalog.Load(strings.NewReader(strings.Join(base, "\n")), "base.json")
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, c)
	if d, ok := c.Drug("J2277"); !ok || d.Name != "ziconotide" || !d.Label.MaxMCGPerDay.Equal(dec("19.2")) || d.Label.DilutedRefillDays != 40 {
		t.Errorf("Drug(J2277) = %+v, %v", d, ok)
	}
	// Quantities may be JSON numbers, read exactly.
	c, err = catalog.Load(strings.NewReader(withLine(19, `      "mcg_per_ml": 0.1,`)), "base.json")
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Products[0]; p.MCGPerML.String() != "0.1" {
		t.Errorf("mcg_per_ml 0.1 read as %s", p.MCGPerML)
	}
}

func TestLoadRefused(t *testing.T) {
	tests := []struct {
		name string
		text string
		line int
		want []string // substrings: the field and what is wrong
	}{
		{"bad JSON", withLine(18, `      "drug": "ziconotide",,`), 18, []string{"not valid JSON"}},
		// Every text is stored or printed: no control or invisible character.
		{"escape in a drug name", withLine(5, `      "name": "zicon\u001b[2Jotide",`), 5, []string{`the text after "name" has an invisible or control character (U+001B) at character 6`}},
		{"zero-width space in an alias", withLine(7, `      "aliases": ["J2277\u200b"],`), 7, []string{`the text after "aliases"`, "U+200B"}},
		{"escape in a device", withLine(25, `    {"id": "synchromed-ii-20", "device": "SynchroMed\u001b]0;x\u0007", "reservoir_ml": "20", "alarm_ml": "2", "discrepancy_ml": "1"}`), 25,
			[]string{`the text after "device"`, "U+001B"}},
		{"line break in a description", withLine(28, `    {"code": "95990", "refill": true, "description": "Pump refill\nand maintenance"}`), 28, []string{`the text after "description"`, "U+000A"}},
		{"right-to-left override in a labeler", withLine(20, `      "ml": "1", "labeler": "\u202eareSreT",`), 20, []string{`the text after "labeler"`, "U+202E"}},
		{"bad JSON: unclosed", strings.Join(base[:20], "\n"), 20, []string{"ends early"}},
		{"unknown field", withLine(20, `      "ml": "1", "volume_ml": "1",`), 20, []string{`unknown field "volume_ml"`}},
		{"unknown field in the label", withLine(11, `        "diluted_refill_day": 40`), 11, []string{`unknown field "diluted_refill_day"`}},
		{"unknown section", withLine(2, `  "version": 1, "vials": [],`), 2, []string{`unknown section "vials"`}},
		{"wrong version", withLine(2, `  "version": 2,`), 2, []string{"version must be 1"}},
		{"bad NDC", withLine(17, `      "ndc": "70720-72010",`), 17, []string{"ndc", "70720-72010"}},
		{"NDC not as printed", withLine(17, `      "ndc": "70720072010",`), 17, []string{"ndc must be written as printed"}},
		{"negative quantity", withLine(19, `      "mcg_per_ml": "-100",`), 19, []string{"mcg_per_ml must be more than zero, not -100"}},
		{"zero quantity", withLine(8, `      "unit_mcg": 0,`), 8, []string{"unit_mcg must be more than zero"}},
		{"not a number", withLine(20, `      "ml": "one",`), 20, []string{"ml must be a decimal number"}},
		{"float64 would round it, the catalog refuses it", withLine(20, `      "ml": "1.0000000001",`), 20, []string{"ml has more than 9 decimal places"}},
		{"missing quantity", withLine(19, ``), 16, []string{"mcg_per_ml is missing"}},
		{"negative label limit", withLine(10, `        "max_mcg_per_day": "-19.2",`), 10, []string{"label.max_mcg_per_day must be more than zero"}},
		{"negative label days", withLine(11, `        "diluted_refill_days": -40`), 11, []string{"label.diluted_refill_days must be between 0 and 3650"}},
		{"label days as a string", withLine(11, `        "diluted_refill_days": "40"`), 11, []string{"diluted_refill_days"}},
		{"duplicate NDC", withLine(22, "    },\n    {\"ndc\": \"70720-720-10\", \"drug\": \"ziconotide\", \"mcg_per_ml\": \"100\", \"ml\": \"1\", \"single_dose\": true}"), 23,
			[]string{"NDC 70720-0720-10 is listed twice"}},
		{"product of an unknown drug", withLine(18, `      "drug": "morphine",`), 18, []string{`drug "morphine" is not a drug name`}},
		{"product of a drug named by its code", withLine(18, `      "drug": "J2278",`), 18, []string{`drug "J2278" is not a drug name`}},
		{"single_dose missing", withLine(21, `      "labeler": "TerSera"`), 16, []string{"single_dose is missing"}},
		{"bad HCPCS code", withLine(6, `      "code": "J227",`), 6, []string{`code "J227" is not a HCPCS code`}},
		{"drug name not lower case", withLine(5, `      "name": "Ziconotide",`), 5, []string{`name "Ziconotide" must be given, in lower case`}},
		{"alias of another drug", withLine(13, "    },\n    {\"name\": \"morphine\", \"code\": \"J2274\", \"aliases\": [\"J2277\"], \"unit_mcg\": \"10000\"}"), 14,
			[]string{`"J2277" already names drug ziconotide`}},
		{"empty alias", withLine(7, `      "aliases": [""],`), 7, []string{"alias is empty"}},
		{"alarm above the reservoir", withLine(25, `    {"id": "synchromed-ii-20", "reservoir_ml": "20", "alarm_ml": "20", "discrepancy_ml": "1"}`), 25,
			[]string{"alarm_ml 20 must be less than reservoir_ml 20"}},
		{"pump threshold missing", withLine(25, `    {"id": "synchromed-ii-20", "reservoir_ml": "20", "alarm_ml": "2"}`), 25, []string{"discrepancy_ml is missing"}},
		{"duplicate pump", withLine(25, `    {"id": "p", "reservoir_ml": "20", "alarm_ml": "2", "discrepancy_ml": "1"}, {"id": "p", "reservoir_ml": "40", "alarm_ml": "2", "discrepancy_ml": "2"}`), 25,
			[]string{"pump p is listed twice"}},
		{"service covering nothing", withLine(28, `    {"code": "95990"}`), 28, []string{`"refill": true, "reprogram": true`}},
		{"bad service code", withLine(28, `    {"code": "9599", "refill": true}`), 28, []string{`code "9599" is not a CPT code`}},
		{"no pumps", withLine(25, ``), 1, []string{`"pumps" is missing or empty`}},
		{"text after the catalog", withLine(30, "}\n\n{}"), 32, []string{"not valid JSON", "after top-level value"}},
		{"bad JSON inside a string", withLine(18, `      "drug": "zicon\otide",`), 18, []string{"not valid JSON", "in string escape code"}},
		{"not an object", "[\n]", 1, []string{"must be one JSON object"}},
		{"empty file", "", 1, []string{"ends early"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.Load(strings.NewReader(tt.text), "site.json")
			if err == nil {
				t.Fatalf("Load accepted it: %d drugs", len(c.Drugs))
			}
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Field != "catalog" {
				t.Errorf("err = %#v, want an EINVALID *Error on field catalog", err)
			}
			msg := err.Error()
			if prefix := "site.json line " + itoa(tt.line) + ": "; !strings.HasPrefix(msg, prefix) {
				t.Errorf("message %q does not start with %q", msg, prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonInt(n)) }

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// checkInvariants checks what every loaded catalog must satisfy.
func checkInvariants(t *testing.T, c *catalog.Catalog) {
	t.Helper()
	if len(c.Drugs) == 0 || len(c.Pumps) == 0 || len(c.Services) == 0 {
		t.Fatalf("loaded catalog with %d drugs, %d pumps, %d services", len(c.Drugs), len(c.Pumps), len(c.Services))
	}
	for _, d := range c.Drugs {
		if d.Name != strings.ToLower(strings.TrimSpace(d.Name)) || d.Name == "" {
			t.Errorf("drug name %q", d.Name)
		}
		if !d.UnitMCG.IsPositive() {
			t.Errorf("drug %s unit %s", d.Name, d.UnitMCG)
		}
		for _, key := range append([]string{d.Name, d.Code, strings.ToLower(d.Code)}, d.Aliases...) {
			if got, ok := c.Drug(key); !ok || got.Name != d.Name {
				t.Errorf("Drug(%q) = %q, %v; want %s", key, got.Name, ok, d.Name)
			}
		}
		for _, q := range []decimal.Decimal{d.Label.StartMaxMCGPerDay, d.Label.StepMaxMCGPerDay, d.Label.MaxMCGPerDay, d.Label.NaiveRinseML, d.Label.NaiveRinseMCGPerML} {
			if q.IsNegative() {
				t.Errorf("drug %s has a negative label limit %s", d.Name, q)
			}
		}
	}
	seen := map[vial.NDC]bool{}
	for _, p := range c.Products {
		if seen[p.NDC] {
			t.Errorf("NDC %s twice", p.NDC)
		}
		seen[p.NDC] = true
		if n, err := vial.ParseNDC(p.Printed); err != nil || n != p.NDC {
			t.Errorf("product %s: printed NDC parses to %v, %v; stored %v", p.Printed, n, err, p.NDC)
		}
		if got, ok := c.Product(p.NDC); !ok || got.Printed != p.Printed {
			t.Errorf("Product(%s) = %q, %v", p.NDC, got.Printed, ok)
		}
		if d, ok := c.Drug(p.Drug); !ok || d.Name != p.Drug {
			t.Errorf("product %s of unknown drug %q", p.Printed, p.Drug)
		}
		if !p.MCGPerML.IsPositive() || !p.ML.IsPositive() || !p.MCG().IsPositive() {
			t.Errorf("product %s: %s mcg/mL × %s mL", p.Printed, p.MCGPerML, p.ML)
		}
		if !slices.ContainsFunc(c.ProductsOf(p.Drug), func(q vial.Product) bool { return q.NDC == p.NDC }) {
			t.Errorf("ProductsOf(%s) misses %s", p.Drug, p.Printed)
		}
	}
	ids := map[string]bool{}
	for _, m := range c.Pumps {
		if ids[m.ID] || m.ID == "" {
			t.Errorf("pump id %q empty or twice", m.ID)
		}
		ids[m.ID] = true
		if !m.ReservoirML.IsPositive() || !m.AlarmML.IsPositive() || !m.DiscrepancyML.IsPositive() || !m.AlarmML.LessThan(m.ReservoirML) {
			t.Errorf("pump %s: reservoir %s, alarm %s, discrepancy %s", m.ID, m.ReservoirML, m.AlarmML, m.DiscrepancyML)
		}
		if got, ok := c.Pump(m.ID); !ok || got.ID != m.ID {
			t.Errorf("Pump(%s) = %v, %v", m.ID, got, ok)
		}
	}
	codes := map[string]bool{}
	for _, s := range c.Services {
		if codes[s.Code] {
			t.Errorf("service %s twice", s.Code)
		}
		codes[s.Code] = true
		if !s.Refill && !s.Reprogram {
			t.Errorf("service %s covers nothing", s.Code)
		}
	}
}

// encode writes a loaded catalog back in the file format, so that loading it
// again must give the same catalog.
func encode(c *catalog.Catalog) []byte {
	opt := func(d decimal.Decimal) any {
		if d.IsZero() {
			return nil
		}
		return d.String()
	}
	var f struct {
		Version  int              `json:"version"`
		Drugs    []map[string]any `json:"drugs"`
		Products []map[string]any `json:"products,omitempty"` // a catalog may list none
		Pumps    []map[string]any `json:"pumps"`
		Services []map[string]any `json:"services"`
		Payers   []map[string]any `json:"payers,omitempty"`
		DxSource string           `json:"diagnoses_source,omitempty"`
		Dx       []map[string]any `json:"diagnoses,omitempty"`
	}
	f.Version = 1
	for _, d := range c.Drugs {
		l := d.Label
		f.Drugs = append(f.Drugs, map[string]any{"name": d.Name, "code": d.Code, "aliases": d.Aliases, "unit_mcg": d.UnitMCG.String(),
			"unit_text": d.UnitText, "source": d.Source, "label": map[string]any{
				"start_max_mcg_per_day": opt(l.StartMaxMCGPerDay), "step_max_mcg_per_day": opt(l.StepMaxMCGPerDay),
				"max_increases_per_week": l.MaxIncreasesPerWeek, "min_hours_between_increases": l.MinHoursBetweenUps,
				"max_mcg_per_day": opt(l.MaxMCGPerDay), "naive_rinse_ml": opt(l.NaiveRinseML), "naive_rinse_mcg_per_ml": opt(l.NaiveRinseMCGPerML),
				"naive_refill_days": l.NaiveRefillDays, "diluted_refill_days": l.DilutedRefillDays, "undiluted_refill_days": l.UndilutedRefillDays,
				"source": l.Source}})
	}
	for _, p := range c.Products {
		f.Products = append(f.Products, map[string]any{"ndc": p.Printed, "drug": p.Drug, "mcg_per_ml": p.MCGPerML.String(), "ml": p.ML.String(),
			"single_dose": p.SingleDose, "labeler": p.Labeler, "verify": p.Verify, "source": p.Source})
	}
	for _, m := range c.Pumps {
		f.Pumps = append(f.Pumps, map[string]any{"id": m.ID, "device": m.Device, "reservoir_ml": m.ReservoirML.String(),
			"alarm_ml": m.AlarmML.String(), "discrepancy_ml": m.DiscrepancyML.String(), "source": m.Source})
	}
	for _, s := range c.Services {
		f.Services = append(f.Services, map[string]any{"code": s.Code, "description": s.Description, "refill": s.Refill,
			"reprogram": s.Reprogram, "excludes": s.Excludes})
	}
	for _, p := range c.Payers() {
		f.Payers = append(f.Payers, map[string]any{"id": p.ID, "name": p.Name, "kd_on_pump_drugs": p.KDOnPumpDrugs,
			"compounded": p.Compounded, "jw_jz": p.JWJZ, "code_overrides": p.CodeOverrides, "prior_auth": p.PriorAuth,
			"mue": p.MUE, "timely_filing_days": p.TimelyFilingDays, "documentation": p.Documentation, "source": p.Source})
	}
	f.DxSource = c.DiagnosesSource()
	for _, d := range c.Diagnoses() {
		f.Dx = append(f.Dx, map[string]any{"code": d.Code, "description": d.Description})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// sameCatalog compares two catalogs field by field, decimals by value.
func sameCatalog(a, b *catalog.Catalog) bool {
	if len(a.Drugs) != len(b.Drugs) || len(a.Products) != len(b.Products) || len(a.Pumps) != len(b.Pumps) || len(a.Services) != len(b.Services) {
		return false
	}
	eq := func(x, y decimal.Decimal) bool { return x.Equal(y) }
	for i, x := range a.Drugs {
		y := b.Drugs[i]
		lx, ly := x.Label, y.Label
		if x.Name != y.Name || x.Code != y.Code || !slices.Equal(x.Aliases, y.Aliases) || !eq(x.UnitMCG, y.UnitMCG) || x.UnitText != y.UnitText || x.Source != y.Source ||
			!eq(lx.StartMaxMCGPerDay, ly.StartMaxMCGPerDay) || !eq(lx.StepMaxMCGPerDay, ly.StepMaxMCGPerDay) || !eq(lx.MaxMCGPerDay, ly.MaxMCGPerDay) ||
			!eq(lx.NaiveRinseML, ly.NaiveRinseML) || !eq(lx.NaiveRinseMCGPerML, ly.NaiveRinseMCGPerML) ||
			lx.MaxIncreasesPerWeek != ly.MaxIncreasesPerWeek || lx.MinHoursBetweenUps != ly.MinHoursBetweenUps || lx.NaiveRefillDays != ly.NaiveRefillDays ||
			lx.DilutedRefillDays != ly.DilutedRefillDays || lx.UndilutedRefillDays != ly.UndilutedRefillDays || lx.Source != ly.Source {
			return false
		}
	}
	for i, x := range a.Products {
		y := b.Products[i]
		if x.NDC != y.NDC || x.Printed != y.Printed || x.Drug != y.Drug || !eq(x.MCGPerML, y.MCGPerML) || !eq(x.ML, y.ML) || x.SingleDose != y.SingleDose ||
			x.Labeler != y.Labeler || x.Verify != y.Verify || x.Source != y.Source {
			return false
		}
	}
	for i, x := range a.Pumps {
		y := b.Pumps[i]
		if x.ID != y.ID || x.Device != y.Device || !eq(x.ReservoirML, y.ReservoirML) || !eq(x.AlarmML, y.AlarmML) || !eq(x.DiscrepancyML, y.DiscrepancyML) || x.Source != y.Source {
			return false
		}
	}
	if !reflect.DeepEqual(a.Payers(), b.Payers()) || !reflect.DeepEqual(a.Diagnoses(), b.Diagnoses()) || a.DiagnosesSource() != b.DiagnosesSource() {
		return false
	}
	for i, x := range a.Services {
		y := b.Services[i]
		if x.Code != y.Code || x.Description != y.Description || x.Refill != y.Refill || x.Reprogram != y.Reprogram || !slices.Equal(x.Excludes, y.Excludes) {
			return false
		}
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []*catalog.Catalog{catalog.Default(), loadTestCatalog(t)} {
		again, err := catalog.Load(bytes.NewReader(encode(c)), "again")
		if err != nil {
			t.Fatal(err)
		}
		if !sameCatalog(c, again) {
			t.Error("the catalog written back and loaded again differs")
		}
	}
}

// FuzzLoad: Load never panics; it refuses with a line-numbered EINVALID error,
// or gives a catalog that keeps every invariant and loads again unchanged
// when written back.
func FuzzLoad(f *testing.F) {
	f.Add(catalog.DefaultJSON())
	if b, err := os.ReadFile("../testdata/catalog-test.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(strings.Join(base, "\n")))
	f.Add([]byte(withLine(19, `      "mcg_per_ml": 1e3,`)))
	f.Add([]byte(withLine(19, `      "mcg_per_ml": "1e999",`)))
	f.Add([]byte(withLine(19, `      "mcg_per_ml": "0.0000000001",`)))
	f.Add([]byte(withLine(17, `      "ndc": "1234-5678-90",`)))
	f.Add([]byte(withLine(7, `      "aliases": ["J2277", "ziconotide", "J2278"],`)))
	f.Add([]byte(strings.Join(pbase, "\n")))
	f.Add([]byte(withPLine(37, `      "code_overrides": {"ziconotide": "J2277", "morphine": "J2274"},`)))
	f.Add([]byte(withPLine(39, `      "mue": {"J2278": 9223372036854775807, "62369": 1},`)))
	f.Add([]byte(withPLine(41, `      "documentation": [],`)))
	f.Add([]byte(withPLine(47, `    {"code": "T85.610A", "description": "Breakdown of cranial or spinal infusion catheter, initial encounter"},`)))
	f.Add([]byte(withPLine(48, `    {"code": "g89.4", "description": "x"}`)))
	f.Add([]byte(`{"version": 1, "drugs": [], "pumps": [], "services": []}`))
	f.Add([]byte(`{"version": 1} x`))
	f.Add([]byte(`{`))
	f.Add([]byte(``))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := catalog.Load(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || !strings.HasPrefix(e.Message, "fuzz.json line ") {
				t.Fatalf("error %#v is not a line-numbered EINVALID", err)
			}
			return
		}
		checkInvariants(t, c)
		again, err := catalog.Load(bytes.NewReader(encode(c)), "again")
		if err != nil {
			t.Fatalf("the catalog written back does not load: %v", err)
		}
		if !sameCatalog(c, again) {
			t.Fatal("the catalog written back and loaded again differs")
		}
	})
}

// A catalog longer than MaxBytes is refused whole, never read cut short (a
// cut file could still parse, as a catalog with less in it).
func TestLoadRefusesTooLong(t *testing.T) {
	b := catalog.DefaultJSON()
	long := append(bytes.TrimRight(b, "\n"), bytes.Repeat([]byte(" "), catalog.MaxBytes)...)
	if _, err := catalog.Load(bytes.NewReader(long), "long.json"); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a catalog of %d bytes: %v, want it refused", len(long), err)
	}
	if _, err := catalog.Load(bytes.NewReader(b), "default.json"); err != nil {
		t.Fatal(err)
	}
}
