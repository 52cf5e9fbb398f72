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

// A second refill of one pump on one day is said (most often the first
// recorded again), never refused; a refill on another day says nothing of
// it, and the preview says it as the save does.
func TestSecondRefillSameDayWarns(t *testing.T) {
	now := time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC)
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	db, err := clinic.Create(ctx, filepath.Join(t.TempDir(), "l.db"), ledger.Options{NoSync: true, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddPatient(ctx, pumpledger.Patient{MRN: "MRN-A", Name: "Test Patient"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Implant(ctx, pumpledger.Implant{MRN: "MRN-A", Serial: "SA", Model: "synchromed-ii-20", Date: "2026-03-30"}); err != nil {
		t.Fatal(err)
	}
	record := func(c context.Context, in string) clinic.Result {
		t.Helper()
		v, err := pumpledger.ParseInput(pumpledger.KindRefill, strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.RecordRefill(c, *v.(*pumpledger.Refill))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		return res
	}
	first := record(ctx, wlFill("", "MRN-A", "SA", "2026-04-01", true, "0", "20", "1.2"))
	again := func(w []string) bool {
		for _, s := range w {
			if strings.Contains(s, "already recorded on 2026-04-01") && strings.Contains(s, first.Entry.ID) {
				return true
			}
		}
		return false
	}
	for _, tt := range []struct {
		name, date, at string
		preview, want  bool
	}{
		{"the same day, previewed", "2026-04-01", "T15:00:00Z", true, true},
		{"the same day, saved", "2026-04-01", "T15:00:00Z", false, true},
		{"another day", "2026-04-15", "T09:00:00Z", false, false},
	} {
		c := ctx
		if tt.preview {
			c = clinic.Preview(ctx)
		}
		in := strings.Replace(wlFill("", "MRN-A", "SA", tt.date, false, "19.4", "20", "1.2"), "T09:00:00Z", tt.at, 1)
		if res := record(c, in); again(res.Warnings) != tt.want {
			t.Errorf("%s: warnings %q, want the first refill named: %v", tt.name, res.Warnings, tt.want)
		}
	}
}
