package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// The hash's own parameters are the production ones (TestPasswordHash);
// the server's tests hash with light ones, or each sign-in would cost a
// tenth of a second under the race detector.
var prodParams = params

func TestMain(m *testing.M) {
	params = argonParams{memoryKiB: 64, time: 1, threads: 1}
	os.Exit(m.Run())
}

// clock is the tests' time: the ledger's and the server's.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const password = "correct horse battery"

// fixture is a server over a ledger with patient MRN-1 and pump S1, and a
// user of each role, named after it.
type fixture struct {
	t     testing.TB
	path  string
	db    *clinic.Service
	clock *clock
	srv   *Server
}

func newFixture(t testing.TB, tls bool) *fixture {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "l.db")
	setup := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "setup", Role: pumpledger.RoleClinic})
	db, err := clinic.Create(setup, path, ledger.Options{NoSync: true, Now: c.now, Batch: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.AddPatient(setup, pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Implant(setup, pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range pumpledger.WebRoles {
		if err := AddUser(UsersPath(path), string(r)+"1", r, []byte(password)); err != nil {
			t.Fatal(err)
		}
	}
	srv := New(Config{Ledger: db, UsersPath: UsersPath(path), TLS: tls, Now: c.now})
	return &fixture{t: t, path: path, db: db, clock: c, srv: srv}
}

// do serves one request; cookie is a session id ("" for none).
func (f *fixture) do(method, target, cookie string, body []byte, header ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: f.srv.cookieName(), Value: cookie})
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

// login signs name in and returns the session id.
func (f *fixture) login(name string) string {
	f.t.Helper()
	w := f.do("POST", "/api/login", "", loginBody(name, password))
	if w.Code != http.StatusOK {
		f.t.Fatalf("sign-in of %s: %d %s", name, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == f.srv.cookieName() && c.Value != "" {
			return c.Value
		}
	}
	f.t.Fatalf("sign-in of %s set no session cookie", name)
	return ""
}

func loginBody(name, pw string) []byte {
	b, _ := json.Marshal(credentials{Name: name, Password: pw})
	return b
}

// reprogramJSON is a dose change of pump S1 after its first fill.
const reprogramJSON = `{"mrn": "MRN-1", "pump_serial": "S1", "performed_at": "2026-03-01T09:30:00Z",
  "clinician": "dr1", "dose": {"drug": "ziconotide", "mcg_per_day": "1.5"}, "procedure": "62368"}`

// refillJSON is pump S1's first fill, on the fixture's day.
const refillJSON = `{
  "id": "00000000-0000-4000-8000-000000000001",
  "mrn": "MRN-1", "pump_serial": "S1", "performed_at": "2026-03-01T09:00:00Z",
  "nurse": "jdoe", "witness": "asmith",
  "residual_ml": "0", "rinse_ml": "0", "fill_ml": "20",
  "solution": [{"drug": "ziconotide", "mcg_per_ml": "5"}],
  "vials": [{"ndc": "70720-720-10", "count": 1, "lot": "L1", "expires": "2027-06-30"}],
  "diluent_ml": "19",
  "dose": {"drug": "ziconotide", "mcg_per_day": "1.2"},
  "procedure": "95990", "note": ""
}`

// Every route, every role and no session: 200 where the role may, 403
// where it may not, 401 without a session. The server checks the role,
// not the page.
func TestRoleRouteTable(t *testing.T) {
	f := newFixture(t, false)
	sessions := map[string]string{"none": ""}
	for _, r := range pumpledger.WebRoles {
		sessions[string(r)] = f.login(string(r) + "1")
	}
	all := func(code int) map[string]int {
		m := map[string]int{"none": http.StatusUnauthorized}
		for _, r := range pumpledger.WebRoles {
			m[string(r)] = code
		}
		return m
	}
	only := func(roles ...pumpledger.Role) map[string]int {
		m := all(http.StatusForbidden)
		for _, r := range roles {
			m[string(r)] = http.StatusOK
		}
		return m
	}
	page := func(m map[string]int) map[string]int {
		m["none"] = http.StatusSeeOther
		return m
	}
	with := func(m map[string]int, code int, roles ...pumpledger.Role) map[string]int {
		for _, r := range roles {
			m[string(r)] = code
		}
		return m
	}
	public := func(none, role int) map[string]int {
		m := all(role)
		m["none"] = none
		return m
	}
	N, C, B, A, Ad := pumpledger.RoleNurse, pumpledger.RoleClinician, pumpledger.RoleBiller, pumpledger.RoleAuditor, pumpledger.RoleAdmin
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	doc, docType := multipartBody(t, map[string]string{"id": "00000000-0000-4000-8000-0000000000d1", "mrn": "MRN-1", "code": "G89.4", "description": "chronic pain", "clinician": "Dr A"}, nil)
	routes := []struct {
		method, target string
		body           []byte
		want           map[string]int
		header         []string
	}{
		{"GET", "/", nil, with(public(http.StatusSeeOther, http.StatusOK), http.StatusSeeOther, N, C), nil}, // a nurse's home: the worklist
		{"GET", "/login", nil, public(http.StatusOK, http.StatusOK), nil},
		{"GET", "/static/app.css", nil, public(http.StatusOK, http.StatusOK), nil},
		{"GET", "/api/me", nil, all(http.StatusOK), nil},
		{"POST", "/api/refill?dry_run=1", []byte(refillJSON), only(N, C), nil},
		// The same id and content a second time is the same entry: 200.
		{"POST", "/api/refill", []byte(refillJSON), only(N, C), nil},
		{"GET", "/api/bill?from=2026-03-01&to=2026-03-31", nil, only(B, A), nil},
		{"GET", "/api/bill?from=2026-03-01&to=2026-03-31&format=json", nil, only(B, A), nil},
		{"GET", "/api/bill?from=2026-03-01&to=2026-03-31&format=x12&allow_findings=1", nil, only(B, A), nil},
		{"GET", "/api/check?from=2026-03-01&to=2026-03-31", nil, only(B, A), nil},
		{"GET", "/api/submissions?from=2026-03-01&to=2026-03-31", nil, only(B, A), nil},
		// Submitting records: the biller alone (here no claim can be
		// filled, 400: nothing is recorded), never the auditor.
		{"POST", "/api/submit?from=2026-03-01&to=2026-03-31", nil, with(only(), http.StatusBadRequest, B), nil},
		{"GET", "/api/chart?mrn=MRN-1", nil, only(N, C, B, A), nil},
		{"GET", "/api/history?mrn=MRN-1", nil, only(N, C, A), nil},
		{"GET", "/api/fhir?mrn=MRN-1", nil, only(N, C, B, A), nil},
		{"GET", "/api/fhir?mrn=MRN-1&from=2026-03-01&to=2026-03-31", nil, only(N, C, B, A), nil},
		{"GET", "/api/verify", nil, only(A), nil},
		{"GET", "/api/users", nil, only(Ad), nil},
		{"GET", "/api/plan?drug=ziconotide&mcg_per_ml=5&fill_ml=20", nil, only(N, C), nil},
		{"POST", "/api/scan", []byte(`{"text": "(01)00370720720107(17)271231(10)L9"}`), only(N, C), nil},
		{"POST", "/api/reprogram?dry_run=1", []byte(reprogramJSON), only(N, C), nil},
		// Pages: without a session, to the sign-in page (303).
		{"GET", "/worklist", nil, page(only(N, C)), nil},
		{"GET", "/patient?mrn=MRN-1", nil, page(only(N, C, B, A)), nil},
		{"GET", "/refill/new?mrn=MRN-1&serial=S1", nil, page(only(N, C)), nil},
		{"GET", "/refill/correct?entry=00000000-0000-4000-8000-000000000001", nil, page(only(N, C)), nil},
		{"GET", "/reprogram/new?mrn=MRN-1&serial=S1", nil, page(only(N, C)), nil},
		{"GET", "/refill/record?id=00000000-0000-4000-8000-000000000001", nil, page(only(N, C, B, A)), nil},
		// Saving the refill form: 400 for the nurse (the refill has no
		// acknowledgement-free path with a typed witness), 403 for others.
		{"POST", "/refill", []byte(`{"refill": ` + refillJSON + `}`), map[string]int{"none": 401, "nurse": 400, "clinician": 400, "biller": 403, "auditor": 403, "admin": 403}, nil},
		// Saving the dose-change form: its warnings are not acknowledged
		// (409), for others 403.
		{"POST", "/reprogram", []byte(reprogramJSON), map[string]int{"none": 401, "nurse": 409, "clinician": 409, "biller": 403, "auditor": 403, "admin": 403}, nil},
		{"GET", "/bill", nil, page(only(B, A)), nil},
		{"GET", "/bill?from=2026-03-01&to=2026-03-31", nil, page(only(B, A)), nil},
		{"POST", "/bill/submit", []byte("from=2026-03-01&to=2026-03-31"), with(only(), http.StatusBadRequest, B), form},
		{"GET", "/audit", nil, page(only(A)), nil},
		{"GET", "/audit/checkpoint", nil, only(A), nil},
		{"GET", "/audit/checkpoint?log=access", nil, only(A), nil},
		{"GET", "/history", nil, page(only(N, C, A)), nil},
		{"GET", "/history?mrn=MRN-1", nil, page(only(N, C, A)), nil},
		{"GET", "/access", nil, page(only(A, Ad)), nil},
		{"GET", "/admin/users", nil, page(only(Ad)), nil},
		{"POST", "/admin/users", []byte("name=newuser&role=nurse&password=" + urlEscape(password) + "&password2=" + urlEscape(password)), with(only(), http.StatusSeeOther, Ad), form},
		{"POST", "/admin/users/change", []byte("name=newuser&role=clinician"), with(only(), http.StatusSeeOther, Ad), form},
		{"GET", "/record/diagnosis", nil, page(only(N, C)), nil},
		// The second time the same id: the same entry, already recorded.
		{"POST", "/record/diagnosis", doc, with(only(), http.StatusSeeOther, N, C), []string{"Content-Type", docType}},
		// Last: a sign-in or sign-out ends the session the request came with.
		{"POST", "/api/login", loginBody("nurse1", password), public(http.StatusOK, http.StatusOK), nil},
		{"POST", "/login", []byte("name=nurse1&password=" + urlEscape(password)), public(http.StatusSeeOther, http.StatusSeeOther), form},
		{"POST", "/api/logout", nil, public(http.StatusNoContent, http.StatusNoContent), nil},
		{"POST", "/logout", nil, public(http.StatusSeeOther, http.StatusSeeOther), nil},
	}
	roles := append([]string{"none"}, func() (s []string) {
		for _, r := range pumpledger.WebRoles {
			s = append(s, string(r))
		}
		return s
	}()...)
	// Every route the server registers has a row: the rows' requests are
	// matched against a mux of the same patterns.
	match := http.NewServeMux()
	for _, p := range f.srv.patterns {
		match.Handle(p, http.NotFoundHandler())
	}
	covered := map[string]bool{}
	for _, rt := range routes {
		_, p := match.Handler(httptest.NewRequest(rt.method, rt.target, nil))
		covered[p] = true
		for _, role := range roles {
			w := f.do(rt.method, rt.target, sessions[role], rt.body, rt.header...)
			if w.Code != rt.want[role] {
				t.Errorf("%s %s as %s: %d, want %d (%s)", rt.method, rt.target, role, w.Code, rt.want[role], strings.TrimSpace(w.Body.String()))
			}
		}
	}
	for _, p := range f.srv.patterns {
		if !covered[p] {
			t.Errorf("route %q has no row in the role x route table", p)
		}
	}
	// Signing out ends the session on the server, not only the cookie.
	if w := f.do("POST", "/api/logout", sessions["nurse"], nil); w.Code != http.StatusNoContent {
		t.Errorf("sign-out: %d", w.Code)
	}
	if w := f.do("GET", "/api/me", sessions["nurse"], nil); w.Code != http.StatusUnauthorized {
		t.Errorf("after sign-out the old session id: %d, want 401", w.Code)
	}
}

// A dry run writes nothing: the ledger file's bytes are the same after
// it. The refill recorded after it has the signed-in nurse as recorded_by,
// and the API answers the object `refill --json` prints.
func TestRefillDryRunAndRecordedBy(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	before := fileSum(t, f.path)
	size, _ := f.db.Size()
	w := f.do("POST", "/api/refill?dry_run=1", nurse, []byte(refillJSON))
	if w.Code != http.StatusOK {
		t.Fatalf("dry run: %d %s", w.Code, w.Body)
	}
	var preview map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &preview); err != nil {
		t.Fatal(err)
	}
	if preview["drugs"] == nil || preview["next_refill_due"] != "2026-03-15" || preview["id"] != "00000000-0000-4000-8000-000000000001" {
		t.Errorf("the preview is not the refill's record: %s", w.Body)
	}
	if got := fileSum(t, f.path); got != before {
		t.Errorf("a dry run changed the ledger file")
	}
	if n, _ := f.db.Size(); n != size {
		t.Errorf("a dry run appended: size %d → %d", size, n)
	}
	if _, err := f.db.Entry("00000000-0000-4000-8000-000000000001"); err == nil {
		t.Errorf("the dry run's entry is in the ledger")
	}

	w = f.do("POST", "/api/refill", nurse, []byte(refillJSON))
	if w.Code != http.StatusOK {
		t.Fatalf("refill: %d %s", w.Code, w.Body)
	}
	e, err := f.db.Entry("00000000-0000-4000-8000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if e.RecordedBy != "nurse1" {
		t.Errorf("recorded_by %q, want the signed-in nurse1", e.RecordedBy)
	}
	// The same object as `refill --json`: clinic.RefillAnswer, written
	// as the command writes JSON.
	res, err := f.db.RecordRefill(pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "nurse1", Role: pumpledger.RoleNurse}), mustRefill(t))
	if err != nil || !res.Existing {
		t.Fatalf("replay: %v existing=%v", err, res.Existing)
	}
	ready, err := f.db.CheckEntry(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	enc.Encode(clinic.RefillAnswer(res, ready))
	if w.Body.String() != want.String() {
		t.Errorf("the API's refill answer differs from refill --json's:\n%s\nwant\n%s", w.Body, want.String())
	}
	// A refused refill names its field, 400, and writes nothing.
	bad := strings.Replace(refillJSON, `"fill_ml": "20"`, `"fill_ml": "-1"`, 1)
	bad = strings.Replace(bad, "000000000001", "000000000009", 1)
	w = f.do("POST", "/api/refill", nurse, []byte(bad))
	var eb errorBody
	json.Unmarshal(w.Body.Bytes(), &eb)
	if w.Code != http.StatusBadRequest || eb.Error.Code != pumpledger.EINVALID || eb.Error.Field == "" || !strings.Contains(eb.Error.Message, "fill_ml") {
		t.Errorf("a negative fill: %d %s, want 400 naming fill_ml", w.Code, w.Body)
	}
}

func mustRefill(t *testing.T) pumpledger.Refill {
	r, err := pumpledger.ParseRefill(strings.NewReader(refillJSON))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fileSum(t *testing.T, path string) [32]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// A browser's request from another site is refused on every route that
// changes something, the sign-in too; the same request from this site,
// or from a program (no such header), is served.
func TestCrossOriginRefused(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"},
	} {
		if w := f.do("POST", "/api/refill?dry_run=1", nurse, []byte(refillJSON), h...); w.Code != http.StatusForbidden {
			t.Errorf("refill with %s: %d, want 403", h, w.Code)
		}
		if w := f.do("POST", "/api/login", "", loginBody("nurse1", password), h...); w.Code != http.StatusForbidden {
			t.Errorf("sign-in with %s: %d, want 403", h, w.Code)
		}
		if w := f.do("POST", "/login", "", []byte("name=nurse1&password=x"), append(h, "Content-Type", "application/x-www-form-urlencoded")...); w.Code != http.StatusForbidden {
			t.Errorf("form sign-in with %s: %d, want 403", h, w.Code)
		}
	}
	if w := f.do("POST", "/api/refill?dry_run=1", nurse, []byte(refillJSON), "Sec-Fetch-Site", "same-origin"); w.Code != http.StatusOK {
		t.Errorf("refill from this site: %d, want 200", w.Code)
	}
	if w := f.do("POST", "/api/refill?dry_run=1", nurse, []byte(refillJSON), "Origin", "http://example.com"); w.Code != http.StatusOK {
		t.Errorf("refill with this server's own origin: %d, want 200 (%s)", w.Code, w.Body)
	}
}

// A session unused for longer than the idle timeout is over; each use
// restarts the count.
func TestSessionIdleTimeout(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	for i := 0; i < 3; i++ {
		f.clock.add(14 * time.Minute)
		if w := f.do("GET", "/api/me", nurse, nil); w.Code != http.StatusOK {
			t.Fatalf("after 14 minutes unused: %d, want 200", w.Code)
		}
	}
	f.clock.add(DefaultIdle + time.Second)
	if w := f.do("GET", "/api/me", nurse, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("after %s unused: %d, want 401", DefaultIdle+time.Second, w.Code)
	}
	// Going back in time does not revive it: it was ended.
	f.clock.add(-DefaultIdle)
	if w := f.do("GET", "/api/me", nurse, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("an expired session served again: %d", w.Code)
	}
	// No session lives past a shift, however busy.
	s := f.login("nurse1")
	for d := time.Duration(0); d <= maxSession; d += 10 * time.Minute {
		f.clock.add(10 * time.Minute)
		f.do("GET", "/api/me", s, nil)
	}
	if w := f.do("GET", "/api/me", s, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("a session past %s: %d, want 401", maxSession, w.Code)
	}
}

// After ten wrong passwords the next try, even with the right one, is
// refused for a while that grows with every wrong one; once it has
// passed, the right password signs in.
func TestLoginThrottled(t *testing.T) {
	f := newFixture(t, false)
	var waits []int
	for i := 0; i < 10; i++ {
		w := f.do("POST", "/api/login", "", loginBody("nurse1", "wrong password"))
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, w.Code)
		}
		// The next try right away is refused from the sixth on.
		next := f.do("POST", "/api/login", "", loginBody("nurse1", password))
		if i+1 <= freeTries {
			if next.Code != http.StatusOK {
				t.Fatalf("after %d wrong passwords the right one: %d, want 200", i+1, next.Code)
			}
			f.srv.throttle.m["name:nurse1"] = &strikes{n: i + 1, last: f.clock.now()} // keep counting
			continue
		}
		if next.Code != http.StatusTooManyRequests {
			t.Fatalf("after %d wrong passwords the next try: %d, want 429", i+1, next.Code)
		}
		s, _ := strconv.Atoi(next.Header().Get("Retry-After"))
		waits = append(waits, s)
		f.clock.add(time.Duration(s) * time.Second)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] <= waits[i-1] {
			t.Errorf("the refusals do not grow: %v", waits)
		}
	}
	w := f.do("POST", "/api/login", "", loginBody("nurse1", "wrong password"))
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("eleventh wrong password: %d", w.Code)
	}
	w = f.do("POST", "/api/login", "", loginBody("nurse1", password))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("the right password after eleven wrong: %d, want 429 with Retry-After", w.Code)
	}
	// Another name from the same address is slowed too.
	if w := f.do("POST", "/api/login", "", loginBody("biller1", password)); w.Code != http.StatusTooManyRequests {
		t.Errorf("another name from the guessing address: %d, want 429", w.Code)
	}
	f.clock.add(maxLockout)
	if w := f.do("POST", "/api/login", "", loginBody("nurse1", password)); w.Code != http.StatusOK {
		t.Errorf("the right password after the wait: %d, want 200", w.Code)
	}
}

// A body over the route's limit is refused before it is read whole.
func TestOversizedBodyRefused(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	size, _ := f.db.Size()
	big := append([]byte(refillJSON[:len(refillJSON)-1]), []byte(`, "note": "`+strings.Repeat("x", maxEntryBody)+`"}`)...)
	if w := f.do("POST", "/api/refill", nurse, big); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a refill of %d bytes: %d, want 413", len(big), w.Code)
	}
	// Without a length given, the reader stops at the limit.
	r := httptest.NewRequest("POST", "/api/refill", struct{ *bytes.Reader }{bytes.NewReader(big)})
	r.ContentLength = -1
	r.AddCookie(&http.Cookie{Name: f.srv.cookieName(), Value: nurse})
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a streamed refill of %d bytes: %d, want 413", len(big), w.Code)
	}
	if w := f.do("POST", "/api/login", "", loginBody("nurse1", strings.Repeat("p", maxLoginBody))); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a sign-in of %d bytes: %d, want 413", maxLoginBody, w.Code)
	}
	if n, _ := f.db.Size(); n != size {
		t.Errorf("a refused body wrote: size %d → %d", size, n)
	}
}

// Every answer carries the security headers; the session cookie is
// HttpOnly and SameSite=Strict, and Secure over TLS.
func TestSecurityHeadersAndCookie(t *testing.T) {
	for _, tls := range []bool{false, true} {
		f := newFixture(t, tls)
		w := f.do("GET", "/login", "", nil)
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q", csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
			if h.Get(k) != v {
				t.Errorf("%s: %q, want %q", k, h.Get(k), v)
			}
		}
		if tls != (h.Get("Strict-Transport-Security") != "") {
			t.Errorf("TLS %v: HSTS %q", tls, h.Get("Strict-Transport-Security"))
		}
		if strings.Contains(w.Body.String(), "<script") || strings.Contains(w.Body.String(), "style=") {
			t.Errorf("the sign-in page has inline script or style")
		}
		w = f.do("POST", "/api/login", "", loginBody("nurse1", password))
		var c *http.Cookie
		for _, k := range w.Result().Cookies() {
			c = k
		}
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tls || len(c.Value) < 43 {
			t.Errorf("TLS %v: session cookie %+v", tls, c)
		}
	}
}

// The sign-in page signs in with a form, without script; a user's name is
// shown as text.
func TestLoginForm(t *testing.T) {
	f := newFixture(t, false)
	if err := AddUser(UsersPath(f.path), "<script>x</script>", pumpledger.RoleNurse, []byte(password)); err != nil {
		t.Fatal(err)
	}
	form := func(name, pw string) *httptest.ResponseRecorder {
		return f.do("POST", "/login", "", []byte("name="+urlEscape(name)+"&password="+urlEscape(pw)), "Content-Type", "application/x-www-form-urlencoded")
	}
	if w := form("<script>x</script>", "wrong"); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "wrong") {
		t.Errorf("wrong password: %d", w.Code)
	}
	w := form("<script>x</script>", password)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("sign-in: %d → %q", w.Code, w.Header().Get("Location"))
	}
	id := w.Result().Cookies()[0].Value
	if w := f.do("GET", "/", id, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/worklist" {
		t.Errorf("a nurse's home: %d → %q, want the worklist", w.Code, w.Header().Get("Location"))
	}
	home := f.do("GET", "/worklist", id, nil)
	if home.Code != http.StatusOK || strings.Contains(home.Body.String(), "<script>x") || !strings.Contains(home.Body.String(), "&lt;script&gt;x") {
		t.Errorf("home: %d, the name not escaped:\n%s", home.Code, home.Body)
	}
	if w := f.do("GET", "/", "", nil); w.Code != http.StatusSeeOther {
		t.Errorf("home without a session: %d, want a redirect to sign in", w.Code)
	}
	if w := f.do("GET", "/static/app.css", "", nil); w.Code != http.StatusOK {
		t.Errorf("stylesheet: %d", w.Code)
	}
}

func urlEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "=", "%3D", " ", "+", "<", "%3C", ">", "%3E", "/", "%2F")
	return r.Replace(s)
}

// Passwords are kept as argon2id hashes, salted each, in a file only its
// owner reads; a name is added once.
func TestPasswordHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db.users")
	saved := params
	params = prodParams
	defer func() { params = saved }()
	if err := AddUser(path, "ann", pumpledger.RoleNurse, []byte(password)); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(path, "bob", pumpledger.RoleBiller, []byte(password)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file: %v %v, want 0600", fi.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte(password)) {
		t.Fatalf("the users file holds the password")
	}
	users, _ := readUsers(path)
	if len(users) != 2 || !strings.HasPrefix(users[0].Hash, "$argon2id$v=19$m=19456,t=2,p=1$") || users[0].Hash == users[1].Hash {
		t.Errorf("hashes %q %q: want argon2id with OWASP's parameters, salted apart", users[0].Hash, users[1].Hash)
	}
	if _, ok, _ := authenticate(path, "ann", []byte(password)); !ok {
		t.Errorf("the right password is refused")
	}
	for _, pw := range []string{"", "correct horse batterY", password + " "} {
		if _, ok, _ := authenticate(path, "ann", []byte(pw)); ok {
			t.Errorf("password %q accepted", pw)
		}
	}
	if _, ok, _ := authenticate(path, "nobody", []byte(password)); ok {
		t.Errorf("an unknown name signed in")
	}
	for _, c := range []struct{ name, role, pw string }{
		{"ANN", "nurse", password},      // the same name, another case
		{"cy", "doctor", password},      // no such role
		{"cy", "nurse", "short"},        // too short
		{"", "nurse", password},         // no name
		{"c\u200by", "nurse", password}, // an invisible character
	} {
		if err := AddUser(path, c.name, pumpledger.Role(c.role), []byte(c.pw)); err == nil {
			t.Errorf("AddUser(%q, %q, %q) accepted", c.name, c.role, c.pw)
		}
	}
}

// The FHIR route answers what `fhir` prints, as application/fhir+json; a
// bad period is refused with its sentence.
func TestFHIRRoute(t *testing.T) {
	f := newFixture(t, false)
	nurse := f.login("nurse1")
	w := f.do("GET", "/api/fhir?mrn=MRN-1", nurse, nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/fhir+json") {
		t.Fatalf("fhir: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	var b struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.ResourceType != "Bundle" || b.Type != "collection" || len(b.Entry) == 0 || b.Entry[0].Resource.ResourceType != "Patient" {
		t.Errorf("fhir answered %v %+v", err, b)
	}
	w = f.do("GET", "/api/fhir?mrn=MRN-1&from=March", nurse, nil)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `from must be a date like 2026-03-01, not \"March\".`) {
		t.Errorf("bad period: %d %s", w.Code, w.Body)
	}
}

// A name is throttled however it is spelled that signs in as the same
// user: sign-in matches names with Unicode case folding, so "nurſe1"
// (long s) is nurse1, and must not start a count of its own (each
// spelling from a fresh address would get its own free tries).
func TestLoginThrottledAcrossSpellings(t *testing.T) {
	f := newFixture(t, false)
	try := func(name, pw, addr string) int {
		r := httptest.NewRequest("POST", "/api/login", bytes.NewReader(loginBody(name, pw)))
		r.RemoteAddr = addr + ":1234"
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		return w.Code
	}
	if c := try("nurſe1", password, "192.0.2.10"); c != http.StatusOK {
		t.Fatalf("nurſe1 with nurse1's password: %d; the test needs sign-in to fold case", c)
	}
	for i := range freeTries + 1 {
		if c := try("nurse1", "wrong password", fmt.Sprintf("192.0.2.%d", 20+i)); c != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, c)
		}
	}
	for _, name := range []string{"nurse1", "NURSE1", "nurſe1", " Nurſe1 "} {
		if c := try(name, "wrong password", "198.51.100.7"); c != http.StatusTooManyRequests {
			t.Errorf("%q from a fresh address after %d wrong passwords for nurse1: %d, want 429", name, freeTries+1, c)
		}
	}
}
