package catalog_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
)

// pbase is base with a payer profile and a diagnosis list, one field per line
// from line 30, so that a case can break one line and expect that line.
var pbase = append(slices.Clone(base[:28]), []string{
	/* 29 */ `  ],`,
	/* 30 */ `  "payers": [`,
	/* 31 */ `    {`,
	/* 32 */ `      "id": "acme",`,
	/* 33 */ `      "name": "Acme Health",`,
	/* 34 */ `      "kd_on_pump_drugs": false,`,
	/* 35 */ `      "compounded": "J3490",`,
	/* 36 */ `      "jw_jz": "not-used",`,
	/* 37 */ `      "code_overrides": {"ziconotide": "J2277"},`,
	/* 38 */ `      "prior_auth": ["J2278", "62369"],`,
	/* 39 */ `      "mue": {"J2278": 30},`,
	/* 40 */ `      "timely_filing_days": 90,`,
	/* 41 */ `      "documentation": ["diagnosis", "authorization"],`,
	/* 42 */ `      "source": "the Acme contract"`,
	/* 43 */ `    }`,
	/* 44 */ `  ],`,
	/* 45 */ `  "diagnoses_source": "the clinic's list",`,
	/* 46 */ `  "diagnoses": [`,
	/* 47 */ `    {"code": "G89.4", "description": "Chronic pain syndrome"},`,
	/* 48 */ `    {"code": "M96.1", "description": "Postlaminectomy syndrome, not elsewhere classified"}`,
	/* 49 */ `  ]`,
	/* 50 */ `}`,
}...)

func withPLine(n int, text string) string {
	lines := slices.Clone(pbase)
	lines[n-1] = text
	return strings.Join(lines, "\n")
}

func TestLoadPayers(t *testing.T) {
	c, err := catalog.Load(strings.NewReader(strings.Join(pbase, "\n")), "site.json")
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, c)
	want := billing.Payer{ID: "acme", Name: "Acme Health", KDOnPumpDrugs: false, Compounded: billing.J3490, JWJZ: billing.JWJZNotUsed,
		CodeOverrides: map[string]string{"ziconotide": "J2277"}, PriorAuth: []string{"J2278", "62369"}, MUE: map[string]int64{"J2278": 30},
		TimelyFilingDays: 90, Documentation: []pumpledger.Kind{pumpledger.KindDiagnosis, pumpledger.KindAuthorization}, Source: "the Acme contract"}
	if p, ok := c.Payer("acme"); !ok || !reflect.DeepEqual(p, want) {
		t.Errorf("Payer(acme) = %+v, %v\nwant %+v", p, ok, want)
	}
	if ps := c.Payers(); len(ps) != 1 || !reflect.DeepEqual(ps[0], want) {
		t.Errorf("Payers() = %+v", ps)
	}
	if ids := c.PayerIDs(); !slices.Equal(ids, []string{"acme"}) {
		t.Errorf("PayerIDs() = %v", ids)
	}
	// Ids are matched exactly: a coverage names the profile as the catalog does.
	for _, id := range []string{"Acme", "acme ", "", "medicare-part-b"} {
		if p, ok := c.Payer(id); ok {
			t.Errorf("Payer(%q) found %s", id, p.ID)
		}
	}
	// A profile handed out is a copy: the catalog is read-only after Load.
	p, _ := c.Payer("acme")
	p.CodeOverrides["ziconotide"] = "J9999"
	p.MUE["J2278"] = 1
	p.PriorAuth[0] = "J9999"
	p.Documentation[0] = pumpledger.KindTrial
	c.Payers()[0].CodeOverrides["ziconotide"] = "J9998"
	if again, _ := c.Payer("acme"); !reflect.DeepEqual(again, want) {
		t.Errorf("changing a returned profile changed the catalog: %+v", again)
	}
	if c.DiagnosesSource() != "the clinic's list" || len(c.Diagnoses()) != 2 {
		t.Errorf("diagnoses %v from %q", c.Diagnoses(), c.DiagnosesSource())
	}
}

func TestDiagnosisLookup(t *testing.T) {
	c, err := catalog.Load(strings.NewReader(strings.Join(pbase, "\n")), "site.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		code, want string
		ok         bool
	}{
		{"G89.4", "Chronic pain syndrome", true},
		{"G894", "Chronic pain syndrome", true}, // as a claim writes it
		{"g89.4", "Chronic pain syndrome", true},
		{" G89.4 ", "Chronic pain syndrome", true},
		{"M961", "Postlaminectomy syndrome, not elsewhere classified", true},
		{"M96.1", "Postlaminectomy syndrome, not elsewhere classified", true},
		{"G89.40", "", false}, // a longer code is another code
		{"G89", "", false},
		{"G89.3", "", false},
		{"", "", false},
	} {
		if got, ok := c.Diagnosis(tt.code); got != tt.want || ok != tt.ok {
			t.Errorf("Diagnosis(%q) = %q, %v; want %q, %v", tt.code, got, ok, tt.want, tt.ok)
		}
	}
}

// A catalog pinned before payer profiles and diagnoses (base has neither)
// still loads: it has no payers and an empty list.
func TestLoadWithoutPayers(t *testing.T) {
	c, err := catalog.Load(strings.NewReader(strings.Join(base, "\n")), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Payers()) != 0 || len(c.PayerIDs()) != 0 || len(c.Diagnoses()) != 0 || c.DiagnosesSource() != "" {
		t.Errorf("an old catalog has payers %v, diagnoses %v", c.PayerIDs(), c.Diagnoses())
	}
	if _, ok := c.Payer("medicare-part-b"); ok {
		t.Error("an old catalog has medicare-part-b")
	}
	if _, ok := c.Diagnosis("G89.4"); ok {
		t.Error("an old catalog lists G89.4")
	}
	// Empty sections are the same as none.
	_, err = catalog.Load(strings.NewReader(withPLine(49, `  ], "diagnoses": []`)), "twice.json")
	if err == nil || !strings.Contains(err.Error(), `"diagnoses" appears twice`) {
		t.Errorf("a second diagnoses section: %v", err)
	}
	lines := append(slices.Clone(base[:28]), `  ],`, `  "payers": [],`, `  "diagnoses": []`, `}`)
	if c, err = catalog.Load(strings.NewReader(strings.Join(lines, "\n")), "empty.json"); err != nil || len(c.Payers()) != 0 || len(c.Diagnoses()) != 0 {
		t.Errorf("empty payers and diagnoses: %v", err)
	}
}

// Every refusal of a payer profile or a diagnosis, with its exact sentence:
// the line, the field's path and what to do.
func TestLoadPayersRefused(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"id with spaces", withPLine(32, `      "id": "Acme Health",`),
			`site.json line 32: payers[0].id "Acme Health" must be lower-case letters, digits and hyphens, like "medicare-part-b"`},
		{"id missing", withPLine(32, ``),
			`site.json line 31: payers[0].id "" must be lower-case letters, digits and hyphens, like "medicare-part-b"`},
		{"duplicate id", withPLine(43, `    }, {"id": "acme", "name": "B", "kd_on_pump_drugs": true, "compounded": "J7799", "jw_jz": "required", "timely_filing_days": 365}`),
			`site.json line 43: payers[1].id "acme" is listed twice; keep one profile per payer`},
		{"name missing", withPLine(33, `      "name": " ",`),
			`site.json line 33: payers[0].name is missing; add the payer's name as the biller knows it`},
		{"kd missing", withPLine(34, ``),
			`site.json line 31: payers[0].kd_on_pump_drugs is missing; say true (KD on every drug given through a pump, as Medicare contractors ask) or false`},
		{"kd as a string", withPLine(34, `      "kd_on_pump_drugs": "yes",`),
			`site.json line 34: payers[0] entry: kd_on_pump_drugs must be true or false, not a JSON string`},
		{"unknown compounded", withPLine(35, `      "compounded": "j7799",`),
			`site.json line 35: payers[0].compounded "j7799" is not one of per-drug, J7799 or J3490; say how the payer wants a compounded fill billed`},
		{"compounded missing", withPLine(35, ``),
			`site.json line 31: payers[0].compounded "" is not one of per-drug, J7799 or J3490; say how the payer wants a compounded fill billed`},
		{"unknown jw_jz", withPLine(36, `      "jw_jz": "sometimes",`),
			`site.json line 36: payers[0].jw_jz "sometimes" is not required or not-used; say whether the payer wants JW/JZ on drugs from single-dose containers`},
		{"override of an unknown drug", withPLine(37, `      "code_overrides": {"prialt": "J2277"},`),
			`site.json line 37: payers[0].code_overrides: "prialt" is not a drug name of this catalog; name the drug as under "drugs" (ziconotide)`},
		{"override to a malformed code", withPLine(37, `      "code_overrides": {"ziconotide": "J227"},`),
			`site.json line 37: payers[0].code_overrides.ziconotide "J227" is not a HCPCS code; write it like "J2277"`},
		{"override to a lower-case code", withPLine(37, `      "code_overrides": {"ziconotide": "j2277"},`),
			`site.json line 37: payers[0].code_overrides.ziconotide "j2277" is not a HCPCS code; write it like "J2277"`},
		{"override given twice", withPLine(37, `      "code_overrides": {"ziconotide": "J2277", "ziconotide": "J2278"},`),
			`site.json line 37: payers[0] entry: "ziconotide" is given twice; keep only the right one`},
		{"malformed prior_auth code", withPLine(38, `      "prior_auth": ["J2278", "J22788"],`),
			`site.json line 38: payers[0].prior_auth[1] "J22788" is not a HCPCS or CPT code; write it like "J2278"`},
		{"prior_auth code twice", withPLine(38, `      "prior_auth": ["J2278", "J2278"],`),
			`site.json line 38: payers[0].prior_auth[1] "J2278" is listed twice; keep one`},
		{"prior_auth not a list", withPLine(38, `      "prior_auth": "J2278",`),
			`site.json line 38: payers[0] entry: prior_auth must be a list [...], not a JSON string`},
		{"mue of a malformed code", withPLine(39, `      "mue": {"ziconotide": 30},`),
			`site.json line 39: payers[0].mue: "ziconotide" is not a HCPCS code; key each limit by a code like "J2278"`},
		{"mue of zero", withPLine(39, `      "mue": {"J2278": 0},`),
			`site.json line 39: payers[0].mue.J2278 must be more than zero units a day, not 0; remove it if the payer sets no limit`},
		{"mue of a part unit", withPLine(39, `      "mue": {"J2278": 1.5},`),
			`site.json line 39: payers[0] entry: mue must be a whole number, not a JSON number 1.5`},
		{"timely filing missing", withPLine(40, ``),
			`site.json line 31: payers[0].timely_filing_days is missing; add the payer's filing limit in days, such as 365`},
		{"timely filing zero", withPLine(40, `      "timely_filing_days": 0,`),
			`site.json line 40: payers[0].timely_filing_days must be between 1 and 3650, not 0`},
		{"timely filing too long", withPLine(40, `      "timely_filing_days": 3651,`),
			`site.json line 40: payers[0].timely_filing_days must be between 1 and 3650, not 3651`},
		{"unknown documentation kind", withPLine(41, `      "documentation": ["diagnosis", "refill"],`),
			`site.json line 41: payers[0].documentation[1] "refill" is not a clinical record kind; use diagnosis, therapy, trial, consent, assessment or authorization`},
		{"documentation kind twice", withPLine(41, `      "documentation": ["trial", "trial"],`),
			`site.json line 41: payers[0].documentation[1] "trial" is listed twice; keep one`},
		{"unknown payer field", withPLine(42, `      "sources": "the Acme contract"`),
			`site.json line 42: payers[0] entry: unknown field "sources"`},
		{"payers not a list", strings.Join(append(slices.Clone(base[:28]), `  ],`, `  "payers": {}`, `}`), "\n"),
			`site.json line 30: "payers" must be a list [...]`},
		{"diagnosis of a malformed code", withPLine(47, `    {"code": "G89-4", "description": "Chronic pain syndrome"},`),
			`site.json line 47: diagnoses[0].code "G89-4" is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more)`},
		{"diagnosis without its point", withPLine(47, `    {"code": "G894", "description": "Chronic pain syndrome"},`),
			`site.json line 47: diagnoses[0].code "G894" is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more)`},
		{"diagnosis in lower case", withPLine(47, `    {"code": "g89.4", "description": "Chronic pain syndrome"},`),
			`site.json line 47: diagnoses[0].code "g89.4" is not an ICD-10-CM code; write it like G89.4 or M54.16 (a letter, two characters, a point, up to four more)`},
		{"diagnosis twice", withPLine(48, `    {"code": "G89.4", "description": "Chronic pain syndrome, again"}`),
			`site.json line 48: diagnoses[1].code G89.4 is listed twice (also as diagnoses[0]); keep one`},
		{"diagnosis without description", withPLine(48, `    {"code": "M96.1"}`),
			`site.json line 48: diagnoses[1].description is missing; add the code's title from the ICD-10-CM list`},
		{"diagnosis with an unknown field", withPLine(48, `    {"code": "M96.1", "title": "Postlaminectomy syndrome"}`),
			`site.json line 48: diagnoses[1] entry: unknown field "title"`},
		{"diagnoses_source not a string", withPLine(45, `  "diagnoses_source": ["CMS"],`),
			`site.json line 45: diagnoses_source must be a string saying where the diagnoses list comes from`},
		{"diagnoses_source twice", withPLine(45, `  "diagnoses_source": "a", "diagnoses_source": "b",`),
			`site.json line 45: "diagnoses_source" appears twice; keep only the right one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.Load(strings.NewReader(tt.text), "site.json")
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Field != "catalog" {
				t.Fatalf("err = %#v, want an EINVALID *Error on field catalog", err)
			}
			if err.Error() != tt.want {
				t.Errorf("message\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
}

// The embedded catalog's profiles are those SPEC §10 asks for, with their
// sources (§8).
func TestDefaultPayers(t *testing.T) {
	c := catalog.Default()
	if ids := c.PayerIDs(); !slices.Equal(ids, []string{"medicare-part-b", "commercial"}) {
		t.Fatalf("PayerIDs() = %v", ids)
	}
	dx := pumpledger.KindDiagnosis
	th, tr, co, au := pumpledger.KindTherapy, pumpledger.KindTrial, pumpledger.KindConsent, pumpledger.KindAuthorization
	mcr, _ := c.Payer("medicare-part-b")
	if !mcr.KDOnPumpDrugs || mcr.Compounded != billing.J7799 || mcr.JWJZ != billing.JWJZRequired || len(mcr.PriorAuth) != 0 ||
		len(mcr.MUE) != 0 || len(mcr.CodeOverrides) != 0 || mcr.TimelyFilingDays != 365 || !slices.Equal(mcr.Documentation, []pumpledger.Kind{dx, th, tr, co}) {
		t.Errorf("medicare-part-b = %+v", mcr)
	}
	com, _ := c.Payer("commercial")
	if com.KDOnPumpDrugs || com.Compounded != billing.PerDrug || com.JWJZ != billing.JWJZRequired || !slices.Equal(com.PriorAuth, []string{"J2278"}) ||
		len(com.MUE) != 0 || com.TimelyFilingDays != 180 || !slices.Equal(com.Documentation, []pumpledger.Kind{dx, th, tr, co, au}) {
		t.Errorf("commercial = %+v", com)
	}
	for _, w := range []struct{ id, cite string }{
		{"medicare-part-b", "A54100"}, {"medicare-part-b", "NCD 280.14"}, {"medicare-part-b", "424.44"},
		{"commercial", "CRX-ALL-0486"},
	} {
		if p, _ := c.Payer(w.id); !strings.Contains(p.Source, w.cite) {
			t.Errorf("%s's source does not cite %s: %s", w.id, w.cite, p.Source)
		}
	}
	// The common diagnoses the brief names, each found with and without its point.
	for _, code := range []string{"G89.4", "G89.21", "G89.28", "G89.29", "G89.3", "M96.1", "M54.16", "M54.17", "M47.816", "G90.511"} {
		if d, ok := c.Diagnosis(code); !ok || d == "" {
			t.Errorf("Diagnosis(%s) = %q, %v", code, d, ok)
		}
		if _, ok := c.Diagnosis(strings.ReplaceAll(code, ".", "")); !ok {
			t.Errorf("Diagnosis(%s without its point) not found", code)
		}
	}
	if d, _ := c.Diagnosis("G894"); d != "Chronic pain syndrome" {
		t.Errorf("G89.4 is %q", d)
	}
	if !strings.Contains(c.DiagnosesSource(), "A55323") {
		t.Errorf("the diagnoses' source does not cite its article: %s", c.DiagnosesSource())
	}
}
