package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
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

	billable(t, f)
	w = f.do("GET", target, biller, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(body, "ISA*00*") || !strings.Contains(body, "CLM*MRN-1-20260301*") || !strings.HasSuffix(body, "~\n") ||
		w.Header().Get("Content-Type") != "application/edi-x12" || w.Header().Get("X-Pumpledger-Refused-Claims") != "0" {
		t.Errorf("the 837P: %d %v\n%s", w.Code, w.Header(), body)
	}
}

// billable records what MRN-1's claim needs: the patient's birth date,
// sex and address, the practice, a coverage and a diagnosis.
func billable(t *testing.T, f *fixture) {
	t.Helper()
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

// The claims sent: on the bill page for its range (the MRN escaped as
// text, whatever it holds) and at /api/submissions, the same JSON as
// `submissions --json`; a claim outside the range on neither, a bad range
// refused naming its field.
func TestClaimsSent(t *testing.T) {
	f := newFixture(t, false)
	const mrn = `<i>M&1</i>`
	sub := func(mrn, date, freq string, ic int64) pumpledger.Submission {
		claim := mrn + "-" + strings.ReplaceAll(date, "-", "")
		s := pumpledger.Submission{MRN: mrn, ClaimID: claim, DateOfService: date, Frequency: freq, Entries: []string{},
			Total: decimal.RequireFromString("130"), Interchange: ic, FileSHA256: strings.Repeat("ab", 32), TreeSize: ic}
		if freq != "1" {
			s.Original = claim
		}
		return s
	}
	setup := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "setup", Role: pumpledger.RoleClinic})
	for _, ic := range [][]pumpledger.Submission{
		{sub(mrn, "2026-03-01", "1", 10), sub("MRN-1", "2026-04-01", "1", 10)},
		{sub(mrn, "2026-03-01", "7", 20)},
	} {
		if err := f.db.RecordSubmissions(setup, ic); err != nil {
			t.Fatal(err)
		}
	}
	biller := f.login("biller1")
	w := f.do("GET", "/bill?from=2026-03-01&to=2026-03-31", biller, nil)
	page := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(page, `<h2 id="sent">Claims sent</h2>`) {
		t.Fatalf("the bill page: %d\n%s", w.Code, page)
	}
	if strings.Contains(page, mrn) || strings.Count(page, "&lt;i&gt;M&amp;1&lt;/i&gt;") != 4 { // two rows, MRN and claim id
		t.Errorf("the MRN is not escaped as text:\n%s", page)
	}
	for _, want := range []string{"1 original", "7 replacement of interchange 000000010", ">replaced<", ">current<", "by setup"} {
		if !strings.Contains(page, want) {
			t.Errorf("the claims sent lack %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "MRN-1-20260401") {
		t.Error("a claim of April is on March's page")
	}
	if w := f.do("GET", "/bill?from=2026-05-01&to=2026-05-31", biller, nil); !strings.Contains(w.Body.String(), "No claim sent for this range") {
		t.Errorf("a range with nothing sent: %s", w.Body)
	}

	w = f.do("GET", "/api/submissions?from=2026-03-01&to=2026-03-31", biller, nil)
	sent, err := f.db.Submissions(context.Background(), "2026-03-01", "2026-03-31")
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer // as the command writes JSON
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	enc.Encode(sent)
	if w.Code != http.StatusOK || w.Body.String() != want.String() || len(sent) != 2 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Errorf("/api/submissions: %d %s\nwant\n%s", w.Code, w.Body, want.String())
	}
	if strings.Contains(w.Body.String(), "<i>") {
		t.Errorf("the API's JSON carries markup unescaped: %s", w.Body)
	}
	if w := f.do("GET", "/api/submissions?from=2026-05-01&to=2026-05-31", biller, nil); w.Code != http.StatusOK || w.Body.String() != "[]\n" {
		t.Errorf("nothing sent: %d %q, want []", w.Code, w.Body)
	}
	if w := f.do("GET", "/api/submissions?from=2026-03-31&to=2026-03-01", biller, nil); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "to 2026-03-01 is before the first date, 2026-03-31; swap the two dates.") {
		t.Errorf("a range backwards: %d %s", w.Code, w.Body)
	}
	if w := f.do("GET", "/api/submissions?from=2026-03-01", biller, nil); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "to is missing") {
		t.Errorf("no to: %d %s", w.Code, w.Body)
	}
}
