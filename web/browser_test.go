package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/gs1"
	"github.com/pumpledger/pumpledger/internal/browser"
	"github.com/shopspring/decimal"
)

// The nurse's refill, in a real browser (headless Chromium): sign in, the
// worklist, the refill form prefilled from the pump, a scanned vial, the
// preview changing with the fill volume, each warning acknowledged, the
// witness signing with their own login, saved; the entry in the ledger is
// the nurse's with the witness's signature and the acknowledgements.
func TestBrowserNurseRecordsRefill(t *testing.T) {
	f := newFixture(t, false)
	setup := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "nurse1", Role: pumpledger.RoleNurse})
	first := mustRefill(t)
	first.Nurse, first.Witness = "nurse1", ""
	if _, err := f.db.RecordRefill(setup, first); err != nil {
		t.Fatal(err)
	}
	// Ten days on, the first refill after a fill of a pump new to
	// ziconotide is due (its 14 days) within the worklist's week.
	f.clock.add(10 * 24 * time.Hour)
	srv := httptest.NewServer(f.srv)
	defer srv.Close()
	shots := screenshotDir(t)

	ctx := browser.New(t, 1024, 768)
	signIn(t, ctx, srv.URL, "nurse1")
	waitFor(t, ctx, `document.querySelector("table.list tbody") !== null`)
	if got := evalString(t, ctx, `document.querySelector("table.list tbody").innerText`); !strings.Contains(got, "S1") || !strings.Contains(got, "MRN-1") || !strings.Contains(got, "Test Patient") {
		t.Fatalf("worklist: %q, want pump S1 of Test Patient, MRN-1", got)
	}
	browser.Screenshot(t, ctx, shots, "worklist-1024")
	run(t, ctx, chromedp.Click(`a.button[href*="serial=S1"]`))
	// The form starts from the pump: its solution and dose.
	waitFor(t, ctx, `document.querySelector("#next-due strong") !== null || document.querySelector("#err-residual_ml").textContent !== ""`)
	if got := evalString(t, ctx, `document.querySelector(".sol-conc").value + " " + document.getElementById("dose_mcg").value`); got != "5 1.2" {
		t.Errorf("prefilled solution and dose: %q, want %q", got, "5 1.2")
	}
	// The residual (2.6 mL less than the 17.6 expected: a discrepancy to
	// warn of), then a fill of 20 mL: the preview shows what is
	// dispensed.
	run(t, ctx, chromedp.SendKeys(`#residual_ml`, "15"))
	waitFor(t, ctx, `document.querySelector("#claim-lines") !== null && document.getElementById("preview").getAttribute("aria-busy") === "false"`)
	before := evalString(t, ctx, `document.querySelector("#preview-body table tbody").innerText`)
	if !strings.Contains(before, "100") {
		t.Errorf("preview at 20 mL × 5 mcg/mL: %q, want 100 mcg dispensed", before)
	}
	// The fill volume changes: the preview follows.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("fill_ml").value = ""`))
	run(t, ctx, chromedp.SendKeys(`#fill_ml`, "18"))
	// The least-waste plan offered for 18 mL, taken: its containers and
	// its diluent volume.
	waitFor(t, ctx, `document.getElementById("plan").innerText.includes("diluent 17.1 mL")`)
	run(t, ctx, chromedp.Click(`#use-plan`))
	waitFor(t, ctx, `document.getElementById("diluent_ml").value === "17.1"`)
	waitFor(t, ctx, `document.querySelector("#preview-body table tbody").innerText.includes("90")`)
	// A vial scanned: the keyboard wedge types the label's GS1 text and
	// Enter; its lot and expiry land on the container line.
	scanned := "(01)" + gs1.GTIN("7072072010") + "(17)271231(10)SCAN42"
	run(t, ctx, chromedp.SendKeys(`#scan`, scanned+"\r"))
	waitFor(t, ctx, `[...document.querySelectorAll(".vial-lot")].some(i => i.value === "SCAN42")`)
	// Warnings: each must be acknowledged; Save waits for them.
	waitFor(t, ctx, `document.getElementById("preview").getAttribute("aria-busy") === "false"`)
	nWarn := evalInt(t, ctx, `document.querySelectorAll("#ack-list .ack").length`)
	if nWarn == 0 {
		t.Fatal("no warning to acknowledge: the residual 2.6 mL under the expected should warn")
	}
	if !evalBool(t, ctx, `document.getElementById("save").disabled`) {
		t.Error("Save is enabled before the warnings are acknowledged")
	}
	browser.Screenshot(t, ctx, shots, "refill-form-1024")
	if evalBool(t, ctx, `getComputedStyle(document.getElementById("preview-summary")).display !== "none"`) {
		t.Error("at tablet width the preview stands beside the form, yet its phone summary shows")
	}
	if got := evalString(t, ctx, `document.getElementById("preview-summary").textContent`); !strings.Contains(got, "ziconotide 90 mcg in") || !strings.Contains(got, "warnings to acknowledge") {
		t.Errorf("the phone's summary of the preview: %q, want the dispensed mcg and the warnings to acknowledge", got)
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#ack-list .ack").forEach(c => c.click())`))
	waitFor(t, ctx, `!document.getElementById("save").disabled`)
	// The nurse cannot witness herself.
	run(t, ctx, chromedp.SendKeys(`#witness_name`, "nurse1"))
	run(t, ctx, chromedp.SendKeys(`#witness_password`, password))
	run(t, ctx, chromedp.Click(`#save`))
	waitFor(t, ctx, `document.getElementById("err-witness").textContent.includes("another person")`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("witness_name").value = ""`))
	run(t, ctx, chromedp.SendKeys(`#witness_name`, "clinician1"))
	run(t, ctx, chromedp.SendKeys(`#witness_password`, password))
	waitFor(t, ctx, `!document.getElementById("save").disabled`)
	run(t, ctx, chromedp.Click(`#save`))
	waitFor(t, ctx, `location.pathname === "/refill/record" && document.querySelector("h1") !== null`)
	browser.Screenshot(t, ctx, shots, "record-1024")

	hist, err := f.db.History(setup, "MRN-1")
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1].Entry
	if last.Kind != pumpledger.KindRefill || last.RecordedBy != "nurse1" {
		t.Fatalf("last entry: %s by %s, want the refill by nurse1", last.Kind, last.RecordedBy)
	}
	r, err := last.Refill()
	if err != nil {
		t.Fatal(err)
	}
	if r.Witness != "clinician1" || !r.WitnessSigned || r.Nurse != "nurse1" {
		t.Errorf("nurse %q, witness %q signed %v; want nurse1, clinician1 signed", r.Nurse, r.Witness, r.WitnessSigned)
	}
	if !r.FillML.Equal(mustDec("18")) || !slices.ContainsFunc(r.Vials, func(v pumpledger.VialUse) bool { return v.Lot == "SCAN42" && v.Expires == "2027-12-31" }) {
		t.Errorf("fill %s, vials %+v: want 18 mL and the scanned lot", r.FillML, r.Vials)
	}
	if len(r.Acknowledged) == 0 || len(last.Warnings) == 0 {
		t.Errorf("acknowledged %d of %d warnings recorded (%q)", len(r.Acknowledged), len(last.Warnings), r.Acknowledged)
	}
	for _, w := range last.Warnings {
		if !slices.Contains(r.Acknowledged, w) {
			t.Errorf("warning recorded but not acknowledged: %q", w)
		}
	}

	// A correction from the printed record: the same form, prefilled with
	// the refill as recorded; its preview is of the replacement, and a
	// reason is asked beside its field.
	run(t, ctx, chromedp.Click(`a[href^="/refill/correct"]`))
	waitFor(t, ctx, `document.getElementById("err-reason") !== null && document.getElementById("err-reason").textContent.includes("reason")`)
	if got := evalString(t, ctx, `document.getElementById("fill_ml").value + " " + document.getElementById("residual_ml").value`); got != "18 15" {
		t.Errorf("the correction form starts from %q, want the refill as recorded (18 15)", got)
	}
	run(t, ctx, chromedp.SendKeys(`#reason`, "residual misread: 17.5 mL aspirated"))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("residual_ml").value = ""`))
	run(t, ctx, chromedp.SendKeys(`#residual_ml`, "17.5"))
	waitFor(t, ctx, `document.getElementById("interval") !== null && document.getElementById("interval").innerText.includes("aspirated 17.5 mL") && document.getElementById("err-reason").textContent === ""`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#ack-list .ack").forEach(c => { if (!c.checked) c.click() })`))
	run(t, ctx, chromedp.SendKeys(`#witness_name`, "clinician1"))
	run(t, ctx, chromedp.SendKeys(`#witness_password`, password))
	waitFor(t, ctx, `!document.getElementById("save").disabled`)
	run(t, ctx, chromedp.Click(`#save`))
	waitFor(t, ctx, `location.pathname === "/refill/record" && !location.search.includes("`+last.ID+`")`)
	fixed, err := f.db.History(setup, "MRN-1")
	if err != nil {
		t.Fatal(err)
	}
	corr, repl := fixed[len(fixed)-1].Entry, fixed[len(fixed)-2].Entry
	if corr.Kind != pumpledger.KindCorrection || repl.Kind != pumpledger.KindRefill || corr.RecordedBy != "nurse1" {
		t.Fatalf("after the correction: %s then %s by %s, want the replacement refill then the correction by nurse1", repl.Kind, corr.Kind, corr.RecordedBy)
	}
	if r2, _ := repl.Refill(); !r2.ResidualML.Equal(mustDec("17.5")) || !r2.WitnessSigned {
		t.Errorf("the replacement: residual %s, witness signed %v", r2.ResidualML, r2.WitnessSigned)
	}

	// A dose change through its form: its warnings acknowledged one by
	// one before Save is enabled; the clinician recorded is the signed-in
	// nurse; after saving, the patient's page.
	run(t, ctx, chromedp.Navigate(srv.URL+"/reprogram/new?mrn=MRN-1&serial=S1"))
	waitFor(t, ctx, `document.getElementById("dose_mcg") !== null`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("dose_mcg").value = ""`))
	run(t, ctx, chromedp.SendKeys(`#dose_mcg`, "20"))
	// The preview of the dose as typed in full (a preview of "2" may come first).
	waitFor(t, ctx, `document.getElementById("preview").getAttribute("aria-busy") === "false" && document.getElementById("ack-list").innerText.includes("(from 1.2 to 20)")`)
	if !evalBool(t, ctx, `document.getElementById("save").disabled`) {
		t.Error("the dose change's Save is enabled before its warnings are acknowledged")
	}
	browser.Screenshot(t, ctx, shots, "dose-change-1024")
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#ack-list .ack").forEach(c => { if (!c.checked) c.click() })`))
	waitFor(t, ctx, `!document.getElementById("save").disabled`)
	run(t, ctx, chromedp.Click(`#save`))
	waitFor(t, ctx, `location.pathname === "/patient"`)
	after, err := f.db.History(setup, "MRN-1")
	if err != nil {
		t.Fatal(err)
	}
	if e := after[len(after)-1].Entry; e.Kind != pumpledger.KindReprogram || e.RecordedBy != "nurse1" {
		t.Errorf("after the dose change: %s by %s, want a reprogram by nurse1", e.Kind, e.RecordedBy)
	} else if rp := decodeReprogram(t, e.Payload); rp.Clinician != "nurse1" || len(rp.Acknowledged) == 0 || len(rp.Acknowledged) != len(e.Warnings) {
		t.Errorf("the dose change: clinician %q, %d acknowledged of %d warnings", rp.Clinician, len(rp.Acknowledged), len(e.Warnings))
	}

	// The same pages on a phone in portrait.
	phone := browser.New(t, 390, 844)
	signIn(t, phone, srv.URL, "nurse1")
	run(t, phone, chromedp.Navigate(srv.URL+"/patient?mrn=MRN-1"))
	run(t, phone, chromedp.WaitVisible(`section.pump`))
	browser.Screenshot(t, phone, shots, "patient-390")
	run(t, phone, chromedp.Navigate(srv.URL+"/refill/new?mrn=MRN-1&serial=S1"))
	waitFor(t, phone, `document.getElementById("preview-status").textContent !== "Fill in the form; the preview follows each change."`)
	// The preview is below the form on a phone: a bar at the foot of the
	// screen says what it shows while the nurse types at the top.
	waitFor(t, phone, `document.getElementById("preview-summary").textContent.includes("Not yet valid: residual_ml")`)
	if !evalBool(t, phone, `(() => { const r = document.getElementById("preview-summary").getBoundingClientRect(); return r.height > 0 && r.bottom <= innerHeight + 1 && r.top < innerHeight })()`) {
		t.Error("on a phone the preview's summary is not on screen at the foot of the form")
	}
	browser.Screenshot(t, phone, shots, "refill-form-390")
	if w := evalInt(t, phone, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the refill form is %d px wide on a 390 px phone: it scrolls sideways", w)
	}

	// An auditor cannot record: the form is refused by the server.
	aud := browser.New(t, 1024, 768)
	signIn(t, aud, srv.URL, "auditor1")
	run(t, aud, chromedp.Navigate(srv.URL+"/refill/new?mrn=MRN-1&serial=S1"))
	if got := evalString(t, aud, `document.body.innerText`); !strings.Contains(got, "may not open this page") {
		t.Errorf("an auditor at the refill form: %q", got)
	}
}

// A patient's name holding markup is shown as text, never run.
func TestBrowserNameIsText(t *testing.T) {
	f := newFixture(t, false)
	setup := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "setup", Role: pumpledger.RoleClinic})
	if _, err := f.db.AddPatient(setup, pumpledger.Patient{MRN: "MRN-X", Name: `<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`}); err != nil {
		t.Fatal(err)
	}
	// A pump due within the month: the name is on the worklist too.
	if _, err := f.db.Implant(setup, pumpledger.Implant{MRN: "MRN-X", Serial: "SX", Model: "synchromed-ii-20", Date: "2026-02-20"}); err != nil {
		t.Fatal(err)
	}
	r, err := pumpledger.ParseRefill(strings.NewReader(strings.NewReplacer(`"MRN-1"`, `"MRN-X"`, `"S1"`, `"SX"`).Replace(refillJSON)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RecordRefill(setup, r); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.srv)
	defer srv.Close()
	ctx := browser.New(t, 1024, 768)
	signIn(t, ctx, srv.URL, "nurse1")
	for _, c := range []struct{ page, shown string }{
		{"/patient?mrn=MRN-X", `h1`},
		{"/worklist?within=30", `table.list tbody`},
	} {
		run(t, ctx, chromedp.Navigate(srv.URL+c.page))
		run(t, ctx, chromedp.WaitVisible(c.shown))
		if got := evalString(t, ctx, `document.querySelector(`+strconv.Quote(c.shown)+`).innerText`); !strings.Contains(got, "<script>") {
			t.Errorf("%s: the name as shown: %q, want its markup as text", c.page, got)
		}
		time.Sleep(200 * time.Millisecond) // an onerror would have fired by now
		if got := evalString(t, ctx, `document.title`); strings.Contains(got, "pwned") {
			t.Errorf("%s: the name's script ran: title %q", c.page, got)
		}
	}
}

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func decodeReprogram(t *testing.T, payload []byte) pumpledger.Reprogram {
	t.Helper()
	var rp pumpledger.Reprogram
	if err := json.Unmarshal(payload, &rp); err != nil {
		t.Fatal(err)
	}
	return rp
}

func signIn(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(base+"/login"))
	run(t, ctx, chromedp.SendKeys(`#name`, name))
	run(t, ctx, chromedp.SendKeys(`#password`, password+"\r"))
	// The next page loaded, polled: a node query waiting across the
	// sign-in's redirects could outlive the document it queried.
	waitFor(t, ctx, `location.pathname !== "/login" && document.readyState === "complete"`)
}

func run(t *testing.T, ctx context.Context, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := chromedp.Run(ctx, a); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls js until it is true, across navigations (a poll inside
// the page dies with it), for at most 20 s.
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	errs, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll(".field-error")].filter(e => e.textContent).map(e => e.id + ": " + e.textContent).join("\n")`))
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 1500)`))
	t.Fatalf("waiting for %s: %v\nerrors shown: %s\npage: %s", js, last, errs, body)
}

func evalString(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func evalInt(t *testing.T, ctx context.Context, js string) int {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func evalBool(t *testing.T, ctx context.Context, js string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// screenshotDir is where the browser tests leave their screenshots for a
// person to look at: $PUMPLEDGER_SCREENSHOTS, else the test's temporary
// directory (logged).
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("PUMPLEDGER_SCREENSHOTS"); d != "" {
		return d
	}
	d := filepath.Join(t.TempDir(), "screenshots")
	t.Logf("screenshots in %s (set PUMPLEDGER_SCREENSHOTS to keep them)", d)
	return d
}

// A page on another site cannot make the nurse's browser record: its
// form posting to this server is refused (403, cross-origin protection)
// even with her signed in, and nothing is written. And when her session
// has expired, the form says so instead of saving.
func TestBrowserCrossSiteAndExpiredSession(t *testing.T) {
	f := newFixture(t, false)
	srv := httptest.NewServer(f.srv)
	defer srv.Close()
	// 127.0.0.1 and localhost are different sites to the browser.
	target := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/api/refill" enctype="text/plain"><input name='%s' value='"}'></form><script>document.getElementById("f").submit()</script>`,
			target, html.EscapeString(strings.TrimSuffix(refillJSON, "}")+`, "x": "`))
	}))
	defer evil.Close()
	n0, _ := f.db.Size()

	ctx := browser.New(t, 1024, 768)
	signIn(t, ctx, target, "nurse1")
	run(t, ctx, chromedp.Navigate(evil.URL))
	waitFor(t, ctx, `location.host === "`+strings.TrimPrefix(target, "http://")+`"`)
	if got := evalString(t, ctx, `document.body.innerText`); !strings.Contains(got, "another site is refused") {
		t.Errorf("the cross-site post's answer: %q", got)
	}
	if n, _ := f.db.Size(); n != n0 {
		t.Fatalf("a cross-site post wrote %d entries", n-n0)
	}

	// Sixteen minutes without a request: the session is over.
	run(t, ctx, chromedp.Navigate(target+"/refill/new?mrn=MRN-1&serial=S1"))
	waitFor(t, ctx, `document.getElementById("preview-status").textContent !== "Fill in the form; the preview follows each change."`)
	f.clock.add(16 * time.Minute)
	run(t, ctx, chromedp.SendKeys(`#fill_ml`, "20"))
	waitFor(t, ctx, `document.getElementById("preview-status").textContent.includes("session ended")`)
	run(t, ctx, chromedp.Navigate(target+"/worklist"))
	waitFor(t, ctx, `location.pathname === "/login"`)
}
