package clinic_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/internal/x12check"
	"github.com/pumpledger/pumpledger/x12"
)

// practice is a site whose fees price March 2026's refill and its drug.
const practice = `{"name":"Riverside Pain Associates","npi":"1234567893","tax_id":"12-3456789","taxonomy":"208VP0014X",
	"address":{"line1":"100 Main St","city":"Columbus","state":"OH","postal_code":"43215-1001"},
	"submitter_id":"RIVERSIDE01","contact":"Billing Office","phone":"614-555-0100","receiver_id":"CLEARHOUSE","receiver_name":"Example Clearinghouse",
	"payers":{"medicare-part-b":{"id":"15202","name":"CGS Medicare B"},"commercial":{"id":"87726","name":"Example Health"}},
	"fees":{"effective":"2026-01-01","charges":{"95990":"180.00","J2278":"9.50"}}}`

const registered = `{"mrn":"MRN-1","name":"Doe, Jane","birth_date":"1961-04-12","sex":"F",
	"address":{"line1":"12 Elm St","city":"Columbus","state":"OH","postal_code":"43215"}}`

// Each claim of the 837P is filled from the ledger or refused with what
// it lacks; a filled one passes the X222A1 check.
func TestInterchange(t *testing.T) {
	for _, tt := range []struct {
		name    string
		scene   *scene
		site    string // "" none recorded
		missing []string
		want    []string // segments the interchange holds
		// secondary are fields added to the secondary coverage.
		secondary string
	}{
		{name: "a complete Medicare record", scene: complete("medicare-part-b"), site: practice,
			want: []string{"SBR*P*18*******MB~", "NM1*IL*1*Doe*Jane****MI*M1~", "DMG*D8*19610412*F~", "NM1*PR*2*CGS Medicare B*****PI*15202~",
				"CLM*MRN-001-20260302*1130***11:B:1*Y*A*Y*Y~", "HI*ABK:G894~", "SV1*HC:J2278:KD:JZ*950*UN*100***1~", "SV1*HC:95990*180*UN*1***1~",
				"LIN**N4*70720072010~", "DTP*472*D8*20260302~"}},
		{name: "a commercial record carries its authorization", scene: complete("commercial"), site: practice,
			want: []string{"SBR*P*18*******CI~", "REF*G1*PA-1~", "SV1*HC:J2278:JZ*950*UN*100***1~"}},
		{name: "a secondary coverage: the other payer's loops", scene: withSecondary(complete("medicare-part-b"), "commercial"), site: practice,
			want: []string{"SBR*P*18*******MB~", "HI*ABK:G894~\nSBR*S*18*******CI~\nOI***Y***Y~\nNM1*IL*1*Doe*Jane****MI*S2~\nN3*12 Elm St~\nN4*Columbus*OH*43215~\nNM1*PR*2*Example Health*****PI*87726~\nLX*1~"}},
		{name: "a secondary coverage ended before the visit: none", scene: withSecondary(complete("medicare-part-b"), "commercial", "2026-03-01"), site: practice,
			want: []string{"HI*ABK:G894~\nLX*1~"}},
		{name: "a secondary payer the practice has no id for", scene: withSecondary(complete("medicare-part-b"), "commercial"),
			site:    strings.Replace(practice, `,"commercial":{"id":"87726","name":"Example Health"}`, "", 1),
			missing: []string{"the payer id of profile commercial, the secondary coverage's, in the practice's payers (pumpledger site set)"}},
		{name: "a spouse's plan: the patient's level under the subscriber", scene: dependent(complete("commercial"), `"name":"Doe, John","birth_date":"1959-08-30","sex":"M"`), site: practice,
			want: []string{"HL*2*1*22*1~\nSBR*P********CI~\nNM1*IL*1*Doe*John****MI*M1~\nNM1*PR*2*Example Health*****PI*87726~\nHL*3*2*23*0~\nPAT*01~\nNM1*QC*1*Doe*Jane~\nN3*12 Elm St~\nN4*Columbus*OH*43215~\nDMG*D8*19610412*F~\nCLM*MRN-001-20260302*1130***11:B:1*Y*A*Y*Y~"}},
		{name: "a secondary plan of a spouse's: its subscriber in 2330A", scene: withSecondary(complete("medicare-part-b"), "commercial"), site: practice,
			secondary: `"relationship":"spouse","subscriber":{"name":"Doe, John","address":{"line1":"9 Oak St","city":"Columbus","state":"OH","postal_code":"43215"}}`,
			want:      []string{"SBR*P*18*******MB~", "SBR*S*01*******CI~\nOI***Y***Y~\nNM1*IL*1*Doe*John****MI*S2~\nN3*9 Oak St~\nN4*Columbus*OH*43215~\nNM1*PR*2*Example Health*****PI*87726~"}},
		{name: "a subscriber's name a claim cannot carry", scene: dependent(complete("commercial"), `"name":"Doe* John"`), site: practice,
			missing: []string{"a subscriber's name a claim can carry (plain letters, without * : ~ ^: correct the coverage)"}},
		{name: "no practice recorded", scene: complete("medicare-part-b"),
			missing: []string{"a practice whose fee schedule is in force on 2026-03-02 (pumpledger site set)"}},
		{name: "fees effective after the visit", scene: complete("medicare-part-b"),
			site:    strings.Replace(practice, "2026-01-01", "2026-03-03", 1),
			missing: []string{"a practice whose fee schedule is in force on 2026-03-02 (pumpledger site set)"}},
		{name: "no coverage", scene: complete("medicare-part-b").set(pumpledger.KindCoverage, ""), site: practice,
			missing: []string{"coverage in force on 2026-03-02 (pumpledger coverage add)"}},
		{name: "no diagnosis", scene: complete("medicare-part-b").set(pumpledger.KindDiagnosis, ""), site: practice,
			missing: []string{"a diagnosis on file by 2026-03-02 (pumpledger diagnosis add)"}},
		{name: "a payer the practice has no id for", scene: complete("medicare-part-b"),
			site:    strings.Replace(practice, `"medicare-part-b":{"id":"15202","name":"CGS Medicare B"},`, "", 1),
			missing: []string{"the payer id of profile medicare-part-b in the practice's payers (pumpledger site set)"}},
		{name: "a code without a charge", scene: complete("medicare-part-b"),
			site:    strings.Replace(practice, `"J2278":"9.50"`, `"J2274":"4.20"`, 1),
			missing: []string{"a charge for J2278 in the fee schedule effective 2026-01-01"}},
		{name: "a patient registered without demographics", scene: func() *scene { s := complete("medicare-part-b"); s.patient = ""; return s }(), site: practice,
			missing: []string{"the patient's birth date, sex and address (correct the registration with them)"}},
		{name: "no coverage and no diagnosis: both said", scene: complete("medicare-part-b").set(pumpledger.KindCoverage, "").set(pumpledger.KindDiagnosis, ""), site: practice,
			missing: []string{"coverage in force on 2026-03-02 (pumpledger coverage add)", "a diagnosis on file by 2026-03-02 (pumpledger diagnosis add)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.scene.patient == "" && !strings.Contains(tt.name, "without demographics") {
				tt.scene.patient = registered
			}
			if tt.secondary != "" {
				c := &tt.scene.clinical[len(tt.scene.clinical)-1]
				c.json = strings.Replace(c.json, `"priority":"secondary"`, `"priority":"secondary",`+tt.secondary, 1)
			}
			db := newLedger(t, catalog.Default())
			tt.scene.record(t, db, 1)
			if tt.site != "" {
				s, err := pumpledger.ParseSite(strings.NewReader(tt.site))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.RecordSite(clerk(), s); err != nil {
					t.Fatal(err)
				}
			}
			lines, err := db.Bill(context.Background(), "2026-03-01", "2026-03-31")
			if err != nil {
				t.Fatal(err)
			}
			ic, refused, err := db.Interchange(context.Background(), "2026-03-01", "2026-03-31", lines, "2026-04-15")
			if err != nil {
				t.Fatal(err)
			}
			if tt.missing != nil {
				if len(refused) != 1 || len(ic.Claims) != 0 || strings.Join(refused[0].Missing, "|") != strings.Join(tt.missing, "|") {
					t.Fatalf("refused %+v, filled %d; want one refused for %q", refused, len(ic.Claims), tt.missing)
				}
				return
			}
			if len(refused) != 0 || len(ic.Claims) != 1 {
				t.Fatalf("refused %+v, filled %d; want one claim filled", refused, len(ic.Claims))
			}
			var out strings.Builder
			if err := x12.Write(&out, ic); err != nil {
				t.Fatal(err)
			}
			for _, e := range x12check.Check(out.String()) {
				t.Error(e)
			}
			for _, seg := range tt.want {
				if !strings.Contains(out.String(), seg+"\n") {
					t.Errorf("the interchange lacks %s:\n%s", seg, out.String())
				}
			}
		})
	}
}

// dependent makes s's primary coverage a spouse's, whose subscriber is
// the object of the fields given.
func dependent(s *scene, subscriber string) *scene {
	for i, c := range s.clinical {
		if c.kind == pumpledger.KindCoverage {
			s.clinical[i].json = strings.Replace(c.json, `"member_id":"M1"`, `"member_id":"M1","relationship":"spouse","subscriber":{`+subscriber+`}`, 1)
		}
	}
	return s
}

// withSecondary adds a secondary coverage of payer to s, member id S2,
// from 2026-01-01 to the date given, if any.
func withSecondary(s *scene, payer string, to ...string) *scene {
	c := strings.Replace(coverage(payer, "2026-01-01", strings.Join(to, "")), `"member_id":"M1"`, `"member_id":"S2","priority":"secondary"`, 1)
	s.clinical = append(s.clinical, rec{pumpledger.KindCoverage, c})
	return s
}

// A site's payers must be profiles of the catalog.
func TestRecordSiteRefusesAnUnknownPayer(t *testing.T) {
	db := newLedger(t, catalog.Default())
	s, err := pumpledger.ParseSite(strings.NewReader(strings.Replace(practice, `"commercial":`, `"blue-cross":`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.RecordSite(clerk(), s)
	if want := "payers.blue-cross is not a payer profile of the catalog in force on 2026-01-01; name the profile as `pumpledger catalog` lists it."; pumpledger.ErrorMessage(err) != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if n, _ := db.Size(); n != 1 {
		t.Errorf("the ledger holds %d entries, want the catalog alone", n)
	}
}

func clerk() context.Context {
	return pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
}

// Claim history: a claim sent is not sent again unchanged; after its
// refill is corrected it is sent as a replacement (7), and after the
// replacement is voided with nothing in its place as a void (8), each
// naming the original (REF*F8); history holds every one.
func TestClaimHistory(t *testing.T) {
	db := newLedger(t, catalog.Default())
	s := complete("medicare-part-b")
	s.patient = registered
	s.record(t, db, 1)
	site, err := pumpledger.ParseSite(strings.NewReader(practice))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordSite(clerk(), site); err != nil {
		t.Fatal(err)
	}
	export := func(submit bool) (string, []clinic.Refusal, error) {
		t.Helper()
		lines, err := db.Bill(context.Background(), "2026-03-01", "2026-03-31")
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		refused, err := clinic.WriteBill(clerk(), db, &out, "837p", "2026-03-01", "2026-03-31", lines, "2026-04-15", submit)
		for _, e := range x12check.Check(out.String()) {
			if err == nil {
				t.Error(e)
			}
		}
		return out.String(), refused, err
	}
	const claim = "CLM*MRN-001-20260302*"
	out, _, err := export(true)
	if err != nil || !strings.Contains(out, claim+"1130***11:B:1*") || strings.Contains(out, "REF*F8") {
		t.Fatalf("the first export: %v\n%s", err, out)
	}

	// Sent, unchanged: not sent again, and nothing to write.
	out, refused, err := export(false)
	if err == nil || out != "" || len(refused) != 1 || refused[0].Sent == nil || refused[0].Sent.Frequency != "1" {
		t.Fatalf("an unchanged claim: %v, refused %+v\n%s", err, refused, out)
	}

	// The refill corrected (its witness added): a replacement.
	r := *parseRefill(t, as(1).in(strings.Replace(fillClean.json(), idR1, "00000000-0000-4000-8000-0000000000c1", 1)))
	r.Witness = "rn2"
	if _, err := db.Correct(clerk(), as(1).in(idR1), "witness left out", clinic.Replacement{Refill: &r}); err != nil {
		t.Fatal(err)
	}
	out, _, err = export(true)
	if err != nil || !strings.Contains(out, claim+"1130***11:B:7*") || !strings.Contains(out, "REF*F8*MRN-001-20260302~") {
		t.Fatalf("after a correction: %v\n%s", err, out)
	}

	// The replacement voided, nothing in its place: a void of the lines sent.
	if _, err := db.Correct(clerk(), r.ID, "entered on the wrong patient", clinic.Replacement{}); err != nil {
		t.Fatal(err)
	}
	out, _, err = export(true)
	if err != nil || !strings.Contains(out, claim+"1130***11:B:8*") || !strings.Contains(out, "REF*F8*MRN-001-20260302~") || !strings.Contains(out, "SV1*HC:J2278:KD:JZ*950*UN*100***1~") {
		t.Fatalf("after a void: %v\n%s", err, out)
	}
	_, _, err = export(false)
	if err == nil {
		t.Error("a void sent is sent again")
	}

	items, err := db.History(context.Background(), "MRN-001")
	if err != nil {
		t.Fatal(err)
	}
	var freqs []string
	for _, it := range items {
		if it.Entry.Kind == pumpledger.KindSubmission {
			var s pumpledger.Submission
			if err := it.Entry.DecodePayload(&s); err != nil {
				t.Fatal(err)
			}
			freqs = append(freqs, s.Frequency+":"+s.Original+":"+strings.Join(s.Entries, ","))
		}
	}
	want := []string{"1::" + as(1).in(idR1), "7:MRN-001-20260302:" + r.ID, "8:MRN-001-20260302:" + r.ID}
	if strings.Join(freqs, " ") != strings.Join(want, " ") {
		t.Errorf("history's submissions %v, want %v", freqs, want)
	}
	// The period's claims sent: the original replaced, the replacement
	// voided, the void standing.
	sent, err := db.Submissions(context.Background(), "2026-03-01", "2026-03-31")
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, c := range sent {
		states = append(states, c.Frequency+":"+c.State)
	}
	if got := strings.Join(states, " "); got != "1:replaced 7:voided 8:current" {
		t.Errorf("the claims sent: %s, want the original replaced, the replacement voided, the void current", got)
	}
}

func parseRefill(t *testing.T, in string) *pumpledger.Refill {
	t.Helper()
	v, err := pumpledger.ParseInput(pumpledger.KindRefill, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*pumpledger.Refill)
}

// A replacement or void goes to the payer the claim was sent to, with the
// member id sent, though the coverage on file names another since; a
// submission recorded before payers were falls back to the coverage in
// force on the date of service.
func TestCorrectionGoesToTheOriginalPayer(t *testing.T) {
	for _, tt := range []struct {
		name     string
		coverage string // the primary coverage added after the original was sent
		void     bool   // the refill voided with nothing in its place, else corrected
		unpaid   bool   // the original recorded without its payer, as before
		spouse   bool   // the original sent under a spouse's coverage
		want     []string
	}{
		{name: "sent under a spouse's coverage: the replacement names the same subscriber", coverage: strings.Replace(coverage("medicare-part-b", "2026-02-01", ""), `"M1"`, `"M2"`, 1), spouse: true,
			want: []string{"CLM*MRN-001-20260302*1130***11:B:7*Y*A*Y*Y~", "NM1*IL*1*Doe*John****MI*M1~", "PAT*01~", "NM1*QC*1*Doe*Jane~"}},
		{name: "the payer changed, a void", coverage: coverage("commercial", "2026-02-01", ""), void: true,
			want: []string{"CLM*MRN-001-20260302*1130***11:B:8*Y*A*Y*Y~", "SBR*P*18*******MB~", "NM1*IL*1*Doe*Jane****MI*M1~", "NM1*PR*2*CGS Medicare B*****PI*15202~"}},
		{name: "the member id changed, a replacement", coverage: strings.Replace(coverage("medicare-part-b", "2026-02-01", ""), `"M1"`, `"M2"`, 1),
			want: []string{"CLM*MRN-001-20260302*1130***11:B:7*Y*A*Y*Y~", "NM1*IL*1*Doe*Jane****MI*M1~", "NM1*PR*2*CGS Medicare B*****PI*15202~"}},
		{name: "recorded without its payer: the coverage in force", coverage: coverage("commercial", "2026-02-01", ""), void: true, unpaid: true,
			want: []string{"CLM*MRN-001-20260302*1130***11:B:8*Y*A*Y*Y~", "SBR*P*18*******CI~", "NM1*PR*2*Example Health*****PI*87726~"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := newLedger(t, catalog.Default())
			s := complete("medicare-part-b")
			if tt.spouse {
				s = dependent(s, `"name":"Doe, John"`)
			}
			s.patient = registered
			s.record(t, db, 1)
			site, err := pumpledger.ParseSite(strings.NewReader(practice))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.RecordSite(clerk(), site); err != nil {
				t.Fatal(err)
			}
			lines, err := db.Bill(context.Background(), "2026-03-01", "2026-03-31")
			if err != nil {
				t.Fatal(err)
			}
			ic, _, err := db.Interchange(context.Background(), "2026-03-01", "2026-03-31", lines, "2026-04-15")
			if err != nil || len(ic.Claims) != 1 {
				t.Fatalf("the original: %v, %d claims", err, len(ic.Claims))
			}
			subs := clinic.Submissions(ic, strings.Repeat("0", 64), 1)
			if tt.unpaid {
				subs[0].Payer = nil
			}
			if err := db.RecordSubmissions(clerk(), subs); err != nil {
				t.Fatal(err)
			}

			v, err := pumpledger.ParseInput(pumpledger.KindCoverage, strings.NewReader(as(1).in(tt.coverage)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.RecordClinical(clerk(), v); err != nil {
				t.Fatal(err)
			}
			var repl clinic.Replacement
			if !tt.void {
				r := *parseRefill(t, as(1).in(strings.Replace(fillClean.json(), idR1, "00000000-0000-4000-8000-0000000000c1", 1)))
				r.Witness = "rn2"
				repl.Refill = &r
			}
			if _, err := db.Correct(clerk(), as(1).in(idR1), "corrected", repl); err != nil {
				t.Fatal(err)
			}

			if lines, err = db.Bill(context.Background(), "2026-03-01", "2026-03-31"); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if _, err := clinic.WriteBill(clerk(), db, &out, "837p", "2026-03-01", "2026-03-31", lines, "2026-04-15", false); err != nil {
				t.Fatal(err)
			}
			for _, e := range x12check.Check(out.String()) {
				t.Error(e)
			}
			for _, seg := range tt.want {
				if !strings.Contains(out.String(), seg+"\n") {
					t.Errorf("the interchange lacks %s:\n%s", seg, out.String())
				}
			}
		})
	}
}
