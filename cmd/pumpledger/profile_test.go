package main

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
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
)

// Golden bills for each payer profile (testdata/cmd/bill-profiles.*;
// `go test ./cmd/pumpledger -run Profiles -update`, read by eye): the
// same two visits — ziconotide alone (the SPEC §6 worked example's second
// refill: 150 mcg given, 50 discarded) and an admixture of ziconotide and
// morphine — billed for a patient under each profile, and under a site
// profile that wants J2277, and for a patient with no coverage (as the
// catalog bills, unchanged).
func TestBillProfilesGolden(t *testing.T) {
	clock := time.Date(2026, 4, 15, 12, 0, 0, 0, time.UTC)
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	base, err := demo.WithMorphine(catalog.DefaultJSON())
	if err != nil {
		t.Fatal(err)
	}
	// A site profile: Medicare's rules, but ziconotide billed as J2277.
	var file map[string]any
	if err := json.Unmarshal(base, &file); err != nil {
		t.Fatal(err)
	}
	payers := file["payers"].([]any)
	site := map[string]any{}
	for k, v := range payers[0].(map[string]any) {
		site[k] = v
	}
	site["id"], site["name"], site["code_overrides"] = "site-j2277", "A payer that wants J2277", map[string]string{"ziconotide": "J2277"}
	site["compounded"] = "J3490"
	file["payers"] = append(payers, site)
	content, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(bytes.NewReader(content), "site.json")
	if err != nil {
		t.Fatal(err)
	}
	db, err := clinic.Create(ctx, filepath.Join(t.TempDir(), "l.db"), ledger.Options{Now: func() time.Time { return clock }}, cat)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ok := func(_ clinic.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, payer := range []string{"medicare-part-b", "commercial", "site-j2277", ""} {
		mrn, serial := fmt.Sprintf("MRN-%d", i+1), fmt.Sprintf("S%d", i+1)
		ok(db.AddPatient(ctx, pumpledger.Patient{MRN: mrn, Name: "Test Patient"}))
		ok(db.Implant(ctx, pumpledger.Implant{MRN: mrn, Serial: serial, Model: "synchromed-ii-20", Date: "2026-01-05", Held: []string{"ziconotide", "morphine"}}))
		if payer != "" {
			v, err := pumpledger.ParseCoverage(strings.NewReader(`{"mrn":"` + mrn + `","payer":"` + payer + `","member_id":"M` + mrn[4:] + `","from":"2026-01-01"}`))
			if err != nil {
				t.Fatal(err)
			}
			ok(db.RecordClinical(ctx, v))
		}
		for j, in := range []string{
			`{"mrn":"` + mrn + `","pump_serial":"` + serial + `","performed_at":"2026-03-02T09:00:00-05:00","nurse":"jdoe","witness":"asmith",
			 "residual_ml":"4","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"7.5"}],
			 "vials":[{"ndc":"70720-720-10","count":2,"lot":"L3"}],"diluent_ml":"18.5","dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"95990"}`,
			`{"mrn":"` + mrn + `","pump_serial":"` + serial + `","performed_at":"2026-04-01T09:00:00-04:00","nurse":"jdoe","witness":"asmith",
			 "residual_ml":"10.4","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"5"},{"drug":"morphine","mcg_per_ml":"2500"}],
			 "vials":[{"ndc":"70720-720-10","count":1,"lot":"L4"},{"ndc":"99999-910-20","count":1,"lot":"M1"}],"diluent_ml":"14","dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"95990"}`,
		} {
			r, err := pumpledger.ParseRefill(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			r.ID = fmt.Sprintf("00000000-0000-4000-8000-0000000000%d%d", i+1, j+1)
			ok(db.RecordRefill(ctx, r))
		}
	}
	lines, err := db.Bill(context.Background(), "2026-03-01", "2026-04-30")
	if err != nil {
		t.Fatal(err)
	}
	var js, x12 bytes.Buffer
	if err := billing.WriteJSON(&js, lines); err != nil {
		t.Fatal(err)
	}
	if err := billing.WriteX12(&x12, lines); err != nil {
		t.Fatal(err)
	}
	golden(t, "bill-profiles.json", js.Bytes())
	golden(t, "bill-profiles.x12", x12.Bytes())

	// What the goldens must show, so a regenerated one cannot drift
	// unread: Medicare's admixture is one J7799-KD line of quantity 1
	// naming both drugs in mg or mcg, never "ug"; the commercial one is
	// per drug; the site's ziconotide is J2277 with KD; no coverage, no KD.
	want := map[string][]string{
		"MRN-1": {"J2278 [KD] 150", "J2278 [KD JW] 50", "95990 [] 1", "J7799 [KD] 1 ziconotide 100 mcg + morphine 50 mg", "95990 [] 1"},
		"MRN-2": {"J2278 [] 150", "J2278 [JW] 50", "95990 [] 1", "J2278 [JZ] 100", "J2274 [] 5", "J2274 [JW] 15", "95990 [] 1"},
		"MRN-3": {"J2277 [KD] 150", "J2277 [KD JW] 50", "95990 [] 1", "J3490 [KD] 1 ziconotide 100 mcg + morphine 50 mg", "95990 [] 1"},
		"MRN-4": {"J2278 [] 150", "J2278 [JW] 50", "95990 [] 1", "J2278 [JZ] 100", "J2274 [] 5", "J2274 [JW] 15", "95990 [] 1"},
	}
	got := map[string][]string{}
	for _, l := range lines {
		s := fmt.Sprintf("%s %v %d", l.Code, l.Modifiers, l.Units)
		if l.Narrative != "" {
			s += " " + l.Narrative
		}
		got[l.MRN] = append(got[l.MRN], s)
	}
	for mrn, w := range want {
		if fmt.Sprint(got[mrn]) != fmt.Sprint(w) {
			t.Errorf("%s billed\n%q\nwant\n%q", mrn, got[mrn], w)
		}
	}
	if strings.Contains(js.String(), "ug") && strings.Contains(js.String(), " ug") {
		t.Error(`a narrative says "ug"`)
	}
}
