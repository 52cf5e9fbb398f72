package clinic_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// wlFill is a 20 mL SynchroMed II's fill of ziconotide: naive (a 6 mL
// rinse and 5 mcg/mL from the 25 mcg/mL vial, due in 14 days) or from a
// 100 mcg/mL vial diluted to 5 mcg/mL.
func wlFill(id, mrn, serial, date string, naive bool, residual, fillML, mcgPerDay string) string {
	diluent := map[string]string{"20": "19", "5": "4.75"}[fillML]
	vials, rinse := `[{"ndc":"70720-720-10","count":1,"lot":"L2"}]`, "0"
	if naive {
		diluent, rinse, vials = "16", "6", `[{"ndc":"70720-723-10","count":1,"lot":"L1"}]`
	}
	return fmt.Sprintf(`{"id":%q,"mrn":%q,"pump_serial":%q,"performed_at":"%sT09:00:00Z","nurse":"jdoe","witness":"rn2",
		"residual_ml":%q,"rinse_ml":%q,"fill_ml":%q,"solution":[{"drug":"ziconotide","mcg_per_ml":"5"}],"vials":%s,
		"diluent_ml":%q,"dose":{"drug":"ziconotide","mcg_per_day":%q},"procedure":"95990"}`,
		id, mrn, serial, date, residual, rinse, fillML, vials, diluent, mcgPerDay)
}

const idFlagged = "00000000-0000-4000-8000-0000000000c7"

// worklistLedger: seven pumps as of 10 April 2026, each a reason to be on
// the worklist or not.
func worklistLedger(t *testing.T) (*clinic.Service, context.Context) {
	t.Helper()
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	db, err := clinic.Create(ctx, filepath.Join(t.TempDir(), "l.db"), ledger.Options{NoSync: true, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	must := func(what string, _ clinic.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	refill := func(in string) {
		t.Helper()
		v, err := pumpledger.ParseInput(pumpledger.KindRefill, strings.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		r, err := db.RecordRefill(ctx, *v.(*pumpledger.Refill))
		must(in, r, err)
	}
	pumpOf := func(mrn, serial, implanted string) {
		r, err := db.AddPatient(ctx, pumpledger.Patient{MRN: mrn, Name: "Test Patient"})
		must(mrn, r, err)
		r, err = db.Implant(ctx, pumpledger.Implant{MRN: mrn, Serial: serial, Model: "synchromed-ii-20", Date: implanted})
		must(serial, r, err)
	}
	// A: first fill of a naive pump on 1 April: due on the 15th.
	pumpOf("MRN-A", "SA", "2026-03-30")
	refill(wlFill("", "MRN-A", "SA", "2026-04-01", true, "0", "20", "1.2"))
	// B: refilled 19 January at 5 mcg/mL: the 40-day stability limit passed on 28 February.
	pumpOf("MRN-B", "SB", "2025-12-20")
	refill(wlFill("", "MRN-B", "SB", "2026-01-05", true, "0", "20", "1.2"))
	refill(wlFill("", "MRN-B", "SB", "2026-01-19", false, "16.6", "20", "1.2"))
	// C: 3 mcg/day from 15 March, 0.6 mL/day: 18 mL to the 2 mL threshold on 14 April.
	pumpOf("MRN-C", "SC", "2026-02-20")
	refill(wlFill("", "MRN-C", "SC", "2026-03-01", true, "0", "20", "1.2"))
	refill(wlFill("", "MRN-C", "SC", "2026-03-15", false, "16.6", "20", "3"))
	// D: the same from 19 March: due on 18 April, in 8 days.
	pumpOf("MRN-D", "SD", "2026-02-20")
	refill(wlFill("", "MRN-D", "SD", "2026-03-05", true, "0", "20", "1.2"))
	refill(wlFill("", "MRN-D", "SD", "2026-03-19", false, "16.6", "20", "3"))
	// E: a naive fill on 1 April, explanted on the 5th.
	pumpOf("MRN-E", "SE", "2026-03-30")
	refill(wlFill("", "MRN-E", "SE", "2026-04-01", true, "0", "20", "1.2"))
	r, err := db.Explant(ctx, pumpledger.Explant{MRN: "MRN-E", Serial: "SE", Date: "2026-04-05", Reason: "infection"})
	must("explant", r, err)
	// F: 5 mL on 15 March, nothing left by the dose change of 9 April: refill now.
	pumpOf("MRN-F", "SF", "2026-02-20")
	refill(wlFill("", "MRN-F", "SF", "2026-03-01", true, "0", "20", "1.2"))
	refill(wlFill("", "MRN-F", "SF", "2026-03-15", false, "16.6", "5", "1.2"))
	v, err := pumpledger.ParseInput(pumpledger.KindReprogram, strings.NewReader(`{"mrn":"MRN-F","pump_serial":"SF","performed_at":"2026-04-09T11:00:00Z","clinician":"drsmith","dose":{"drug":"ziconotide","mcg_per_day":"2.4"},"procedure":"62368"}`))
	if err != nil {
		t.Fatal(err)
	}
	r, err = db.RecordReprogram(ctx, *v.(*pumpledger.Reprogram))
	must("reprogram", r, err)
	// G: 10 mL aspirated on 15 March where 16.64 were expected: flagged.
	// Its refill is due on 24 April (stability), beyond the week.
	pumpOf("MRN-G", "SG", "2026-02-20")
	refill(wlFill("", "MRN-G", "SG", "2026-03-01", true, "0", "20", "1.2"))
	refill(wlFill(idFlagged, "MRN-G", "SG", "2026-03-15", false, "10", "20", "1.2"))
	return db, ctx
}

func TestWorklist(t *testing.T) {
	db, ctx := worklistLedger(t)
	all := []string{
		"stability MRN-B SB 2026-02-28 -41",
		"review MRN-G SG 2026-03-15 -26",
		"dose_change MRN-F SF 2026-04-09 -1",
		"reservoir MRN-C SC 2026-04-14 4 expected 4.325",
		"naive MRN-A SA 2026-04-15 5 expected 17.81",
		"reservoir MRN-D SD 2026-04-18 8",
	}
	for _, tc := range []struct {
		name   string
		asOf   string
		within int
		review bool // G's discrepancy reviewed first
		want   []string
	}{
		{"a week ahead", "", 7, false, all[:5]},
		{"eight days ahead: D too", "2026-04-10", 8, false, all},
		{"reviewed: G's discrepancy is off the list", "", 7, true, append(all[:1:1], all[2:5]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.review {
				v, err := pumpledger.ParseInput(pumpledger.KindReview, strings.NewReader(`{"mrn":"MRN-G","refill":"`+idFlagged+`","at":"2026-04-10T10:00:00Z","clinician":"drsmith","finding":"pocket fill ruled out"}`))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.RecordClinical(ctx, v); err != nil {
					t.Fatal(err)
				}
			}
			items, err := db.Worklist(ctx, tc.asOf, tc.within)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				s := fmt.Sprintf("%s %s %s %s %d", it.Why, it.MRN, it.Serial, it.Due, it.Days)
				if it.Overdue != (it.Days < 0) {
					t.Errorf("%s: overdue %v", s, it.Overdue)
				}
				if it.Why == clinic.DueReservoir && it.Days < 8 || it.Why == clinic.DueNaive {
					s += " expected " + it.ExpectedML.Decimal.String()
				}
				got = append(got, s)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("worklist\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	for _, tc := range []struct {
		asOf   string
		within int
		says   string
	}{
		{"10 April", 7, `as-of "10 April" is not a date; give it as YYYY-MM-DD.`},
		{"", -1, "within -1 is negative; give the number of days ahead to look, 0 for today."},
	} {
		if _, err := db.Worklist(ctx, tc.asOf, tc.within); pumpledger.ErrorCode(err) != pumpledger.EINVALID || err.Error() != tc.says {
			t.Errorf("Worklist(%q, %d) = %v, want %q", tc.asOf, tc.within, err, tc.says)
		}
	}
}
