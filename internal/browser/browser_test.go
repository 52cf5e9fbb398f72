package browser

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// The browser runs script and reports what the page did: a page that sets
// its title from script is read back with the script's title.
func TestBrowserRunsScript(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>before</title><script>document.title = "after " + (6*7)</script>`))
	}))
	defer srv.Close()
	ctx := New(t, 1024, 768)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "after 42" {
		t.Fatalf("title %q, want %q", title, "after 42")
	}
}
