package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// The chart of a patient with a whole clinical record, and of one with
// none, as text and JSON: golden files testdata/cmd/chart-*.golden
// (`go test ./cmd/pumpledger -run Chart -update`; read the diff by eye).
// The ledger is written through the use cases with a fixed clock, so that
// every date, day count and id is the same on every run.
func TestChartGolden(t *testing.T) {
	clock := time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "l.db")
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	db, err := clinic.Create(ctx, path, ledger.Options{Now: func() time.Time { return clock }}, catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	must := func(res clinic.Result, err error) clinic.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	parse := func(k pumpledger.Kind, in string) any {
		t.Helper()
		v, err := pumpledger.ParseInput(k, strings.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return v
	}
	must(db.AddPatient(ctx, pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient", BirthDate: "1961-04-12", Sex: "F",
		Address: &pumpledger.Address{Line1: "12 Elm St", City: "Columbus", State: "OH", PostalCode: "43215"}}))
	must(db.AddPatient(ctx, pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"}))
	must(db.Implant(ctx, pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}))
	for k, in := range map[pumpledger.Kind]string{
		pumpledger.KindDiagnosis:     `{"id":"00000000-0000-4000-8000-000000000001","mrn":"MRN-1","code":"G89.4","description":"Chronic pain syndrome","onset":"2019-05-01","clinician":"drx"}`,
		pumpledger.KindCoverage:      `{"id":"00000000-0000-4000-8000-000000000002","mrn":"MRN-1","payer":"commercial","member_id":"XJH123456","plan":"PPO","from":"2026-01-01"}`,
		pumpledger.KindAuthorization: `{"id":"00000000-0000-4000-8000-000000000003","mrn":"MRN-1","payer":"commercial","number":"PA-778812","codes":["J2278"],"drug":"ziconotide","amount":"600","unit":"mcg","from":"2026-02-15","to":"2026-05-31","reassess_by":"2026-05-15","status":"approved"}`,
		pumpledger.KindTherapy:       `{"id":"00000000-0000-4000-8000-000000000004","mrn":"MRN-1","therapy":"oral opioids","from":"2023-01-10","to":"2024-06-30","outcome":"failed","details":"Morphine ER to 120 mg/day: relief under 30 %."}`,
		pumpledger.KindTrial:         `{"id":"00000000-0000-4000-8000-000000000005","mrn":"MRN-1","date":"2026-01-20","drug":"ziconotide","route":"intrathecal bolus","dose":"5 mcg","relief_percent":60,"function":"walks 20 minutes","successful":true}`,
	} {
		must(db.RecordClinical(ctx, parse(k, in)))
	}
	consent := parse(pumpledger.KindConsent, `{"id":"00000000-0000-4000-8000-000000000006","mrn":"MRN-1","date":"2026-01-15","signed_by":"patient","witness":"rn-kim","document":"consent.pdf"}`)
	pumpledger.AttachmentsOf(consent)[0].Content = []byte("%PDF-1.4\n% a signed consent form\n%%EOF\n")
	must(db.RecordClinical(ctx, consent))
	// A second diagnosis, voided: the chart shows only the live one.
	must(db.RecordClinical(ctx, parse(pumpledger.KindDiagnosis, `{"id":"00000000-0000-4000-8000-000000000007","mrn":"MRN-1","code":"R52","description":"Pain, unspecified","clinician":"drx"}`)))
	must(db.Correct(ctx, "00000000-0000-4000-8000-000000000007", "entered for the wrong patient", clinic.Replacement{}))

	r1, err := pumpledger.ParseRefill(strings.NewReader(fill1))
	if err != nil {
		t.Fatal(err)
	}
	r1.ID = "00000000-0000-4000-8000-000000000011"
	must(db.RecordRefill(ctx, r1))
	rp, err := pumpledger.ParseReprogram(strings.NewReader(change1))
	if err != nil {
		t.Fatal(err)
	}
	rp.ID = "00000000-0000-4000-8000-000000000012"
	must(db.RecordReprogram(ctx, rp))
	r2, err := pumpledger.ParseRefill(strings.NewReader(fill2))
	if err != nil {
		t.Fatal(err)
	}
	res := must(db.RecordRefill(ctx, r2))
	// 500 mcg of the 600 drawn by the first fill (its 500 mcg container,
	// rinse and waste included), 150 + 50 JW by the second: 100 over,
	// recorded with a warning.
	if len(res.Authorizations) != 1 || res.Authorizations[0].Left.String() != "-100" {
		t.Errorf("the second refill's draw: %+v", res.Authorizations)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "100 more than was left") {
		t.Errorf("no overdraw warning: %q", res.Warnings)
	}
	must(db.RecordClinical(ctx, parse(pumpledger.KindAssessment, `{"id":"00000000-0000-4000-8000-000000000008","mrn":"MRN-1","at":"2026-03-01T09:40:00-05:00","clinician":"drx","pain_score":4,"cognition":"normal","psychiatric":"none","ck_u_l":"140"}`)))

	cat, err := db.Catalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, mrn := range []string{"MRN-1", "MRN-2"} {
		c, err := db.Chart(context.Background(), mrn)
		if err != nil {
			t.Fatal(err)
		}
		var text, js bytes.Buffer
		printChart(&text, c, cat)
		if err := writeJSON(&js, c); err != nil {
			t.Fatal(err)
		}
		golden(t, "chart-"+mrn+".golden", text.Bytes())
		golden(t, "chart-"+mrn+".json.golden", js.Bytes())
	}
}
