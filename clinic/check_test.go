package clinic_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// The pre-billing check, rule by rule: each row is a complete patient
// record (coverage, diagnosis, therapy, trial, consent with its signed
// form, one refill that discards nothing) with one thing changed, and the
// exact findings of Check for March 2026 as of 15 April. For every rule of
// check.go there is a row where it fires and a near miss where it does not
// (TestCheckCoversEveryRule holds the table to that).

// Entry ids of the scenes' refills and dose changes.
const (
	idR1 = "00000000-0000-4000-8000-0000000000a1" // 2026-03-02
	idR2 = "00000000-0000-4000-8000-0000000000a2" // 2026-03-31
	idP1 = "00000000-0000-4000-8000-0000000000b1" // a dose change
)

// fill is a refill's input: ziconotide in a 20 mL SynchroMed II.
type fill struct {
	id, date, residual, conc, ndc, diluent, witness, proc string
	count                                                 int
}

func (f fill) json() string {
	return fmt.Sprintf(`{"id":%q,"mrn":"MRN-1","pump_serial":"S1","performed_at":"%sT09:00:00Z","nurse":"jdoe","witness":%q,
		"residual_ml":%q,"fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":%q}],
		"vials":[{"ndc":%q,"count":%d,"lot":"L1"}],"diluent_ml":%q,"dose":{"drug":"ziconotide","mcg_per_day":"1.2"},"procedure":%q}`,
		f.id, f.date, f.witness, f.residual, f.conc, f.ndc, f.count, f.diluent, f.proc)
}

var (
	// 100 mcg from one 100 mcg vial: nothing discarded, JZ.
	fillClean = fill{id: idR1, date: "2026-03-02", residual: "0", conc: "5", ndc: "70720-720-10", count: 1, diluent: "19", proc: "95990"}
	// 150 mcg from two 100 mcg vials, the best plan: 50 mcg discarded (JW).
	fillWaste = fill{id: idR1, date: "2026-03-02", residual: "0", conc: "7.5", ndc: "70720-720-10", count: 2, diluent: "18.5", proc: "95990", witness: "rn2"}
	// 100 mcg from a 500 mcg vial: 400 discarded where a 100 mcg vial discards none.
	fillWorse = fill{id: idR1, date: "2026-03-02", residual: "0", conc: "5", ndc: "68118-722-10", count: 1, diluent: "19", proc: "95990", witness: "rn2"}
	// The next refill, 29 days at 1.2 mcg/day of 5 mcg/mL later: 13.04 mL expected.
	fillNext = fill{id: idR2, date: "2026-03-31", residual: "13", conc: "5", ndc: "70720-720-10", count: 1, diluent: "19", proc: "95990"}
)

func (f fill) with(edit func(*fill)) fill { edit(&f); return f }

// rec is one clinical record's input, by kind.
type rec struct {
	kind pumpledger.Kind
	json string
}

// scene is what a row records, in order: the patient and pump, the
// clinical record, the refills, then dose changes, reviews and a catalog.
type scene struct {
	model      string
	clinical   []rec
	consentPDF bool // the consent carries its signed form
	fills      []fill
	reprograms []string
	reviews    []string
	adoptFrom  string // the embedded catalog adopted from this date ("" none)
	patient    string // the registration's JSON ("" a name alone)
}

func coverage(payer, from, to string) string {
	return fmt.Sprintf(`{"mrn":"MRN-1","payer":%q,"member_id":"M1","from":%q,"to":%q}`, payer, from, to)
}

func diagnosis(onset string) string {
	return fmt.Sprintf(`{"mrn":"MRN-1","code":"G89.4","description":"Chronic pain syndrome","onset":%q,"clinician":"drsmith"}`, onset)
}

func trial(successful string) string {
	return `{"mrn":"MRN-1","date":"2026-01-15","drug":"ziconotide","route":"intrathecal bolus","dose":"2.4 mcg","successful":` + successful + `}`
}

func authorization(amount, from, to, status string) string {
	return authorizationOf("commercial", "J2278", amount, from, to, status)
}

func authorizationOf(payer, code, amount, from, to, status string) string {
	return fmt.Sprintf(`{"mrn":"MRN-1","payer":%q,"number":"PA-1","codes":[%q],"drug":"ziconotide","amount":%q,"unit":"mcg","from":%q,"to":%q,"status":%q}`,
		payer, code, amount, from, to, status)
}

func assessment(at string) string {
	return `{"mrn":"MRN-1","at":"` + at + `","clinician":"drsmith","pain_score":4,"cognition":"normal","psychiatric":"none"}`
}

func review(refill string) string {
	return `{"mrn":"MRN-1","refill":"` + refill + `","at":"2026-04-01T10:00:00Z","clinician":"drsmith","finding":"pocket fill ruled out; catheter checked"}`
}

func reprogram(date, mcgPerDay, proc string) string {
	return fmt.Sprintf(`{"id":%q,"mrn":"MRN-1","pump_serial":"S1","performed_at":"%sT11:00:00Z","clinician":"drsmith","dose":{"drug":"ziconotide","mcg_per_day":%q},"procedure":%q}`,
		idP1, date, mcgPerDay, proc)
}

// complete is a record a payer of payer pays: nothing found.
func complete(payer string) *scene {
	s := &scene{model: "synchromed-ii-20", consentPDF: true, fills: []fill{fillClean}, clinical: []rec{
		{pumpledger.KindCoverage, coverage(payer, "2026-01-01", "")},
		{pumpledger.KindDiagnosis, diagnosis("2025-06-01")},
		{pumpledger.KindTherapy, `{"mrn":"MRN-1","therapy":"oral opioids","from":"2025-01-01","to":"2025-06-01","outcome":"failed"}`},
		{pumpledger.KindTrial, trial("true")},
		{pumpledger.KindConsent, `{"mrn":"MRN-1","date":"2026-02-01","therapy":"intrathecal ziconotide","signed_by":"Test Patient"}`},
	}}
	switch payer {
	case "commercial":
		s.set(pumpledger.KindAuthorization, authorization("1000", "2026-01-01", "2026-12-31", "approved"))
	case "site":
		s.set(pumpledger.KindAssessment, assessment("2026-03-02T10:00:00Z"))
	case "j2277":
		s.set(pumpledger.KindAuthorization, authorizationOf("j2277", "J2277", "1000", "2026-01-01", "2026-12-31", "approved"))
	}
	return s
}

// set replaces the scene's record of kind k (adds it if none); "" drops it.
func (s *scene) set(k pumpledger.Kind, in string) *scene {
	i := slices.IndexFunc(s.clinical, func(r rec) bool { return r.kind == k })
	switch {
	case i < 0 && in != "":
		s.clinical = append(s.clinical, rec{k, in})
	case i >= 0 && in == "":
		s.clinical = slices.Delete(s.clinical, i, i+1)
	case i >= 0:
		s.clinical[i].json = in
	}
	return s
}

// siteCatalog is the embedded catalog with two more payers: "site" (KD,
// J7799, JW/JZ, an MUE of 100 units of J2278 a day, a monitoring
// assessment at every visit, one year to file) and "j2277" (commercial's
// rules, but ziconotide billed and authorized as J2277).
func siteCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(catalog.DefaultJSON(), &m); err != nil {
		t.Fatal(err)
	}
	m["payers"] = append(m["payers"].([]any), map[string]any{
		"id": "site", "name": "Site plan", "kd_on_pump_drugs": true, "compounded": "J7799", "jw_jz": "required",
		"code_overrides": map[string]any{}, "prior_auth": []any{}, "mue": map[string]any{"J2278": 100},
		"timely_filing_days": 365, "documentation": []any{"diagnosis", "assessment"}, "source": "a site's contract",
	}, map[string]any{
		"id": "j2277", "name": "J2277 plan", "kd_on_pump_drugs": false, "compounded": "per-drug", "jw_jz": "required",
		"code_overrides": map[string]any{"ziconotide": "J2277"}, "prior_auth": []any{"J2277"}, "mue": map[string]any{},
		"timely_filing_days": 180, "documentation": []any{"diagnosis", "authorization"}, "source": "a payer that bills ziconotide as J2277",
	})
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(bytes.NewReader(data), "site.json")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// as is a row's patient: the scenes are written for MRN-1, pump S1 and
// ids …-4000-8000-…; row n records them as MRN-n, Sn and …-4000-8n-…, so
// that the rows share a ledger, and reads its findings back as written.
type as int

func (n as) in(s string) string {
	return strings.NewReplacer(`"MRN-1"`, `"`+n.mrn()+`"`, `"S1"`, fmt.Sprintf(`"S%d"`, n), "-4000-8000-", fmt.Sprintf("-4000-8%03d-", n)).Replace(s)
}

func (n as) out(s string) string {
	return strings.NewReplacer(n.mrn(), "MRN-1", fmt.Sprintf("-4000-8%03d-", n), "-4000-8000-").Replace(s)
}

func (n as) mrn() string { return fmt.Sprintf("MRN-%03d", n) }

// newLedger is a ledger created with cat whose clock reads 15 April 2026.
func newLedger(t *testing.T, cat *catalog.Catalog) *clinic.Service {
	t.Helper()
	now := time.Date(2026, 4, 15, 12, 0, 0, 0, time.UTC)
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	db, err := clinic.Create(ctx, filepath.Join(t.TempDir(), "l.db"), ledger.Options{NoSync: true, Now: func() time.Time { return now }}, cat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// record records the scene in db as row n's patient.
func (s *scene) record(t *testing.T, db *clinic.Service, n as) {
	t.Helper()
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	ok := func(what string) func(clinic.Result, error) {
		return func(_ clinic.Result, err error) {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
	}
	parse := func(k pumpledger.Kind, in string) any {
		t.Helper()
		v, err := pumpledger.ParseInput(k, strings.NewReader(n.in(in)))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		return v
	}
	if s.patient != "" {
		ok("patient")(db.AddPatient(ctx, *parse(pumpledger.KindPatient, s.patient).(*pumpledger.Patient)))
	} else {
		ok("patient")(db.AddPatient(ctx, pumpledger.Patient{MRN: n.mrn(), Name: "Test Patient"}))
	}
	ok("implant")(db.Implant(ctx, pumpledger.Implant{MRN: n.mrn(), Serial: fmt.Sprintf("S%d", n), Model: s.model, Date: "2026-02-20", Held: []string{"ziconotide"}}))
	for _, r := range s.clinical {
		v := parse(r.kind, r.json)
		if c, isConsent := v.(*pumpledger.Consent); isConsent && s.consentPDF {
			c.Document = &pumpledger.Attachment{Name: "consent.pdf", Content: []byte("%PDF-1.4 signed consent")}
		}
		ok(r.json)(db.RecordClinical(ctx, v))
	}
	for _, f := range s.fills {
		ok(f.json())(db.RecordRefill(ctx, *parse(pumpledger.KindRefill, f.json()).(*pumpledger.Refill)))
	}
	for _, in := range s.reprograms {
		ok(in)(db.RecordReprogram(ctx, *parse(pumpledger.KindReprogram, in).(*pumpledger.Reprogram)))
	}
	for _, in := range s.reviews {
		ok(in)(db.RecordClinical(ctx, parse(pumpledger.KindReview, in)))
	}
	if s.adoptFrom != "" {
		ok("adopt")(db.AdoptCatalog(ctx, catalog.DefaultJSON(), "default.json", "back to the shipped catalog", s.adoptFrom))
	}
}

// found is what a row asserts of a finding.
type found struct {
	rule, severity, entry, code, message string
}

// Messages the rows share.
const (
	msgNoCoverage   = "No coverage is recorded for MRN-1 on 2026-03-02; the visit is billed with the catalog's per-drug lines."
	msgNoDiagnosis  = "No diagnosis is on file for MRN-1 by 2026-03-02; the claim carries none."
	msgAuthMissing  = "Commercial plan (typical policy) needs a prior authorization for J2278, and none approved is on file for MRN-1."
	msgTimelySoon   = "The visit of 2026-03-02 must be filed with Medicare Part B (MAC) by 2027-03-02 (timely filing, 365 days)."
	msgTimelyPassed = "The visit of 2026-03-02 is past Medicare Part B (MAC)'s timely filing limit of 365 days (the last day was 2027-03-02)."
)

// withoutModifier is lines with modifier m taken off the line of code.
func withoutModifier(code, m string) func([]billing.Line) []billing.Line {
	return func(lines []billing.Line) []billing.Line {
		for i, l := range lines {
			if l.Code == code {
				lines[i].Modifiers = slices.DeleteFunc(slices.Clone(l.Modifiers), func(x string) bool { return x == m })
			}
		}
		return lines
	}
}

type checkCase struct {
	name string
	// fires and misses name the rule the row fires, or is the near miss of.
	fires, misses string
	scene         *scene
	asOf          string // "" is 2026-04-15
	// lines, when set, edits the bill's lines, which CheckLines then checks:
	// lines the profile did not make.
	lines func([]billing.Line) []billing.Line
	want  []found
}

func checkCases() []checkCase {
	med := func() *scene { return complete("medicare-part-b") }
	com := func() *scene { return complete("commercial") }
	site := func() *scene { return complete("site") }
	withFills := func(s *scene, fs ...fill) *scene { s.fills = fs; return s }
	return []checkCase{
		{name: "a complete record under medicare-part-b finds nothing", scene: med()},
		{name: "a complete record under commercial finds nothing", scene: com()},
		{name: "a complete record under a site's payer finds nothing", scene: site()},
		{name: "a complete record under a payer of J2277 finds nothing", scene: complete("j2277")},

		{name: "no coverage on the date of service", fires: clinic.RuleNoCoverage,
			scene: med().set(pumpledger.KindCoverage, coverage("medicare-part-b", "2026-03-03", "")),
			want:  []found{{clinic.RuleNoCoverage, billing.Warning, idR1, "", msgNoCoverage}}},
		{name: "coverage that ended the day before", fires: clinic.RuleNoCoverage,
			scene: med().set(pumpledger.KindCoverage, coverage("medicare-part-b", "2026-01-01", "2026-03-01")),
			want:  []found{{clinic.RuleNoCoverage, billing.Warning, idR1, "", msgNoCoverage}}},
		{name: "only a secondary coverage", fires: clinic.RuleNoCoverage,
			scene: med().set(pumpledger.KindCoverage, strings.Replace(coverage("medicare-part-b", "2026-01-01", ""), `"from"`, `"priority":"secondary","from"`, 1)),
			want:  []found{{clinic.RuleNoCoverage, billing.Warning, idR1, "", msgNoCoverage}}},
		{name: "coverage from the date of service", misses: clinic.RuleNoCoverage,
			scene: med().set(pumpledger.KindCoverage, coverage("medicare-part-b", "2026-03-02", "2026-03-02"))},

		{name: "a payer the catalog in force on the date of service lacks", fires: clinic.RulePayerUnknown,
			scene: func() *scene { s := site(); s.adoptFrom = "2026-03-02"; return s }(),
			want: []found{{clinic.RulePayerUnknown, billing.Error, idR1, "",
				`The coverage names payer "site", which is not a profile of the catalog in force on 2026-03-02.`}}},
		{name: "the catalog without the payer adopted the day after", misses: clinic.RulePayerUnknown,
			scene: func() *scene { s := site(); s.adoptFrom = "2026-03-03"; return s }()},

		{name: "no diagnosis, with coverage: an error", fires: clinic.RuleNoDiagnosis,
			scene: med().set(pumpledger.KindDiagnosis, ""),
			want:  []found{{clinic.RuleNoDiagnosis, billing.Error, idR1, "", msgNoDiagnosis}}},
		{name: "a diagnosis with its onset the day after", fires: clinic.RuleNoDiagnosis,
			scene: med().set(pumpledger.KindDiagnosis, diagnosis("2026-03-03")),
			want:  []found{{clinic.RuleNoDiagnosis, billing.Error, idR1, "", msgNoDiagnosis}}},
		{name: "no diagnosis and no coverage: warnings", fires: clinic.RuleNoDiagnosis,
			scene: med().set(pumpledger.KindDiagnosis, "").set(pumpledger.KindCoverage, ""),
			want: []found{
				{clinic.RuleNoCoverage, billing.Warning, idR1, "", msgNoCoverage},
				{clinic.RuleNoDiagnosis, billing.Warning, idR1, "", msgNoDiagnosis},
			}},
		{name: "a diagnosis with its onset on the date of service", misses: clinic.RuleNoDiagnosis,
			scene: med().set(pumpledger.KindDiagnosis, diagnosis("2026-03-02"))},

		{name: "no failed therapy on file", fires: clinic.RuleDocumentation,
			scene: med().set(pumpledger.KindTherapy, ""),
			want: []found{{clinic.RuleDocumentation, billing.Error, idR1, "",
				"Medicare Part B (MAC) needs a failed less invasive therapy on file, and there is none for MRN-1."}}},
		{name: "a trial that failed", fires: clinic.RuleDocumentation,
			scene: med().set(pumpledger.KindTrial, trial("false")),
			want: []found{{clinic.RuleDocumentation, billing.Error, idR1, "",
				"Medicare Part B (MAC) needs a successful preliminary trial on file, and there is none for MRN-1."}}},
		{name: "a trial without its result", fires: clinic.RuleDocumentation,
			scene: med().set(pumpledger.KindTrial, trial("null")),
			want: []found{{clinic.RuleDocumentation, billing.Error, idR1, "",
				"Medicare Part B (MAC) needs a successful preliminary trial on file, and there is none for MRN-1."}}},
		{name: "a successful trial dated after the visit", fires: clinic.RuleDocumentation,
			scene: med().set(pumpledger.KindTrial, strings.Replace(trial("true"), "2026-01-15", "2026-03-10", 1)),
			want: []found{{clinic.RuleDocumentation, billing.Error, idR1, "",
				"Medicare Part B (MAC) needs a successful preliminary trial on file, and there is none for MRN-1."}}},
		{name: "a consent without its signed form", fires: clinic.RuleDocumentation,
			scene: func() *scene { s := med(); s.consentPDF = false; return s }(),
			want: []found{{clinic.RuleDocumentation, billing.Error, idR1, "",
				"Medicare Part B (MAC) needs the signed consent form on file, and there is none for MRN-1."}}},
		{name: "an assessment the day before the visit", fires: clinic.RuleDocumentation,
			scene: site().set(pumpledger.KindAssessment, assessment("2026-03-01T10:00:00Z")),
			want: []found{{clinic.RuleDocumentation, billing.Error, idR1, "",
				"Site plan needs a monitoring assessment at the visit on file, and there is none for MRN-1."}}},
		{name: "an assessment at the visit", misses: clinic.RuleDocumentation, scene: site()},

		{name: "no authorization", fires: clinic.RuleAuthMissing,
			scene: com().set(pumpledger.KindAuthorization, ""),
			want:  []found{{clinic.RuleAuthMissing, billing.Error, idR1, "J2278", msgAuthMissing}}},
		{name: "an authorization still pending", fires: clinic.RuleAuthMissing,
			scene: com().set(pumpledger.KindAuthorization, authorization("1000", "2026-01-01", "2026-12-31", "pending")),
			want:  []found{{clinic.RuleAuthMissing, billing.Error, idR1, "J2278", msgAuthMissing}}},
		{name: "an approved authorization", misses: clinic.RuleAuthMissing, scene: com()},
		{name: "no authorization of the code the payer bills instead (J2277)", fires: clinic.RuleAuthMissing,
			scene: complete("j2277").set(pumpledger.KindAuthorization, ""),
			want: []found{{clinic.RuleAuthMissing, billing.Error, idR1, "J2277",
				"J2277 plan needs a prior authorization for J2277, and none approved is on file for MRN-1."}}},
		{name: "an authorization of the code the payer bills instead (J2277)", misses: clinic.RuleAuthMissing, scene: complete("j2277")},
		{name: "an authorization of J2277 used up", fires: clinic.RuleAuthExceeded,
			scene: complete("j2277").set(pumpledger.KindAuthorization, authorizationOf("j2277", "J2277", "99", "2026-01-01", "2026-12-31", "approved")),
			want: []found{{clinic.RuleAuthExceeded, billing.Error, idR1, "J2277",
				"This refill bills 100 mcg of J2277 under authorization PA-1, 1 mcg more than was left."}}},
		{name: "no authorization where the payer asks none", misses: clinic.RuleAuthMissing,
			scene: med().set(pumpledger.KindAuthorization, "")},

		{name: "an authorization that ended the day before", fires: clinic.RuleAuthExpired,
			scene: com().set(pumpledger.KindAuthorization, authorization("1000", "2026-01-01", "2026-03-01", "approved")),
			want: []found{{clinic.RuleAuthExpired, billing.Error, idR1, "J2278",
				"No authorization for J2278 covers 2026-03-02: the last, PA-1, runs 2026-01-01 to 2026-03-01."}}},
		{name: "an authorization that begins the day after", fires: clinic.RuleAuthExpired,
			scene: com().set(pumpledger.KindAuthorization, authorization("1000", "2026-03-03", "2026-12-31", "approved")),
			want: []found{{clinic.RuleAuthExpired, billing.Error, idR1, "J2278",
				"No authorization for J2278 covers 2026-03-02: the last, PA-1, runs 2026-03-03 to 2026-12-31."}}},
		{name: "an authorization whose last day is the date of service", misses: clinic.RuleAuthExpired,
			scene: com().set(pumpledger.KindAuthorization, authorization("1000", "2026-01-01", "2026-03-02", "approved"))},

		{name: "an authorization a unit short", fires: clinic.RuleAuthExceeded,
			scene: com().set(pumpledger.KindAuthorization, authorization("99", "2026-01-01", "2026-12-31", "approved")),
			want: []found{{clinic.RuleAuthExceeded, billing.Error, idR1, "J2278",
				"This refill bills 100 mcg of J2278 under authorization PA-1, 1 mcg more than was left."}}},
		{name: "the second refill overdraws what the first left", fires: clinic.RuleAuthExceeded,
			scene: withFills(com().set(pumpledger.KindAuthorization, authorization("150", "2026-01-01", "2026-12-31", "approved")), fillClean, fillNext),
			want: []found{{clinic.RuleAuthExceeded, billing.Error, idR2, "J2278",
				"This refill bills 100 mcg of J2278 under authorization PA-1, 50 mcg more than was left."}}},
		{name: "an authorization used to its last unit", misses: clinic.RuleAuthExceeded,
			scene: com().set(pumpledger.KindAuthorization, authorization("100", "2026-01-01", "2026-12-31", "approved"))},

		{name: "units above the payer's MUE", fires: clinic.RuleMUE,
			scene: withFills(site(), fillWaste),
			want: []found{{clinic.RuleMUE, billing.Warning, idR1, "J2278",
				"200 units of J2278 on 2026-03-02 are above Site plan's limit of 100 a day (MUE)."}}},
		{name: "units at the payer's MUE", misses: clinic.RuleMUE, scene: site()},

		{name: "waste without a witness", fires: clinic.RuleJWUndocumented,
			scene: withFills(med(), fillWaste.with(func(f *fill) { f.witness = "" })),
			want: []found{{clinic.RuleJWUndocumented, billing.Error, idR1, "J2278",
				"The JW line of 50 units of J2278 has no witness recorded for the discarded drug."}}},
		{name: "waste with a witness", misses: clinic.RuleJWUndocumented, scene: withFills(med(), fillWaste)},

		{name: "a container discarding more than the best plan", fires: clinic.RuleJWBetterPlan,
			scene: withFills(med(), fillWorse),
			want: []found{{clinic.RuleJWBetterPlan, billing.Warning, idR1, "",
				"The containers opened discarded more than the best vial plan would have; the payer may deny the JW line."}}},
		{name: "waste of the best plan", misses: clinic.RuleJWBetterPlan, scene: withFills(med(), fillWaste)},

		{name: "a single-dose line without JZ", fires: clinic.RuleJWJZMissing, scene: med(),
			lines: withoutModifier("J2278", billing.JZ),
			want: []found{{clinic.RuleJWJZMissing, billing.Error, idR1, "J2278",
				"J2278 from the single-dose container 70720072010 carries neither JW nor JZ, which Medicare Part B (MAC) requires."}}},
		{name: "the administered line beside its JW line", misses: clinic.RuleJWJZMissing, scene: withFills(med(), fillWaste),
			lines: func(ls []billing.Line) []billing.Line { return ls }},

		{name: "a pump drug without KD", fires: clinic.RuleKDMissing, scene: med(),
			lines: withoutModifier("J2278", billing.KD),
			want: []found{{clinic.RuleKDMissing, billing.Error, idR1, "J2278",
				"J2278 is a drug given through an implanted pump but has no KD modifier, which Medicare Part B (MAC) requires."}}},
		{name: "no KD where the payer asks none", misses: clinic.RuleKDMissing, scene: com(),
			lines: withoutModifier("J2278", billing.KD)},

		{name: "drugs without the refill service", fires: clinic.RuleServiceMissing, scene: med(),
			lines: func(ls []billing.Line) []billing.Line {
				return slices.DeleteFunc(ls, func(l billing.Line) bool { return l.Code == "95990" })
			},
			want: []found{{clinic.RuleServiceMissing, billing.Error, idR1, "",
				"The visit bills drugs without a refill service code (95990, 95991, 62369 or 62370) on the same claim."}}},
		{name: "drugs with the refill service", misses: clinic.RuleServiceMissing, scene: med(),
			lines: func(ls []billing.Line) []billing.Line { return ls }},

		{name: "a dose change the day of the refill", fires: clinic.RuleCPTConflict,
			scene: func() *scene { s := med(); s.reprograms = []string{reprogram("2026-03-02", "2.4", "62368")}; return s }(),
			want: []found{{clinic.RuleCPTConflict, billing.Error, idP1, "",
				"MRN-1 on 2026-03-02: 62368 (entry " + idP1 + ") is not reported with 95990 (entry " + idR1 + ") on the same date; bill the visit as one code (a refill with reprogramming is 62369 or 62370) or correct one entry."}}},
		{name: "a dose change the day after the refill", misses: clinic.RuleCPTConflict,
			scene: func() *scene { s := med(); s.reprograms = []string{reprogram("2026-03-03", "2.4", "62368")}; return s }()},

		{name: "a dose change coded as analysis only", fires: clinic.RuleCPTMismatch,
			scene: func() *scene { s := med(); s.reprograms = []string{reprogram("2026-03-03", "2.4", "62367")}; return s }(),
			want: []found{{clinic.RuleCPTMismatch, billing.Warning, idP1, "",
				"Procedure 62367 is pump analysis without reprogramming, but this visit changed the dose from 1.2 to 2.4 mcg/day of ziconotide. Bill 62368 (analysis with reprogramming), or correct the entry if the dose did not change."}}},
		{name: "a refill that kept the dose coded with reprogramming", fires: clinic.RuleCPTMismatch,
			scene: withFills(med(), fillClean, fillNext.with(func(f *fill) { f.proc = "62369" })),
			want:  []found{{clinic.RuleCPTMismatch, billing.Warning, idR2, "", "Procedure 62369 is a pump refill with reprogramming, but this refill kept the dose at 1.2 mcg/day of ziconotide and the concentrations of the fill before. Bill 95990 (refill and maintenance), unless the pump was reprogrammed otherwise: say how in the note."}}},
		{name: "an analysis only that kept the dose", misses: clinic.RuleCPTMismatch,
			scene: func() *scene { s := med(); s.reprograms = []string{reprogram("2026-03-03", "1.2", "62367")}; return s }()},

		{name: "ziconotide in a Prometra pump", fires: clinic.RuleOffLabel,
			scene: func() *scene { s := med(); s.model = "prometra-ii-20"; return s }(),
			want: []found{{clinic.RuleOffLabel, billing.Warning, idR1, "",
				"Off-label: Flowonix Prometra II 20 mL is labelled for morphine, baclofen and saline, not ziconotide (Flowonix brief statement, 2024)."}}},
		{name: "ziconotide in a SynchroMed II", misses: clinic.RuleOffLabel, scene: med()},

		{name: "a residual discrepancy not reviewed", fires: clinic.RuleDiscrepancy,
			scene: withFills(med(), fillClean, fillNext.with(func(f *fill) { f.residual = "6" })),
			want: []found{{clinic.RuleDiscrepancy, billing.Warning, idR2, "",
				"The refill's residual was flagged as a discrepancy and no review is recorded."}}},
		{name: "a residual discrepancy reviewed", misses: clinic.RuleDiscrepancy,
			scene: func() *scene {
				s := withFills(med(), fillClean, fillNext.with(func(f *fill) { f.residual = "6" }))
				s.reviews = []string{review(idR2)}
				return s
			}()},
		{name: "a residual within the pump's threshold", misses: clinic.RuleDiscrepancy,
			scene: withFills(med(), fillClean, fillNext)},

		{name: "filed a day past the limit", fires: clinic.RuleTimelyFiling, scene: med(), asOf: "2027-03-03",
			want: []found{{clinic.RuleTimelyFiling, billing.Error, idR1, "", msgTimelyPassed}}},
		{name: "filed on the limit", misses: clinic.RuleTimelyFiling, scene: med(), asOf: "2027-03-02",
			want: []found{{clinic.RuleTimelyFilingDue, billing.Warning, idR1, "", msgTimelySoon}}},
		{name: "filed thirty days before the limit", fires: clinic.RuleTimelyFilingDue, scene: med(), asOf: "2027-01-31",
			want: []found{{clinic.RuleTimelyFilingDue, billing.Warning, idR1, "", msgTimelySoon}}},
		{name: "filed thirty-one days before the limit", misses: clinic.RuleTimelyFilingDue, scene: med(), asOf: "2027-01-30"},
	}
}

func TestCheckRules(t *testing.T) {
	cat := siteCatalog(t)
	cases := checkCases()
	// Each row is a patient of one shared ledger, but a row that adopts a
	// catalog (which every patient's visits would see) has its own.
	shared := newLedger(t, cat)
	dbs := make([]*clinic.Service, len(cases))
	for i, tc := range cases {
		if tc.scene.adoptFrom != "" {
			dbs[i] = newLedger(t, cat)
			tc.scene.record(t, dbs[i], as(i))
		}
	}
	// The shared ledger's rows in one commit, as the demo imports.
	if err := shared.Import(0, func() error {
		for i, tc := range cases {
			if dbs[i] == nil {
				dbs[i] = shared
				tc.scene.record(t, shared, as(i))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A ledger's bill and check are read once per date they are checked as of.
	type key struct {
		db   *clinic.Service
		asOf string
	}
	bills, checks := map[*clinic.Service][]billing.Line{}, map[key][]billing.Finding{}
	ctx := context.Background()
	for i, tc := range cases {
		db, k := dbs[i], key{dbs[i], cmp.Or(tc.asOf, "2026-04-15")}
		if _, done := bills[db]; !done {
			lines, err := db.Bill(ctx, "2026-03-01", "2026-03-31")
			if err != nil {
				t.Fatal(err)
			}
			bills[db] = lines
		}
		if _, done := checks[k]; !done && tc.lines == nil {
			fs, err := db.Check(ctx, "2026-03-01", "2026-03-31", k.asOf)
			if err != nil {
				t.Fatal(err)
			}
			checks[k] = fs
		}
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, db, asOf := as(i), dbs[i], cmp.Or(tc.asOf, "2026-04-15")
			all := checks[key{db, asOf}]
			if tc.lines != nil {
				var mine []billing.Line
				for _, l := range bills[db] {
					if l.MRN == n.mrn() {
						l.Modifiers = slices.Clone(l.Modifiers)
						mine = append(mine, l)
					}
				}
				var err error
				if all, err = db.CheckLines(ctx, tc.lines(mine), asOf); err != nil {
					t.Fatal(err)
				}
			}
			var got []found
			for _, f := range all {
				if f.MRN != n.mrn() {
					continue
				}
				got = append(got, found{f.Rule, f.Severity, n.out(f.EntryID), f.Code, n.out(f.Message)})
				if f.Fix == "" || f.Basis == "" {
					t.Errorf("%s: fix %q, basis %q", f.Rule, f.Fix, f.Basis)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", show(got), show(tc.want))
			}
		})
	}
}

func show(fs []found) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s entry %s code %q: %s\n", f.rule, f.severity, f.entry, f.code, f.message)
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// TestCheckCoversEveryRule: every Rule constant of check.go has a row
// that fires it and a near miss, so a rule added without its rows fails.
func TestCheckCoversEveryRule(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "check.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, n := range v.Names {
				if strings.HasPrefix(n.Name, "Rule") && i < len(v.Values) {
					if lit, ok := v.Values[i].(*ast.BasicLit); ok {
						id, _ := strconv.Unquote(lit.Value)
						rules = append(rules, id)
					}
				}
			}
		}
	}
	if len(rules) < 19 {
		t.Fatalf("read %d rules from check.go: %q", len(rules), rules)
	}
	fires, misses := map[string]bool{}, map[string]bool{}
	for _, tc := range checkCases() {
		fires[tc.fires], misses[tc.misses] = true, true
		if tc.fires != "" && !slices.ContainsFunc(tc.want, func(f found) bool { return f.rule == tc.fires }) {
			t.Errorf("%q is said to fire %s but does not", tc.name, tc.fires)
		}
		if tc.misses != "" && slices.ContainsFunc(tc.want, func(f found) bool { return f.rule == tc.misses }) {
			t.Errorf("%q is said to be a near miss of %s but fires it", tc.name, tc.misses)
		}
	}
	for _, r := range rules {
		if !fires[r] {
			t.Errorf("no row fires %s", r)
		}
		if !misses[r] {
			t.Errorf("no near miss of %s", r)
		}
	}
}

// The date a check is made as of is refused, naming the field, when it is
// not a date.
func TestCheckAsOfRefused(t *testing.T) {
	db := newLedger(t, nil)
	_, err := db.CheckLines(context.Background(), nil, "2026-02-30")
	if pumpledger.ErrorCode(err) != pumpledger.EINVALID || !strings.Contains(pumpledger.ErrorMessage(err), "as_of must be a date") {
		t.Errorf("as of 2026-02-30: %v", err)
	}
}
