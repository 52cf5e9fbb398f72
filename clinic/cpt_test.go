package clinic_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
)

// CPT by what happened, as recorded: a pump's first fill warns of nothing;
// a dose change coded 62367 and a refill coded 95990 that goes back from
// the changed dose are each recorded with the warning naming the code that
// fits (the dose in force before the refill is the change's, not the
// previous fill's).
func TestRecordedCPTMismatch(t *testing.T) {
	now := time.Date(2026, 4, 15, 12, 0, 0, 0, time.UTC)
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	db, err := clinic.Create(ctx, filepath.Join(t.TempDir(), "l.db"), ledger.Options{Now: func() time.Time { return now }}, nil)
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
	must(db.AddPatient(ctx, pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	must(db.Implant(ctx, pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}))
	refill := func(in string) clinic.Result {
		t.Helper()
		r, err := pumpledger.ParseRefill(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		return must(db.RecordRefill(ctx, r))
	}
	first := refill(`{"id":"00000000-0000-4000-8000-0000000000f1","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-01T09:00:00Z","nurse":"jdoe",
		 "residual_ml":"0","rinse_ml":"6","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"5"}],
		 "vials":[{"ndc":"70720-723-10","count":1,"lot":"L1"}],
		 "diluent_ml":"16","dose":{"drug":"ziconotide","mcg_per_day":"1.2"},"procedure":"95990"}`)
	change := must(db.RecordReprogram(ctx, pumpledger.Reprogram{ID: "00000000-0000-4000-8000-0000000000c1", MRN: "MRN-1", PumpSerial: "S1",
		PerformedAt: pumpledger.NewInstant(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)), Clinician: "drsmith",
		Dose: pumpledger.Dose{Drug: "ziconotide", MCGPerDay: decimal.RequireFromString("2.4")}, Procedure: "62367"}))
	second := refill(`{"id":"00000000-0000-4000-8000-0000000000f2","mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-31T09:00:00Z","nurse":"jdoe",
		 "residual_ml":"4.5","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"7.5"}],
		 "vials":[{"ndc":"70720-720-10","count":2,"lot":"L3"}],
		 "diluent_ml":"18.5","dose":{"drug":"ziconotide","mcg_per_day":"1.2"},"procedure":"95990"}`)
	for _, w := range first.Warnings {
		if strings.HasPrefix(w, "Procedure ") {
			t.Errorf("the first fill warns: %s", w)
		}
	}
	const (
		wantChange = "Procedure 62367 is pump analysis without reprogramming, but this visit changed the dose from 1.2 to 2.4 mcg/day of ziconotide. Bill 62368 (analysis with reprogramming), or correct the entry if the dose did not change."
		wantRefill = "Procedure 95990 is a pump refill without reprogramming, but this visit changed the dose from 2.4 to 1.2 mcg/day of ziconotide. Bill 62369 (refill with reprogramming), or correct the entry if the dose did not change."
	)
	if !slices.Contains(change.Warnings, wantChange) {
		t.Errorf("dose change warnings %q lack %q", change.Warnings, wantChange)
	}
	if !slices.Contains(second.Warnings, wantRefill) {
		t.Errorf("refill warnings %q lack %q", second.Warnings, wantRefill)
	}
	// Stored with the entries, as the nurse was shown them.
	items, err := db.History(context.Background(), "MRN-1")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string][]string{}
	for _, it := range items {
		stored[it.Entry.ID] = it.Entry.Warnings
	}
	if !slices.Contains(stored[change.Entry.ID], wantChange) || !slices.Contains(stored[second.Entry.ID], wantRefill) {
		t.Errorf("stored warnings: dose change %q, refill %q", stored[change.Entry.ID], stored[second.Entry.ID])
	}
}
