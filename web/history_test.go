package web

import (
	"encoding/json"
	goflag "flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

var update = goflag.Bool("update", false, "rewrite the golden files in testdata")

// The auditor's history shows each payload readably and as recorded: a
// refill's vials as a table whose row holds the lot, a list of strings as
// a list, a number's digits as written (17.10, not 17.1), text escaped,
// and the bytes kept under "as recorded".
func TestHistoryPayloadReadable(t *testing.T) {
	f := newFixture(t, false)
	if w := f.do("POST", "/api/refill", f.login("nurse1"), []byte(refillJSON)); w.Code != http.StatusOK {
		t.Fatal(w.Body)
	}
	// An entry as a newer release (or another writer) might record it: a
	// JSON number with a trailing zero, a list of strings, a nested
	// object and markup in text. Appended as bytes, not through a form,
	// which would canonicalise them.
	raw := []byte(`{"mrn":"MRN-1","code":"G89.4","description":"<script>alert(1)</script>","clinician":"dr y","rate":17.10,"codes":["62369","J2278"],"payer":{"name":"Acme","plan":""}}`)
	at := pumpledger.NewInstant(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))
	if _, err := f.db.Write("", pumpledger.KindDiagnosis, raw, func(*ledger.Tx) ([]ledger.Entry, error) {
		return []ledger.Entry{f.db.Envelope("00000000-0000-4000-8000-0000000000d1", pumpledger.KindDiagnosis, "setup", at, raw)}, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	w := f.do("GET", "/history?mrn=MRN-1", f.login("auditor1"), nil)
	b := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("history: %d\n%s", w.Code, b)
	}
	for _, want := range []string{
		`<th scope="col">lot</th>`,
		`<tr><td>70720-720-10</td><td>1</td><td>L1</td><td>2027-06-30</td></tr>`, // the vial, as recorded
		`<dt>rate</dt><dd>17.10</dd>`,
		`<ul><li>62369</li><li>J2278</li></ul>`,
		`<dt>payer</dt><dd><dl><dt>name</dt><dd>Acme</dd><dt>plan</dt><dd><span class="pg-empty">(empty)</span></dd></dl></dd>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`&#34;rate&#34;:17.10`, // the bytes, under "as recorded"
	} {
		if !strings.Contains(b, want) {
			t.Errorf("the history lacks %s", want)
		}
	}
	shown := regexp.MustCompile(`(?s)<pre.*?</pre>`).ReplaceAllString(b, "")
	if strings.Contains(b, "<script>") || strings.Contains(shown, "17.1<") || strings.Contains(shown, `[&#34;`) {
		t.Errorf("the history shows markup, a number's digits changed or a list as JSON:\n%s", b)
	}
	// The rendered entries, for review by eye (go test -run History -update).
	// The ids the fixture draws at random read as "random-id".
	frag := regexp.MustCompile(`(?s)<ol class="pg-history">.*</ol>`).FindString(b)
	frag = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`).ReplaceAllStringFunc(frag, func(id string) string {
		if strings.HasPrefix(id, "00000000-") {
			return id
		}
		return "random-id"
	})
	golden := filepath.Join("testdata", "history.golden.html")
	if *update {
		if err := os.WriteFile(golden, []byte(frag+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if frag+"\n" != string(want) {
		t.Errorf("the history's entries differ from %s (run with -update and review):\n%s", golden, frag)
	}
}

// Any JSON value decodes for the page (no panic, nothing refused), and
// anything else is left to the raw bytes.
func FuzzReadPayload(f *testing.F) {
	for _, s := range []string{refillJSON, `{"a":17.10,"b":[{"x":1},{"y":null}],"c":[[]],"d":{}}`, `[1,"a",{"k":true}]`, `{"a":1}{`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, ok := readPayload(b); ok != json.Valid(b) {
			t.Errorf("readPayload(%q): ok %v, json.Valid %v", b, ok, !ok)
		}
	})
}
