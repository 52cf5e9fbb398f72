package clinic_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// Patients gives each MRN's registration as it stands: a corrected name is
// the replacement's (corrected twice, the last), and an MRN not registered
// or whose registration was voided outright is left out.
func TestPatients(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "clerk", Role: pumpledger.RoleClinic})
	db, err := clinic.Create(ctx, filepath.Join(t.TempDir(), "l.db"), ledger.Options{NoSync: true, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	add := func(mrn, name string) string {
		t.Helper()
		r, err := db.AddPatient(ctx, pumpledger.Patient{MRN: mrn, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return r.Entry.ID
	}
	correct := func(id string, p *pumpledger.Patient) string {
		t.Helper()
		r, err := db.Correct(ctx, id, "name misspelt", clinic.Replacement{Patient: p})
		if err != nil {
			t.Fatal(err)
		}
		if r.Replacement == nil {
			return ""
		}
		return r.Replacement.ID
	}
	add("MRN-1", "Ann Lee")
	id := add("MRN-2", "Jon Smiht")
	correct(id, &pumpledger.Patient{MRN: "MRN-2", Name: "Jon Smith"})
	id = add("MRN-3", "Kay Doe")
	id = correct(id, &pumpledger.Patient{MRN: "MRN-3", Name: "Kay Dow"})
	correct(id, &pumpledger.Patient{MRN: "MRN-3", Name: "Kay Dowe"})
	correct(add("MRN-4", "Wrong Patient"), nil)

	got, err := db.Patients(ctx, []string{"MRN-1", "MRN-2", "MRN-3", "MRN-4", "MRN-9", "MRN-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mrn, name string // "": left out
	}{
		{"MRN-1", "Ann Lee"},   // registered
		{"MRN-2", "Jon Smith"}, // corrected: the replacement's name
		{"MRN-3", "Kay Dowe"},  // corrected twice: the last replacement's
		{"MRN-4", ""},          // voided without a replacement
		{"MRN-9", ""},          // never registered
	} {
		p, ok := got[tc.mrn]
		if ok != (tc.name != "") || p.Name != tc.name || ok && p.MRN != tc.mrn {
			t.Errorf("%s: %+v (found %v), want name %q", tc.mrn, p, ok, tc.name)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d patients, want 3: %+v", len(got), got)
	}
}
