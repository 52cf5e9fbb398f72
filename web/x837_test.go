package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
)

// GET /api/bill?format=837p is the command's 837P: refused whole (400, the
// sentence) while no claim can be filled, then the interchange, the count
// of refused claims in a header.
func TestAPIBill837P(t *testing.T) {
	f := newFixture(t, false)
	if w := f.do("POST", "/api/refill", f.login("nurse1"), []byte(refillJSON)); w.Code != http.StatusOK {
		t.Fatalf("refill: %d %s", w.Code, w.Body)
	}
	biller := f.login("biller1")
	target := "/api/bill?from=2026-03-01&to=2026-03-31&format=837p&allow_findings=1&as_of=2026-03-15"
	w := f.do("GET", target, biller, nil)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "No claim of the period can be written (1 left out, 2 lines)") {
		t.Errorf("with nothing to fill a claim: %d %s", w.Code, w.Body)
	}

	setup := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "setup", Role: pumpledger.RoleClinic})
	e, err := f.db.Entry(patientEntry(t, f))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.Patient()
	p.BirthDate, p.Sex, p.Address = "1961-04-12", "F", &pumpledger.Address{Line1: "12 Elm St", City: "Columbus", State: "OH", PostalCode: "43215"}
	for _, step := range []func() error{
		func() error {
			_, err := f.db.Correct(setup, e.ID, "demographics for claims", clinic.Replacement{Patient: &p})
			return err
		},
		func() error { _, err := f.db.RecordSite(setup, demo.Site("2026-01-01")); return err },
		func() error {
			_, err := f.db.RecordClinical(setup, pumpledger.Coverage{MRN: "MRN-1", Payer: "medicare-part-b", MemberID: "M1", Priority: "primary", From: "2026-01-01"})
			return err
		},
		func() error {
			_, err := f.db.RecordClinical(setup, pumpledger.Diagnosis{MRN: "MRN-1", Code: "G89.4", Description: "Chronic pain syndrome", Clinician: "md"})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	w = f.do("GET", target, biller, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(body, "ISA*00*") || !strings.Contains(body, "CLM*MRN-1-20260301*") || !strings.HasSuffix(body, "~\n") ||
		w.Header().Get("Content-Type") != "application/edi-x12" || w.Header().Get("X-Pumpledger-Refused-Claims") != "0" {
		t.Errorf("the 837P: %d %v\n%s", w.Code, w.Header(), body)
	}
}

// patientEntry is the id of MRN-1's registration.
func patientEntry(t *testing.T, f *fixture) string {
	t.Helper()
	items, err := f.db.History(context.Background(), "MRN-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Entry.Kind == ledger.KindPatient {
			return it.Entry.ID
		}
	}
	t.Fatal("no registration")
	return ""
}
