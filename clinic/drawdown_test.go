package clinic_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// Prior authorization drawdown, as a table: the authorizations on file when
// the SPEC §6 worked example's two refills are recorded (1 March: one 500
// mcg container, 500 units of J2278 billed with its rinse and waste; 31
// March: 150 units and 50 JW), what each draws and what is left, and the
// warning each refill is recorded with.
func TestDrawdown(t *testing.T) {
	const (
		fill1 = `{"id":"00000000-0000-4000-8000-0000000000f1","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-01T09:00:00Z","nurse":"jdoe",
		 "residual_ml":"0","rinse_ml":"6","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"5"}],
		 "vials":[{"ndc":"70720-723-10","count":1,"lot":"L1"}],
		 "diluent_ml":"16","dose":{"drug":"ziconotide","mcg_per_day":"1.2"},"procedure":"95990"}`
		fill2 = `{"id":"00000000-0000-4000-8000-0000000000f2","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-31T09:00:00Z","nurse":"jdoe",
		 "residual_ml":"6.4","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"7.5"}],
		 "vials":[{"ndc":"70720-720-10","count":2,"lot":"L3"}],
		 "diluent_ml":"18.5","dose":{"drug":"ziconotide","mcg_per_day":"1.2"},"procedure":"95990"}`
	)
	auth := func(number, amount, from, to string, extra ...string) string {
		s := `{"mrn":"MRN-1","payer":"commercial","number":"` + number + `","codes":["J2278"],"drug":"ziconotide","amount":"` + amount +
			`","unit":"mcg","from":"` + from + `","to":"` + to + `","status":"approved"`
		for i := 0; i+1 < len(extra); i += 2 {
			s += `,"` + extra[i] + `":"` + extra[i+1] + `"`
		}
		return s + "}"
	}
	type draw struct{ number, left string } // per refill, "" for none
	for _, tc := range []struct {
		name        string
		auths       []string
		draws       [2]draw
		warn1       string // a substring of a warning of the first refill, or ""
		warn2       string
		left        map[string]string // authorization → left in the chart
		notExpected string            // a warning neither refill may have
	}{
		{name: "one authorization, overdrawn by the second refill",
			auths: []string{auth("PA-1", "600", "2026-02-01", "2026-06-30")},
			draws: [2]draw{{"PA-1", "100"}, {"PA-1", "-100"}}, warn2: "draws 200 mcg of J2278 on authorization PA-1, 100 more than was left",
			left: map[string]string{"PA-1": "-100"}, notExpected: "outside the dates"},
		{name: "used before it was recorded here",
			auths: []string{auth("PA-1", "800", "2026-02-01", "2026-06-30", "used_before", "100")},
			draws: [2]draw{{"PA-1", "200"}, {"PA-1", "0"}},
			left:  map[string]string{"PA-1": "0"}, notExpected: "more than was left"},
		{name: "two in force: the one ending first is drawn, then the other",
			auths: []string{auth("PA-LATE", "1000", "2026-03-01", "2026-12-31"), auth("PA-EARLY", "1000", "2026-02-01", "2026-03-15")},
			draws: [2]draw{{"PA-EARLY", "500"}, {"PA-LATE", "800"}},
			left:  map[string]string{"PA-EARLY": "500", "PA-LATE": "800"}, notExpected: "authorization"},
		{name: "refills before it begins are outside its dates",
			auths: []string{auth("PA-1", "1000", "2026-04-01", "2026-12-31")},
			warn1: "outside the dates of every authorization for it (the last, PA-1, runs 2026-04-01 to 2026-12-31)", warn2: "outside the dates",
			left: map[string]string{"PA-1": "1000"}},
		{name: "a pending authorization is not drawn and warns of nothing",
			auths: []string{strings.Replace(auth("PA-1", "1000", "2026-02-01", "2026-12-31"), "approved", "pending", 1)},
			left:  map[string]string{"PA-1": "1000"}, notExpected: "authorization"},
		{name: "an authorization of another code is not drawn",
			auths: []string{strings.Replace(auth("PA-1", "1000", "2026-02-01", "2026-12-31"), `"J2278"`, `"J2274"`, 1)},
			left:  map[string]string{"PA-1": "1000"}, notExpected: "authorization"},
		{name: "in billing units",
			auths: []string{strings.Replace(auth("PA-1", "700", "2026-02-01", "2026-06-30"), `"mcg"`, `"units"`, 1)},
			draws: [2]draw{{"PA-1", "200"}, {"PA-1", "0"}},
			left:  map[string]string{"PA-1": "0"}, notExpected: "more than was left"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 4, 15, 12, 0, 0, 0, time.UTC)
			ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
			db, err := clinic.Create(ctx, filepath.Join(t.TempDir(), "l.db"), ledger.Options{Now: func() time.Time { return now }}, nil)
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
			ok(db.AddPatient(ctx, pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
			ok(db.Implant(ctx, pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}))
			for _, a := range tc.auths {
				v, err := pumpledger.ParseAuthorization(strings.NewReader(a))
				if err != nil {
					t.Fatalf("%s: %v", a, err)
				}
				ok(db.RecordClinical(ctx, v))
			}
			var res [2]clinic.Result
			for i, in := range []string{fill1, fill2} {
				r, err := pumpledger.ParseRefill(strings.NewReader(in))
				if err != nil {
					t.Fatal(err)
				}
				if res[i], err = db.RecordRefill(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			for i, want := range tc.draws {
				got := res[i].Authorizations
				switch {
				case want.number == "" && len(got) != 0:
					t.Errorf("refill %d draws %+v, want nothing", i+1, got)
				case want.number != "" && (len(got) != 1 || got[0].Number != want.number || got[0].Left.String() != want.left):
					t.Errorf("refill %d draws %+v, want %s leaving %s", i+1, got, want.number, want.left)
				}
			}
			for i, want := range []string{tc.warn1, tc.warn2} {
				all := strings.Join(res[i].Warnings, "\n")
				if want != "" && !strings.Contains(all, want) {
					t.Errorf("refill %d warnings %q lack %q", i+1, res[i].Warnings, want)
				}
				if tc.notExpected != "" && strings.Contains(strings.ToLower(all), tc.notExpected) {
					t.Errorf("refill %d warns %q", i+1, res[i].Warnings)
				}
			}
			c, err := db.Chart(context.Background(), "MRN-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Authorizations) != len(tc.left) {
				t.Fatalf("chart lists %d authorizations, want %d", len(c.Authorizations), len(tc.left))
			}
			for _, a := range c.Authorizations {
				if a.Left.String() != tc.left[a.Number] {
					t.Errorf("chart: %s left %s, want %s", a.Number, a.Left, tc.left[a.Number])
				}
			}
		})
	}
}
