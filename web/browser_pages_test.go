package web

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/browser"
)

// The biller's, auditor's and admin's pages and a documentation form, in
// a real browser, by keyboard where a person would type: each signs in,
// does their task, and signs out. Screenshots at tablet (1024x768) and
// phone (390x844) width go to $PUMPLEDGER_SCREENSHOTS, else a temporary
// directory the test logs.
func TestPagesInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser test")
	}
	f := newFixture(t, false)
	if w := f.do("POST", "/api/refill", f.login("nurse1"), []byte(refillJSON)); w.Code != 200 {
		t.Fatal(w.Body)
	}
	srv := httptest.NewServer(f.srv)
	defer srv.Close()
	shots := os.Getenv("PUMPLEDGER_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	t.Logf("screenshots in %s", shots)
	ctx := browser.New(t, 1024, 768)
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return v
	}
	shoot := func(name string) {
		t.Helper()
		run(chromedp.EmulateViewport(1024, 768))
		browser.Screenshot(t, ctx, shots, name+"-1024x768")
		run(chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
		browser.Screenshot(t, ctx, shots, name+"-390x844")
		// A phone's page is no wider than the phone: tables scroll inside
		// their box, not the page.
		if w := eval(`String(document.documentElement.scrollWidth)`); w != "390" {
			t.Errorf("%s at 390 wide: the page is %s wide", name, w)
		}
		run(chromedp.EmulateViewport(1024, 768))
	}
	// A step that navigates (a click on a link, a form sent) is followed
	// by polling for what only the next page has: a node query waiting
	// across a navigation can outlive the document it queried and hang.
	// A link is followed by going to its address, once it is there.
	follow := func(sel string) {
		t.Helper()
		href := eval(`document.querySelector(` + "`" + `a[href="` + sel + `"]` + "`" + `)?.href || ""`)
		if href == "" {
			t.Fatalf("no link to %s on %s", sel, eval(`location.pathname`))
		}
		run(chromedp.Navigate(href))
	}
	signIn := func(name string) {
		t.Helper()
		run(chromedp.Navigate(srv.URL+"/login"),
			chromedp.SendKeys(chromedp.CSS("#name"), name),
			chromedp.SendKeys(chromedp.CSS("#password"), password+kb.Enter))
		waitFor(t, ctx, `location.pathname !== "/login" && document.readyState === "complete" && document.querySelector('form[action="/logout"]') !== null`)
	}
	signOut := func() {
		t.Helper()
		run(chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
		// The sign-in page's own: the users page has a #password too.
		waitFor(t, ctx, `location.pathname === "/login" && document.readyState === "complete" && document.getElementById("password") !== null`)
	}

	t.Run("biller bills a range and downloads it", func(t *testing.T) {
		signIn("biller1")
		follow("/bill")
		run(chromedp.WaitVisible(chromedp.CSS("#from")),
			chromedp.SetValue(chromedp.CSS("#from"), "2026-03-01"),
			chromedp.SetValue(chromedp.CSS("#to"), "2026-03-31"),
			chromedp.SendKeys(chromedp.CSS("#as_of"), kb.Enter))
		waitFor(t, ctx, `location.search.includes("from=2026-03-01") && document.readyState === "complete" && document.querySelector("table") !== null`)
		if got := text("table"); !strings.Contains(got, "J2278") || !strings.Contains(got, "No coverage is recorded") {
			t.Errorf("the bill's table lacks its lines or findings:\n%s", got)
		}
		shoot("bill")
		got := eval(`(async () => { const r = await fetch(document.querySelector(".pg-downloads a[href*='format=csv']").href); return r.status + "|" + r.headers.get("Content-Disposition") + "|" + (await r.text()); })()`)
		if !strings.HasPrefix(got, `200|attachment; filename="bill-2026-03-01-2026-03-31.csv"|`) {
			t.Errorf("the CSV download: %.300s", got)
		}
		// Once the claim can be filled, the page says what a submit sends;
		// the button records it, downloads the 837P and shows the range
		// again in place, the claim among those sent.
		billable(t, f)
		documented(t, f)
		run(chromedp.Reload())
		waitFor(t, ctx, `document.readyState === "complete" && document.getElementById("submit-claims") !== null`)
		if got := text("#to-send"); !strings.Contains(got, "1 claim in one 837P: 1 original") {
			t.Errorf("the confirmation: %q", got)
		}
		run(chromedp.Click(chromedp.CSS("#submit-claims button")))
		waitFor(t, ctx, `document.getElementById("submitted") !== null`)
		if got := text("#main"); !strings.Contains(got, "1 claim recorded as sent") || !strings.Contains(got, "MRN-1-20260301") || !strings.Contains(got, "Nothing new to send for this range.") {
			t.Errorf("after the submit:\n%s", got)
		}
		if sent, err := f.db.Submissions(context.Background(), "2026-03-01", "2026-03-31"); err != nil || len(sent) != 1 || sent[0].RecordedBy != "biller1" {
			t.Errorf("the submissions recorded: %+v %v", sent, err)
		}
		shoot("bill-submitted")
		signOut()
	})

	t.Run("auditor reads and cannot record", func(t *testing.T) {
		size, _ := f.db.Size()
		signIn("auditor1")
		follow("/audit")
		run(chromedp.WaitVisible(chromedp.CSS(".ok")))
		if n := eval(`String(document.querySelectorAll("form[method=post]").length)`); n != "1" {
			t.Errorf("the audit page has %s POST forms, want only the sign-out", n)
		}
		shoot("audit")
		run(chromedp.SendKeys(chromedp.CSS("#mrn"), "MRN-1"+kb.Enter))
		waitFor(t, ctx, `document.readyState === "complete" && document.querySelector(".pg-history") !== null`)
		if got := text(".pg-history"); !strings.Contains(got, "Test Patient") || !strings.Contains(got, "refill") || !strings.Contains(got, "L1") || strings.Contains(got, `"lot"`) {
			t.Errorf("the history:\n%s", got)
		}
		shoot("history")
		status := eval(`(async () => { const fd = new FormData(); fd.set("mrn", "MRN-1"); fd.set("code", "G89.4"); fd.set("description", "x"); fd.set("clinician", "y");
			const a = await fetch("/record/diagnosis", {method: "POST", body: fd});
			const b = await fetch("/api/refill", {method: "POST", body: "{}"});
			return a.status + " " + b.status; })()`)
		if status != "403 403" {
			t.Errorf("the auditor's posts: %s, want 403 403", status)
		}
		if n, _ := f.db.Size(); n != size {
			t.Errorf("the ledger grew")
		}
		signOut()
	})

	t.Run("admin adds a user", func(t *testing.T) {
		signIn("admin1")
		follow("/admin/users")
		run(chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SendKeys(chromedp.CSS("#name"), "dana"),
			chromedp.SetValue(chromedp.CSS("#role"), "clinician"),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.SendKeys(chromedp.CSS("#password2"), password+"!"+kb.Enter))
		waitFor(t, ctx, `document.readyState === "complete" && document.getElementById("password2-error") !== null`)
		if got := text("#password2-error"); !strings.Contains(got, "differ") {
			t.Errorf("beside the second password: %q", got)
		}
		shoot("users-refused")
		run(chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.SendKeys(chromedp.CSS("#password2"), password+kb.Enter))
		waitFor(t, ctx, `document.readyState === "complete" && document.querySelector(".ok") !== null`)
		if got := text("table"); !strings.Contains(got, "dana") {
			t.Errorf("dana is not listed:\n%s", got)
		}
		shoot("users")
		signOut()
		signIn("dana")
		signOut()
	})

	t.Run("a consent recorded after an error beside its field", func(t *testing.T) {
		pdf := filepath.Join(t.TempDir(), "consent.pdf")
		os.WriteFile(pdf, []byte("%PDF-1.4\n% signed consent\n%%EOF\n"), 0o600)
		signIn("nurse1")
		run(chromedp.Navigate(srv.URL+"/record/consent?mrn=MRN-1"), chromedp.WaitVisible(chromedp.CSS("#f-date")),
			chromedp.SetValue(chromedp.CSS("#f-date"), "2026-02-01"),
			chromedp.SetUploadFiles(chromedp.CSS("#f-document"), []string{pdf}),
			chromedp.SendKeys(chromedp.CSS("#f-therapy"), "intrathecal ziconotide"+kb.Enter))
		waitFor(t, ctx, `document.readyState === "complete" && document.getElementById("f-signed_by-error") !== null`)
		if got := text("#f-signed_by-error"); !strings.Contains(got, "signed_by") {
			t.Errorf("beside signed_by: %q", got)
		}
		if v := eval(`document.querySelector("#f-therapy").value`); v != "intrathecal ziconotide" {
			t.Errorf("the form lost what was typed: %q", v)
		}
		if got := text("main"); !strings.Contains(got, "Attach the document again") {
			t.Errorf("no word that the document must be attached again")
		}
		shoot("consent-refused")
		run(chromedp.SetUploadFiles(chromedp.CSS("#f-document"), []string{pdf}),
			chromedp.SendKeys(chromedp.CSS("#f-signed_by"), "the patient"+kb.Enter))
		waitFor(t, ctx, `document.readyState === "complete" && document.querySelector(".ok") !== null`)
		if got := text(".ok"); !strings.Contains(got, "Recorded consent for patient MRN-1") {
			t.Errorf("after saving: %q", got)
		}
		shoot("consent")
		items, err := f.db.History(context.Background(), "MRN-1")
		if err != nil {
			t.Fatal(err)
		}
		last := items[len(items)-1].Entry
		if last.Kind != pumpledger.KindConsent || last.RecordedBy != "nurse1" || !strings.Contains(string(last.Payload), `"consent.pdf"`) {
			t.Errorf("the consent recorded: %s by %s: %s", last.Kind, last.RecordedBy, last.Payload)
		}
		signOut()
	})
}
