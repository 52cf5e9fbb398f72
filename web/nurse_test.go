package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
)

// The refill form's save: the nurse is the signed-in user whatever the
// form says; a witness signs with their own password, is another person
// and a recorder; every warning the refill raises is acknowledged, or 409
// lists those missing and nothing is written.
func TestRefillSaveRules(t *testing.T) {
	f := newFixture(t, false)
	setup := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "nurse1", Role: pumpledger.RoleNurse})
	first := mustRefill(t)
	if _, err := f.db.RecordRefill(setup, first); err != nil {
		t.Fatal(err)
	}
	f.clock.add(10 * 24 * time.Hour)
	nurse := f.login("nurse1")
	// 15 mL aspirated where 17.6 are expected: a discrepancy warning.
	second := strings.NewReplacer(`"00000000-0000-4000-8000-000000000001"`, `"00000000-0000-4000-8000-000000000002"`,
		`"2026-03-01T09:00:00Z"`, `"2026-03-11T09:00:00Z"`, `"residual_ml": "0"`, `"residual_ml": "15"`,
		`"nurse": "jdoe", "witness": "asmith",`, `"nurse": "someone else",`).Replace(refillJSON)
	body := func(refill, witness, pw string, acks []string) []byte {
		var m map[string]any
		if err := json.Unmarshal([]byte(refill), &m); err != nil {
			t.Fatal(err)
		}
		if acks != nil {
			m["acknowledged"] = acks
		}
		b, _ := json.Marshal(map[string]any{"refill": m, "witness": map[string]string{"name": witness, "password": pw}})
		return b
	}
	size := func() int64 { n, _ := f.db.Size(); return n }
	n0 := size()
	type errAnswer struct {
		Error    struct{ Code, Field, Message string }
		Warnings []string
	}
	read := func(w interface{ Result() *http.Response }, v any) {
		json.NewDecoder(w.Result().Body).Decode(v)
	}
	tests := []struct {
		name, witness, pw string
		acks              []string
		status            int
		field             string
	}{
		{"witness is the nurse", "nurse1", password, nil, 400, "witness"},
		{"witness with a wrong password", "clinician1", "wrong", nil, 400, "witness"},
		{"witness of another role", "biller1", password, nil, 400, "witness"},
		{"warnings not acknowledged", "clinician1", password, nil, 409, "acknowledged"},
		{"one warning acknowledged of several", "clinician1", password, []string{"something else"}, 409, "acknowledged"},
	}
	for _, tt := range tests {
		w := f.do("POST", "/refill", nurse, body(second, tt.witness, tt.pw, tt.acks))
		var a errAnswer
		read(w, &a)
		if w.Code != tt.status || a.Error.Field != tt.field {
			t.Errorf("%s: %d field %q (%s), want %d field %q", tt.name, w.Code, a.Error.Field, a.Error.Message, tt.status, tt.field)
		}
		if tt.status == 409 && len(a.Warnings) == 0 {
			t.Errorf("%s: 409 without the warnings to acknowledge", tt.name)
		}
		if size() != n0 {
			t.Fatalf("%s: wrote an entry", tt.name)
		}
	}
	// Acknowledge what the server asked for: saved.
	w := f.do("POST", "/refill", nurse, body(second, "clinician1", password, nil))
	var a errAnswer
	read(w, &a)
	w = f.do("POST", "/refill", nurse, body(second, "clinician1", password, a.Warnings))
	if w.Code != http.StatusOK {
		t.Fatalf("with every warning acknowledged: %d %s", w.Code, w.Body)
	}
	var ok struct{ ID, Record string }
	read(w, &ok)
	e, err := f.db.Entry(ok.ID)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.Refill()
	if e.RecordedBy != "nurse1" || r.Nurse != "nurse1" || r.Witness != "clinician1" || !r.WitnessSigned || len(r.Acknowledged) != len(e.Warnings) {
		t.Errorf("recorded by %s, nurse %s, witness %s signed %v, %d acks of %d warnings", e.RecordedBy, r.Nurse, r.Witness, r.WitnessSigned, len(r.Acknowledged), len(e.Warnings))
	}
	if ok.Record != "/refill/record?id="+ok.ID {
		t.Errorf("record page %q", ok.Record)
	}
	if w := f.do("GET", ok.Record, nurse, nil); w.Code != 200 || !strings.Contains(w.Body.String(), "signed in with their own account") {
		t.Errorf("the record page: %d", w.Code)
	}
}

// After sign-in the browser goes back where it was sent from, on this
// server only: never to another host (an open redirect would lend the
// clinic's address to a phishing page).
func TestLocalNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "/",
		"/worklist":             "/worklist",
		"/patient?mrn=MRN-1":    "/patient?mrn=MRN-1",
		"//evil.example/x":      "/",
		"https://evil.example/": "/",
		"/\\evil.example":       "/",
		"javascript:alert(1)":   "/",
		"worklist":              "/",
	} {
		if got := localNext(in); got != want {
			t.Errorf("localNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// The witness's password is throttled as a sign-in is, and the refusal
// is shown beside the witness's fields, where the form shows the
// witness's other refusals, not at the foot of the form.
func TestWitnessThrottledBesideItsField(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.Replace(refillJSON, `"witness": "asmith",`, "", 1)), &m); err != nil {
		t.Fatal(err)
	}
	body := func(pw string) []byte {
		b, _ := json.Marshal(map[string]any{"refill": m, "witness": map[string]string{"name": "clinician1", "password": pw}})
		return b
	}
	for range freeTries + 1 {
		f.do("POST", "/refill", nurse, body("wrong password"))
	}
	w := f.do("POST", "/refill", nurse, body(password))
	var a errorBody
	json.Unmarshal(w.Body.Bytes(), &a)
	if w.Code != http.StatusTooManyRequests || a.Error.Field != "witness" {
		t.Errorf("the witness's try after %d wrong passwords: %d field %q (%s), want 429 beside the witness", freeTries+1, w.Code, a.Error.Field, a.Error.Message)
	}
	if _, err := f.db.Entry("00000000-0000-4000-8000-000000000001"); err == nil {
		t.Error("a refill with its witness throttled was recorded")
	}
}

// The dose-change form's save: the clinician is the signed-in user
// whatever the form says, and each warning of the dose change is
// acknowledged, or 409 lists those missing and nothing is written.
func TestReprogramSaveRules(t *testing.T) {
	f := newFixture(t, false)
	setup := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "nurse1", Role: pumpledger.RoleNurse})
	if _, err := f.db.RecordRefill(setup, mustRefill(t)); err != nil {
		t.Fatal(err)
	}
	f.clock.add(2 * time.Hour)
	clinician := f.login("clinician1")
	// 20 mcg/day from 1.2: above the label's maximum and a step larger
	// than its titration allows.
	change := func(acks []string) []byte {
		var m map[string]any
		if err := json.Unmarshal([]byte(reprogramJSON), &m); err != nil {
			t.Fatal(err)
		}
		m["id"] = "00000000-0000-4000-8000-0000000000c1"
		m["clinician"] = "someone else"
		m["dose"] = map[string]string{"drug": "ziconotide", "mcg_per_day": "20"}
		if acks != nil {
			m["acknowledged"] = acks
		}
		b, _ := json.Marshal(m)
		return b
	}
	size := func() int64 { n, _ := f.db.Size(); return n }
	n0 := size()
	var refused struct {
		Error    struct{ Code, Field, Message string }
		Warnings []string
	}
	for _, acks := range [][]string{nil, {"something else"}} {
		w := f.do("POST", "/reprogram", clinician, change(acks))
		json.NewDecoder(w.Result().Body).Decode(&refused)
		if w.Code != http.StatusConflict || refused.Error.Field != "acknowledged" || len(refused.Warnings) < 2 {
			t.Fatalf("acks %q: %d field %q warnings %q, want 409 listing the warnings", acks, w.Code, refused.Error.Field, refused.Warnings)
		}
		if size() != n0 {
			t.Fatalf("acks %q: wrote an entry", acks)
		}
	}
	w := f.do("POST", "/reprogram", clinician, change(refused.Warnings))
	if w.Code != http.StatusOK {
		t.Fatalf("with every warning acknowledged: %d %s", w.Code, w.Body)
	}
	var ok struct{ ID, Patient string }
	json.NewDecoder(w.Result().Body).Decode(&ok)
	e, err := f.db.Entry(ok.ID)
	if err != nil {
		t.Fatal(err)
	}
	var rp pumpledger.Reprogram
	if err := json.Unmarshal(e.Payload, &rp); err != nil {
		t.Fatal(err)
	}
	if e.RecordedBy != "clinician1" || rp.Clinician != "clinician1" || len(rp.Acknowledged) != len(e.Warnings) || len(e.Warnings) < 2 {
		t.Errorf("recorded by %s, clinician %s, %d acks of %d warnings", e.RecordedBy, rp.Clinician, len(rp.Acknowledged), len(e.Warnings))
	}
	if ok.Patient != "/patient?mrn=MRN-1" {
		t.Errorf("after saving, to %q, want the patient's page", ok.Patient)
	}
}

// A form's id is made once with its page: a form saved, then changed (the
// browser's back button) and previewed or saved again, is refused in
// words for the nurse, beside the form, saying where the saved entry is,
// not with the command line's advice, and nothing is written.
func TestFormSavedThenChanged(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	refillForm := func(residual string, acks []string) []byte {
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.NewReplacer(`"witness": "asmith",`, "", `"residual_ml": "0"`, `"residual_ml": "`+residual+`"`).Replace(refillJSON)), &m); err != nil {
			t.Fatal(err)
		}
		m["acknowledged"] = acks
		b, _ := json.Marshal(map[string]any{"refill": m, "witness": map[string]string{"name": "clinician1", "password": password}})
		return b
	}
	var a struct {
		Error    struct{ Code, Field, Message string }
		Warnings []string
	}
	json.Unmarshal(f.do("POST", "/refill", nurse, refillForm("0", nil)).Body.Bytes(), &a)
	if w := f.do("POST", "/refill", nurse, refillForm("0", a.Warnings)); w.Code != http.StatusOK {
		t.Fatalf("the first save: %d %s", w.Code, w.Body)
	}
	f.clock.add(time.Hour)
	change := func(acks []string) []byte {
		var m map[string]any
		json.Unmarshal([]byte(reprogramJSON), &m)
		m["id"], m["acknowledged"] = "00000000-0000-4000-8000-0000000000c2", acks
		return mustJSON(t, m)
	}
	clinician := f.login("clinician1")
	json.Unmarshal(f.do("POST", "/reprogram", clinician, change(nil)).Body.Bytes(), &a)
	if w := f.do("POST", "/reprogram", clinician, change(a.Warnings)); w.Code != http.StatusOK {
		t.Fatalf("the dose change: %d %s", w.Code, w.Body)
	}
	changed := strings.Replace(reprogramJSON, `"1.5"`, `"1.4"`, 1)
	var m map[string]any
	json.Unmarshal([]byte(changed), &m)
	m["id"] = "00000000-0000-4000-8000-0000000000c2"
	changedChange := mustJSON(t, m)
	nurse = f.login("nurse1")
	n0, _ := f.db.Size()
	for _, tc := range []struct {
		name, path string
		body       []byte
		want       string
	}{
		{"the refill form's preview", "/api/refill?dry_run=1", []byte(strings.Replace(strings.Replace(refillJSON, `"residual_ml": "0"`, `"residual_ml": "1"`, 1), `"witness": "asmith",`, "", 1)), "/refill/record?id=00000000-0000-4000-8000-000000000001"},
		{"the refill form's save", "/refill", refillForm("1", a.Warnings), "/refill/record?id=00000000-0000-4000-8000-000000000001"},
		{"the dose-change form's preview", "/api/reprogram?dry_run=1", changedChange, "new dose-change form"},
		{"the dose-change form's save", "/reprogram", changedChange, "new dose-change form"},
	} {
		w := f.do("POST", tc.path, nurse, tc.body)
		var got errorBody
		json.Unmarshal(w.Body.Bytes(), &got)
		if w.Code != http.StatusConflict || got.Error.Field != "id" || !strings.HasPrefix(got.Error.Message, "This form was saved already") ||
			!strings.Contains(got.Error.Message, tc.want) || strings.Contains(got.Error.Message, "pumpledger") {
			t.Errorf("%s, changed after its save: %d field %q %q, want 409 beside the form saying where the saved entry is", tc.name, w.Code, got.Error.Field, got.Error.Message)
		}
	}
	if n, _ := f.db.Size(); n != n0 {
		t.Error("a form changed after its save wrote an entry")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
