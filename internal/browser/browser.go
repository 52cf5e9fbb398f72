// Package browser starts a headless Chromium for the tests that drive the
// pages (chromedp). The browser is the system's (Debian's chromium, which
// `make deps` installs); a test that needs it fails when it is missing, so
// CI cannot go green without having run the pages.
package browser

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is the browser's executable: $CHROMIUM, else the first of the usual
// names on PATH.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New is a browser tab for t, closed at the test's end, at the given
// window size. Without a browser the test fails with how to get one.
func New(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		t.Fatal("no Chromium: run `make deps` (it installs Debian's chromium) or set CHROMIUM to a Chrome-compatible browser")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(width, height),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-sandbox", os.Getuid() == 0), // root in a container has no user namespaces
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	// Start it now, on the browser's own context (a timeout on the first
	// run would bound the browser's life): a failure here is the browser's.
	if err := chromedp.Do(bctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start %s: %v", path, err)
	}
	// The window cannot be narrower than about 500 px; the viewport can,
	// and below 480 px it is a phone's (mobile: the page's viewport meta
	// applies, touch is on).
	vp := []chromedp.EmulateViewportOption{}
	if width <= 480 {
		vp = append(vp, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(int64(width), int64(height), vp...)); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("viewport %dx%d: %v", width, height, err)
	}
	ctx, cancelTime := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelCtx(); cancelAlloc() })
	return ctx
}

// Screenshot saves the whole page as PNG (quality 100 is PNG; less is JPEG) under dir (created), named name.png,
// for a person to look at; it returns the file's path.
func Screenshot(t testing.TB, ctx context.Context, dir, name string) string {
	t.Helper()
	png, err := capture(ctx)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// laidOut is true once the document has loaded and has a size, after two
// animation frames (the first paint of a page just navigated to).
const laidOut = `new Promise(resolve => {
	const ready = () => document.readyState === "complete" && document.documentElement.scrollWidth > 0 && document.documentElement.scrollHeight > 0;
	requestAnimationFrame(() => requestAnimationFrame(() => resolve(ready())));
})`

// capture takes the whole page as PNG (quality 100 is PNG; less is JPEG).
// A page just navigated to can be committed, with its elements readable,
// before it is laid out; Chromium then refuses the capture ("Cannot take
// screenshot with 0 width"). So it waits for a laid-out page, and takes a
// refusal of a size it saw as transient, until ctx or 20 s ends.
func capture(ctx context.Context) ([]byte, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](laidOut, chromedp.EvalAwaitPromise))
		if err == nil && ok {
			var png []byte
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err == nil {
				return png, nil
			}
			if !strings.Contains(err.Error(), "0 width") && !strings.Contains(err.Error(), "0 height") {
				return nil, err
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err == nil {
				err = errors.New("the page was never laid out")
			}
			return nil, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
