package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/x12check"
)

// Submitting from the web app is `bill --format 837p --submit`: an
// auditor may not (403, nothing recorded); the biller's page says what
// will be sent, the submit records each claim before answering the 837P
// as a download named with its control number, the checker accepts it,
// and the same range again sends nothing new, saying so.
func TestSubmitClaims(t *testing.T) {
	f := newFixture(t, false)
	if w := f.do("POST", "/api/refill", f.login("nurse1"), []byte(refillJSON)); w.Code != http.StatusOK {
		t.Fatalf("refill: %d %s", w.Code, w.Body)
	}
	billable(t, f)
	documented(t, f)
	ctx := context.Background()
	const from, to, asOf = "2026-03-01", "2026-03-31", "2026-03-15"
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	body := []byte("from=" + from + "&to=" + to + "&as_of=" + asOf)
	api := "/api/submit?from=" + from + "&to=" + to + "&as_of=" + asOf
	recorded := func() int {
		t.Helper()
		sent, err := f.db.Submissions(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return len(sent)
	}

	auditor := f.login("auditor1")
	size, _ := f.db.Size()
	if w := f.do("POST", "/bill/submit", auditor, body, form...); w.Code != http.StatusForbidden {
		t.Errorf("the auditor's submit: %d", w.Code)
	}
	if w := f.do("POST", api, auditor, nil); w.Code != http.StatusForbidden {
		t.Errorf("the auditor's /api/submit: %d", w.Code)
	}
	if n, _ := f.db.Size(); n != size || recorded() != 0 {
		t.Errorf("the auditor's submit recorded: size %d → %d, %d submissions", size, n, recorded())
	}
	if w := f.do("GET", "/bill?from="+from+"&to="+to+"&as_of="+asOf, auditor, nil); strings.Contains(w.Body.String(), "/bill/submit") {
		t.Errorf("the auditor's bill page offers to submit")
	}

	biller := f.login("biller1")
	page := f.do("GET", "/bill?from="+from+"&to="+to+"&as_of="+asOf, biller, nil).Body.String()
	if !strings.Contains(page, "Submitting now sends 1 claim in one 837P: 1 original, 0 replacement (7), 0 void (8).") || !strings.Contains(page, `action="/bill/submit"`) {
		t.Errorf("the bill page does not confirm what a submit sends:\n%s", page)
	}

	w := f.do("POST", "/bill/submit", biller, body, form...)
	file := w.Body.String()
	control := w.Header().Get("X-Pumpledger-Interchange")
	if w.Code != http.StatusOK || !strings.HasPrefix(file, "ISA*00*") || !strings.Contains(file, "CLM*MRN-1-20260301*") {
		t.Fatalf("submit: %d %v\n%s", w.Code, w.Header(), file)
	}
	var n int64
	fmt.Sscan(control, &n)
	if want := fmt.Sprintf(`attachment; filename="bill-%s-%s-%09d.837p"`, from, to, n); n == 0 || w.Header().Get("Content-Disposition") != want {
		t.Errorf("Content-Disposition %q, want %q", w.Header().Get("Content-Disposition"), want)
	}
	for _, err := range x12check.Check(file) {
		t.Errorf("the 837P submitted: %v", err)
	}
	sent, err := f.db.Submissions(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(w.Body.Bytes())
	if len(sent) != 1 || sent[0].Interchange != n || sent[0].FileSHA256 != hex.EncodeToString(sum[:]) || sent[0].RecordedBy != "biller1" || sent[0].Frequency != "1" {
		t.Errorf("the submissions recorded: %+v", sent)
	}

	// The same range again: nothing new, said plainly, nothing recorded;
	// the page says so, names the interchange just sent, and lists it.
	nothing := "Nothing new to send for 2026-03-01 to 2026-03-31: 1 claim sent before and unchanged since; nothing is written or recorded."
	if w := f.do("POST", api, biller, nil); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), nothing) {
		t.Errorf("/api/submit again: %d %s", w.Code, w.Body)
	}
	if w := f.do("POST", "/bill/submit", biller, body, form...); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), nothing) {
		t.Errorf("the page's submit again: %d %s", w.Code, w.Body)
	}
	if recorded() != 1 {
		t.Errorf("submitting again recorded: %d submissions", recorded())
	}
	page = f.do("GET", "/bill?from="+from+"&to="+to+"&as_of="+asOf+"&sent="+control, biller, nil).Body.String()
	if !strings.Contains(page, fmt.Sprintf("Interchange %09d sent: 1 claim recorded as sent", n)) || !strings.Contains(page, "Nothing new to send for this range.") ||
		strings.Contains(page, `action="/bill/submit"`) || !strings.Contains(page, "MRN-1-20260301") {
		t.Errorf("the bill page after the submit:\n%s", page)
	}
}

// documented records what Medicare's profile asks on file before MRN-1's
// refill is billed: a therapy that failed, a successful trial, a consent.
func documented(t *testing.T, f *fixture) {
	t.Helper()
	setup := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "setup", Role: pumpledger.RoleClinic})
	form := &pumpledger.Attachment{Name: "form.pdf", Content: []byte("%PDF-1.4\n% a synthetic scanned form\n%%EOF\n")}
	relief, ok := 70, true
	for _, p := range []any{
		pumpledger.Therapy{MRN: "MRN-1", Therapy: "oral opioids", From: "2020-01-01", To: "2021-01-01", Outcome: "failed"},
		pumpledger.Trial{MRN: "MRN-1", Date: "2021-02-01", Drug: "ziconotide", Route: "intrathecal bolus", Dose: "5 mcg", Clinician: "md",
			ReliefPercent: &relief, Successful: &ok, Document: form},
		pumpledger.Consent{MRN: "MRN-1", Date: "2021-03-01", Therapy: "intrathecal ziconotide by implanted pump", SignedBy: "patient", Witness: "rn", Document: form},
	} {
		if _, err := f.db.RecordClinical(setup, p); err != nil {
			t.Fatal(err)
		}
	}
}
