package fhir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/fhir"
	"github.com/pumpledger/pumpledger/ledger"
)

const (
	refill1 = "00000000-0000-4000-8000-000000000011"
	refill2 = "00000000-0000-4000-8000-000000000013"
	dx      = "00000000-0000-4000-8000-000000000001"
	cover   = "00000000-0000-4000-8000-000000000002"
)

// A naive pump's first fill (rinse and waste), a dose change and a second
// fill whose dose is the smallest a dose can be written: nine decimal places.
var (
	fill1 = `{"id":"` + refill1 + `","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-01T09:00:00-05:00","nurse":"jdoe","witness":"asmith",
 "residual_ml":"0","rinse_ml":"6","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"5"}],
 "vials":[{"ndc":"70720-723-10","count":1,"lot":"L1","expires":"2027-06-30"}],
 "diluent_ml":"16","dose":{"drug":"ziconotide","mcg_per_day":"1.2"},"procedure":"95990"}`
	change1 = `{"id":"00000000-0000-4000-8000-000000000012","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-11T10:00:00-04:00","clinician":"drx",
 "dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"62368"}`
	fill2 = `{"id":"` + refill2 + `","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-24T10:00:00-04:00","nurse":"jdoe","witness":"asmith",
 "residual_ml":"12.6","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"7.5"}],
 "vials":[{"ndc":"70720-720-10","count":1,"lot":"L3","expires":"2027-06-30"},{"ndc":"70720-720-10","count":1,"lot":"L4","expires":"2027-09-30"}],
 "diluent_ml":"18.5","dose":{"drug":"ziconotide","mcg_per_day":"0.000000001"},"procedure":"62369"}`
)

func smallLedger(t *testing.T) (clinic.Ledger, context.Context) {
	t.Helper()
	clock := time.Date(2026, 4, 1, 15, 0, 0, 0, time.UTC)
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	db, err := clinic.Create(ctx, filepath.Join(t.TempDir(), "l.db"), ledger.Options{Now: func() time.Time { return clock }}, catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	must := func(_ clinic.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.AddPatient(ctx, pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient", BirthDate: "1961-04-12", Sex: "F"}))
	must(db.AddPatient(ctx, pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"}))
	must(db.Implant(ctx, pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}))
	for k, in := range map[pumpledger.Kind]string{
		pumpledger.KindDiagnosis: `{"id":"` + dx + `","mrn":"MRN-1","code":"G89.4","description":"Chronic pain syndrome","onset":"2019-05-01","clinician":"drx"}`,
		pumpledger.KindCoverage:  `{"id":"` + cover + `","mrn":"MRN-1","payer":"commercial","member_id":"XJH123456","plan":"PPO","from":"2026-01-01"}`,
	} {
		v, err := pumpledger.ParseInput(k, strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		must(db.RecordClinical(ctx, v))
	}
	for _, in := range []string{fill1, change1, fill2} {
		if strings.Contains(in, `"clinician"`) {
			r, err := pumpledger.ParseReprogram(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			must(db.RecordReprogram(ctx, r))
			continue
		}
		r, err := pumpledger.ParseRefill(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		must(db.RecordRefill(ctx, r))
	}
	return db, ctx
}

// resources decodes a written bundle's resources, numbers as written.
func resources(t *testing.T, b []byte) map[string]map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var bundle struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := dec.Decode(&bundle); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, e := range bundle.Entry {
		out[e.Resource["id"].(string)] = e.Resource
	}
	return out
}

func kinds(rs map[string]map[string]any) map[string]int {
	n := map[string]int{}
	for _, r := range rs {
		n[r["resourceType"].(string)]++
	}
	return n
}

// The same ledger gives the same bundle, byte for byte; a correction keeps
// the resource's id (an importer updates it), a void without replacement
// marks it entered-in-error, and the corrected bundle still validates.
func TestIdentifiersStableAcrossCorrections(t *testing.T) {
	t.Parallel() // each runs node for a second or more: overlap them
	db, ctx := smallLedger(t)
	before := export(t, db, "MRN-1", "", "")
	if again := export(t, db, "MRN-1", "", ""); !bytes.Equal(before, again) {
		t.Fatal("two exports of the same ledger differ")
	}
	rs := resources(t, before)
	if got := kinds(rs); got["Procedure"] != 3 || got["MedicationAdministration"] != 4 || got["Condition"] != 1 || got["Coverage"] != 1 || got["Medication"] != 4 {
		t.Fatalf("resources: %v", got)
	}
	r, err := pumpledger.ParseRefill(strings.NewReader(strings.Replace(fill1, `"nurse":"jdoe"`, `"nurse":"kcho"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	r.ID = "00000000-0000-4000-8000-000000000021"
	if _, err := db.Correct(ctx, refill1, "nurse misrecorded", clinic.Replacement{Refill: &r}); err != nil {
		t.Fatal(err)
	}
	d, err := pumpledger.ParseInput(pumpledger.KindDiagnosis, strings.NewReader(`{"id":"00000000-0000-4000-8000-000000000022","mrn":"MRN-1","code":"G89.29","description":"Other chronic pain","onset":"2019-05-01","clinician":"drx"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Correct(ctx, dx, "wrong code", clinic.Replacement{Clinical: d}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Correct(ctx, cover, "not this patient's plan", clinic.Replacement{}); err != nil {
		t.Fatal(err)
	}
	after := export(t, db, "MRN-1", "", "")
	validate(t, after)
	rs2 := resources(t, after)
	p := rs2[refill1]
	if p == nil || p["resourceType"] != "Procedure" {
		t.Fatalf("the corrected refill's Procedure lost its id %s", refill1)
	}
	if !strings.Contains(mustJSON(t, p), `"kcho"`) {
		t.Errorf("the corrected refill's Procedure is not its replacement: %s", mustJSON(t, p))
	}
	if c := rs2[dx]; c == nil || !strings.Contains(mustJSON(t, c), `"G89.29"`) {
		t.Errorf("the corrected diagnosis's Condition: %v", c)
	}
	if c := rs2[cover]; c == nil || c["status"] != "entered-in-error" {
		t.Errorf("the coverage voided without a replacement is not exported entered-in-error: %v", c)
	}
	for id, r := range rs {
		if rs2[id] == nil || rs2[id]["resourceType"] != r["resourceType"] {
			t.Errorf("%s %s is gone after the corrections", r["resourceType"], id)
		}
	}
	if got := kinds(rs2)["Practitioner"] - kinds(rs)["Practitioner"]; got != 1 {
		t.Errorf("%d Practitioners more after the corrections, want 1 (kcho)", got)
	}
	if len(rs2) != len(rs)+1 {
		t.Errorf("%d resources after the corrections, want %d", len(rs2), len(rs)+1)
	}
}

// An entry voided without a replacement is exported with its resource's
// entered-in-error status, by the id it had, so that an importer that
// holds it retracts it; so are the drugs of a voided refill.
func TestEnteredInError(t *testing.T) {
	t.Parallel()
	db, ctx := smallLedger(t)
	rs := resources(t, export(t, db, "MRN-1", "", ""))
	var device string
	placed := map[string]bool{} // the MedicationAdministrations of the second refill
	for id, r := range rs {
		switch {
		case r["resourceType"] == "Device":
			device = id
		case r["resourceType"] == "MedicationAdministration" && strings.Contains(mustJSON(t, r["partOf"]), refill2):
			placed[id] = true
		}
	}
	change := "00000000-0000-4000-8000-000000000012"
	// The pump last: it cannot be voided while a visit to it stands.
	for _, id := range []string{refill2, change, refill1, dx, cover, device} {
		if _, err := db.Correct(ctx, id, "recorded for the wrong patient", clinic.Replacement{}); err != nil {
			t.Fatalf("void %s: %v", id, err)
		}
	}
	out := export(t, db, "MRN-1", "", "")
	validate(t, out)
	after := resources(t, out)
	status := func(r map[string]any) any { return r["status"] }
	for _, c := range []struct {
		id, kind string
		field    func(map[string]any) any
	}{
		{refill2, "Procedure", status},
		{refill1, "Procedure", status},
		{change, "Procedure", status},
		{cover, "Coverage", status},
		{device, "Device", status},
		{dx, "Condition", func(r map[string]any) any {
			if r["clinicalStatus"] != nil {
				return "a clinicalStatus" // con-5
			}
			return r["verificationStatus"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"]
		}},
	} {
		r := after[c.id]
		if r == nil || r["resourceType"] != c.kind {
			t.Errorf("%s %s is not exported after its void: %v", c.kind, c.id, r)
			continue
		}
		if got := c.field(r); got != "entered-in-error" {
			t.Errorf("%s %s: %v, want entered-in-error", c.kind, c.id, got)
		}
		if n, ok := r["note"].([]any); c.kind != "Coverage" && (!ok || !strings.Contains(mustJSON(t, n[0]), "recorded for the wrong patient")) {
			t.Errorf("%s %s does not say why it was entered in error: %v", c.kind, c.id, r["note"])
		}
	}
	if len(placed) != 2 {
		t.Fatalf("the second refill gave %d MedicationAdministrations, want 2", len(placed))
	}
	for id := range placed {
		if r := after[id]; r == nil || r["status"] != "entered-in-error" {
			t.Errorf("MedicationAdministration %s of the voided refill: %v", id, r)
		}
	}
	for id, r := range rs {
		if after[id] == nil {
			t.Errorf("%s %s is gone after the voids", r["resourceType"], id)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Quantities are written with the ledger's exact digits, as JSON numbers.
func TestQuantitiesExact(t *testing.T) {
	t.Parallel()
	db, _ := smallLedger(t)
	out := export(t, db, "MRN-1", "2026-03-24", "2026-03-24")
	for _, want := range []string{
		`"value": 0.000000001,`, // the programmed rate, as recorded (1e-9 through a float64)
		`"value": 150,`,         // 7.5 mcg/mL × 20 mL placed in the reservoir
		`"value": 50,`,          // 200 opened − 150: discarded
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the bundle has no %s", want)
		}
	}
}

// --from and --to select the visits; the rest of the record is whole.
func TestPeriod(t *testing.T) {
	t.Parallel()
	db, _ := smallLedger(t)
	rs := resources(t, export(t, db, "MRN-1", "2026-03-24", "2026-03-31"))
	if got := kinds(rs); got["Procedure"] != 1 || got["Patient"] != 1 || got["Device"] != 1 || got["Condition"] != 1 || got["Coverage"] != 1 {
		t.Errorf("resources in the period: %v", got)
	}
	if rs[refill2] == nil {
		t.Error("the refill in the period is not exported")
	}
	for _, c := range []struct{ from, to, want string }{
		{"2026-03-31", "2026-03-01", "to 2026-03-01 is before the first date"},
		{"March", "", `from must be a date like 2026-03-01, not "March".`},
		{"", "2026-3-1", `to must be a date like 2026-03-31, not "2026-3-1".`},
	} {
		_, err := fhir.Export(context.Background(), db, "MRN-1", c.from, c.to)
		if pumpledger.ErrorCode(err) != pumpledger.EINVALID || !strings.Contains(pumpledger.ErrorMessage(err), c.want) {
			t.Errorf("period %q..%q: %v, want EINVALID %q", c.from, c.to, err, c.want)
		}
	}
	if _, err := fhir.Export(context.Background(), db, "MRN-9", "", ""); pumpledger.ErrorCode(err) != pumpledger.ENOTFOUND {
		t.Errorf("unknown patient: %v, want ENOTFOUND", err)
	}
}

// The validator fails: a bundle with each kind of fault is refused, each
// named. Without this, a validator that accepts everything would pass the
// golden bundle too.
func TestValidatorRefusesBrokenBundle(t *testing.T) {
	t.Parallel() // each runs node for a second or more: overlap them
	db, _ := smallLedger(t)
	var b map[string]any
	if err := json.Unmarshal(export(t, db, "MRN-1", "", ""), &b); err != nil {
		t.Fatal(err)
	}
	var ma string
	for _, e := range b["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		switch r["resourceType"] {
		case "Patient":
			r["gender"] = "femme"
		case "Device":
			r["colour"] = "grey"
		case "MedicationAdministration":
			if ma == "" {
				delete(r, "status")
				r["subject"] = map[string]any{"reference": e.(map[string]any)["fullUrl"]} // itself: not a Patient
				r["dosage"].(map[string]any)["dose"].(map[string]any)["value"] = "150"
				ma = r["id"].(string)
			}
		case "Condition":
			r["subject"] = map[string]any{"reference": "urn:uuid:00000000-0000-4000-8000-0000000000ff"}
		}
	}
	broken, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := runChecker(t, broken)
	if ok {
		t.Fatalf("the validator accepted a broken bundle:\n%s", out)
	}
	for _, want := range []string{
		`"femme" is not one of male, female, other, unknown`,
		`Invalid additional property "colour" at Device.colour`,
		`Missing required property at MedicationAdministration.status`,
		`Invalid reference: got "MedicationAdministration"`,
		`at MedicationAdministration.dosage.dose.value`,
		`reference urn:uuid:00000000-0000-4000-8000-0000000000ff is not in the Bundle`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the validator did not say %q:\n%s", want, out)
		}
	}
}

// Prior therapies, trials, assessments, reviews and authorizations: each
// entry to its resource, as docs/fhir.md maps it.
func TestClinicalRecordMapping(t *testing.T) {
	t.Parallel()
	db, ctx := smallLedger(t)
	id := func(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-0000000001%02d", n) }
	for _, c := range []struct {
		kind pumpledger.Kind
		in   string
	}{
		{pumpledger.KindTherapy, `{"id":"` + id(1) + `","mrn":"MRN-1","therapy":"oral opioids","from":"2017-02-01","to":"2019-04-30","outcome":"failed","details":"oxycodone: sedation"}`},
		{pumpledger.KindTherapy, `{"id":"` + id(2) + `","mrn":"MRN-1","therapy":"spinal cord stimulator","from":"2019-05-01","outcome":"contraindicated","details":"anticoagulated"}`},
		{pumpledger.KindTherapy, `{"id":"` + id(3) + `","mrn":"MRN-1","therapy":"physical therapy","from":"2018-01-01","to":"2018-06-30","outcome":"failed"}`},
		{pumpledger.KindTrial, `{"id":"` + id(4) + `","mrn":"MRN-1","date":"2026-02-01","drug":"ziconotide","route":"intrathecal bolus","dose":"5 mcg","relief_percent":40,"successful":false}`},
		{pumpledger.KindTrial, `{"id":"` + id(5) + `","mrn":"MRN-1","date":"2026-02-05","drug":"ziconotide","route":"continuous intrathecal catheter","dose":"1.2 mcg/day"}`},
		{pumpledger.KindAssessment, `{"id":"` + id(6) + `","mrn":"MRN-1","at":"2026-03-24T10:30:00-04:00","clinician":"drx","pain_score":0,"cognition":"impaired","psychiatric":"present","adverse_events":"dizziness","ck_u_l":"123.45"}`},
		{pumpledger.KindAuthorization, `{"id":"` + id(8) + `","mrn":"MRN-1","payer":"commercial","number":"PA-123456","codes":["J2278"],"drug":"ziconotide","amount":"6000.5","used_before":"100","unit":"mcg","from":"2026-02-01","to":"2027-01-31","reassess_by":"2026-12-31","status":"approved"}`},
		{pumpledger.KindAuthorization, `{"id":"` + id(9) + `","mrn":"MRN-1","payer":"commercial","number":"PA-9","codes":["J2278"],"drug":"ziconotide","amount":"30","unit":"units","from":"2026-02-01","to":"2026-04-30","status":"pending","note":"faxed"}`},
		{pumpledger.KindReview, `{"id":"` + id(7) + `","mrn":"MRN-1","refill":"` + refill2 + `","at":"2026-03-24T12:00:00-04:00","clinician":"drx","finding":"catheter patent"}`},
		{pumpledger.KindCoverage, `{"id":"` + id(10) + `","mrn":"MRN-1","payer":"commercial","member_id":"W1","priority":"secondary","from":"2026-01-01","relationship":"child",
			"subscriber":{"name":"Mary Patient","birth_date":"1940-02-03","sex":"F","address":{"line1":"1 Oak St","city":"Columbus","state":"OH","postal_code":"43215"}}}`},
	} {
		v, err := pumpledger.ParseInput(c.kind, strings.NewReader(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if _, err := db.RecordClinical(ctx, v); err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
	}
	out := export(t, db, "MRN-1", "", "")
	validate(t, out)
	rs := resources(t, out)
	var ck, findings, subscriber map[string]any
	for _, r := range rs {
		if r["resourceType"] == "RelatedPerson" {
			subscriber = r
		}
		switch s := mustJSON(t, r["code"]); {
		case strings.Contains(s, `"2157-6"`):
			ck = r
		case strings.Contains(s, "monitoring for"):
			findings = r
		}
	}
	for _, c := range []struct {
		name string
		r    map[string]any
		kind string
		want []string
	}{
		{"a drug therapy that failed", rs[id(1)], "MedicationStatement", []string{`"status":"stopped"`, `"statusReason":[{"text":"failed"}]`, `"medicationCodeableConcept":{"text":"oral opioids"}`, `"effectivePeriod":{"end":"2019-04-30","start":"2017-02-01"}`, `oxycodone: sedation`}},
		{"a therapy contraindicated, not a drug", rs[id(2)], "Procedure", []string{`"status":"not-done"`, `"statusReason":{"text":"contraindicated"}`, `"code":{"text":"spinal cord stimulator"}`, `anticoagulated`}},
		{"a therapy that is not a drug", rs[id(3)], "Procedure", []string{`"status":"completed"`, `"outcome":{"text":"failed"}`, `"performedPeriod":{"end":"2018-06-30","start":"2018-01-01"}`}},
		{"a trial that failed", rs[id(4)], "Procedure", []string{`"code":"385671000"`, `"text":"unsuccessful, 40 % pain relief"`, `"performedDateTime":"2026-02-01"`, `"usedCode":[{"text":"ziconotide"}]`, `dose as given: 5 mcg`}},
		{"a trial without its result", rs[id(5)], "Procedure", []string{`"status":"completed"`, `result not yet recorded`}},
		{"the pain score", rs[id(6)], "Observation", []string{`"code":"72514-3"`, `"valueInteger":0`, `"effectiveDateTime":"2026-03-24T10:30:00-04:00"`, `"code":"survey"`}},
		{"the monitoring findings", findings, "Observation", []string{`{"code":{"text":"cognition"},"valueString":"impaired"}`, `{"code":{"text":"psychiatric symptoms"},"valueString":"present"}`, `{"code":{"text":"adverse events"},"valueString":"dizziness"}`}},
		{"the CK", ck, "Observation", []string{`"valueQuantity":{"code":"U/L","system":"http://unitsofmeasure.org","unit":"U/L","value":123.45}`, `"code":"laboratory"`}},
		{"an approved authorization", rs[id(8)], "ClaimResponse", []string{`"status":"active"`, `"use":"preauthorization"`, `"outcome":"complete"`, `"preAuthRef":"PA-123456"`, `"preAuthPeriod":{"end":"2027-01-31","start":"2026-02-01"}`,
			`"disposition":"approved: 6000.5 mcg of ziconotide (J2278); 100 mcg used before it was recorded here; reassess by 2026-12-31"`,
			`"addItem":[{"adjudication":[{"category":{"text":"authorized"},"value":6000.5}],"productOrService":{"coding":[{"code":"J2278","system":"https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"}],"text":"ziconotide"},"quantity":{"code":"ug","system":"http://unitsofmeasure.org","unit":"mcg","value":6000.5}}]`,
			`"code":"professional"`, `"insurer":{"display":`}},
		{"a pending authorization", rs[id(9)], "ClaimResponse", []string{`"outcome":"queued"`, `"disposition":"pending: 30 units of ziconotide (J2278)"`, `"processNote":[{"text":"faxed"}]`}},
		{"a parent's coverage", rs[id(10)], "Coverage", []string{`"relationship":{"coding":[{"code":"child","system":"http://terminology.hl7.org/CodeSystem/subscriber-relationship"}]}`,
			`"subscriber":{"display":"Mary Patient","reference":"urn:uuid:`}},
		{"its subscriber", subscriber, "RelatedPerson", []string{`"name":[{"text":"Mary Patient"}]`, `"gender":"female"`, `"birthDate":"1940-02-03"`, `"city":"Columbus"`,
			`"relationship":[{"coding":[{"code":"PRN","display":"parent","system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode"}]}]`, `"patient":{"reference":"urn:uuid:`}},
		{"a review", rs[id(7)], "Observation", []string{`"valueString":"catheter patent"`, `"focus":[{"reference":"urn:uuid:` + refill2 + `"}]`}},
	} {
		if c.r == nil || c.r["resourceType"] != c.kind {
			t.Errorf("%s: not a %s: %v", c.name, c.kind, c.r)
			continue
		}
		got := mustJSON(t, c.r)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: no %s in\n%s", c.name, w, got)
			}
		}
	}
	if _, ok := rs[id(3)]["outcome"]; !ok {
		t.Error("a failed therapy has no outcome")
	}
	if _, ok := rs[id(9)]["addItem"]; ok {
		t.Error("a pending authorization authorizes an item")
	}
	if _, ok := rs[id(5)]["outcome"]; ok {
		t.Error("a trial without its result has an outcome")
	}
	// Voided without a replacement, each is retracted by its id.
	for _, v := range []int{1, 4, 6, 7, 8} {
		if _, err := db.Correct(ctx, id(v), "wrong patient", clinic.Replacement{}); err != nil {
			t.Fatal(err)
		}
	}
	after := export(t, db, "MRN-1", "", "")
	validate(t, after)
	rs2 := resources(t, after)
	for _, r := range []map[string]any{rs2[id(1)], rs2[id(4)], rs2[id(6)], rs2[id(7)], rs2[id(8)], rs2[ck["id"].(string)], rs2[findings["id"].(string)]} {
		if r == nil || r["status"] != "entered-in-error" {
			t.Errorf("voided, not entered-in-error: %v", r)
		}
	}
}

// Practitioners and the payer are resources the others refer to: one per
// name (or payer profile), the same id in every export.
func TestPractitionersAndPayer(t *testing.T) {
	t.Parallel()
	db, _ := smallLedger(t)
	out := export(t, db, "MRN-1", "", "")
	validate(t, out) // each reference's target is of a type its element allows
	rs := resources(t, out)
	named := map[string]map[string]any{}
	for _, r := range rs {
		switch r["resourceType"] {
		case "Practitioner":
			n := r["name"].([]any)[0].(map[string]any)["text"].(string)
			if named[n] != nil {
				t.Errorf("two Practitioners named %s", n)
			}
			named[n] = r
		case "Organization":
			named["payer"] = r
		}
	}
	for _, n := range []string{"jdoe", "asmith", "drx", "payer"} {
		if named[n] == nil {
			t.Fatalf("no resource for %s: %v", n, named)
		}
	}
	for _, c := range []struct {
		name, id, want string
	}{
		{"a refill's nurse", refill1, `"actor":{"display":"jdoe","reference":"urn:uuid:` + named["jdoe"]["id"].(string) + `"}`},
		{"a refill's witness", refill1, `"actor":{"display":"asmith","reference":"urn:uuid:` + named["asmith"]["id"].(string) + `"}`},
		{"a dose change's clinician", "00000000-0000-4000-8000-000000000012", `"actor":{"display":"drx","reference":"urn:uuid:` + named["drx"]["id"].(string) + `"}`},
		{"a diagnosis's clinician", dx, `"asserter":{"display":"drx","reference":"urn:uuid:` + named["drx"]["id"].(string) + `"}`},
		{"the coverage's payer", cover, `"payor":[{"display":"Commercial plan (typical policy)","reference":"urn:uuid:` + named["payer"]["id"].(string) + `"}]`},
	} {
		if got := mustJSON(t, rs[c.id]); !strings.Contains(got, c.want) {
			t.Errorf("%s: no %s in\n%s", c.name, c.want, got)
		}
	}
	if got := mustJSON(t, named["payer"]); !strings.Contains(got, `"code":"pay"`) || !strings.Contains(got, `"value":"commercial"`) {
		t.Errorf("the payer's Organization: %s", got)
	}
	if len(named) != 4 {
		t.Errorf("%d practitioners and payers, want jdoe, asmith, drx and the payer: %v", len(named), named)
	}
	if again := export(t, db, "MRN-1", "", ""); !bytes.Equal(out, again) {
		t.Error("two exports differ")
	}
}
