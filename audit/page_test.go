package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pumpledger/pumpledger/internal/browser"
)

// The page's script, in Chromium, on packets made with tlog and note
// directly: entries whose bytes hold Go's \u003c escapes and a key whose
// base64 holds a "+" verify; an entry with an escape undone does not, nor
// a copy of a proven entry, nor a void the packet's corrections do not
// bear out.
func TestPageScript(t *testing.T) {
	ctx := browser.New(t, 1000, 800)
	open := func(p *Packet) []string {
		t.Helper()
		file := filepath.Join(t.TempDir(), "p.html")
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WriteHTML(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.body.dataset.done === "1"`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatal(err)
		}
		st, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".entry"), e => e.dataset.status).concat([document.body.dataset.result])`))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	p, _ := testPacket(t, 7)
	if got := strings.Join(open(p), " "); got != strings.TrimSpace(strings.Repeat("verified ", 8)) {
		t.Fatalf("as made: %s", got)
	}
	// A document swapped for another, its hash with it: no proven entry
	// cites it, so the page is not verified, though every entry is.
	swapped := *p
	swapped.Attachments = []Attachment{p.Attachments[0]}
	swapped.Attachments[0].Data = []byte("another consent")
	sum := sha256.Sum256(swapped.Attachments[0].Data)
	swapped.Attachments[0].SHA256 = hex.EncodeToString(sum[:])
	if got := strings.Join(open(&swapped), " "); got != strings.Repeat("verified ", 7)+"failed" {
		t.Fatalf("a document swapped: %s", got)
	}
	changed := *p
	changed.Attachments = []Attachment{p.Attachments[0]}
	changed.Attachments[0].Data = []byte("%PDF-1.4 consenT")
	if got := strings.Join(open(&changed), " "); got != strings.Repeat("verified ", 7)+"failed" {
		t.Fatalf("a document's bytes changed: %s", got)
	}
	// Entry 1's void hidden: the packet's proven correction (entry 6)
	// voids it, so the page refuses the packet's word.
	hidden := *p
	hidden.Entries = append([]Entry{}, p.Entries...)
	hidden.Entries[1].VoidedBy, hidden.Entries[1].VoidReason = "", ""
	if got := strings.Join(open(&hidden), " "); got != "verified failed verified verified verified verified verified failed" {
		t.Fatalf("a void hidden: %s", got)
	}
	invented := *p
	invented.Entries = append([]Entry{}, p.Entries...)
	invented.Entries[3].VoidedBy, invented.Entries[3].VoidReason = "id-6", "wrong patient"
	if got := strings.Join(open(&invented), " "); got != "verified verified verified failed verified verified verified failed" {
		t.Fatalf("a void invented: %s", got)
	}
	// A proven entry repeated proves again: the page refuses the copy.
	dup := *p
	dup.Entries = append(append([]Entry{}, p.Entries...), p.Entries[2])
	if got := strings.Join(open(&dup), " "); got != strings.Repeat("verified ", 7)+"failed failed" {
		t.Fatalf("entry 2 repeated: %s", got)
	}
	// A proof left out (null in the JSON): that entry red, the page
	// finished, not stuck at "Verifying…".
	noProof := *p
	noProof.Entries = append([]Entry{}, p.Entries...)
	noProof.Entries[3].Proof = nil
	if got := strings.Join(open(&noProof), " "); got != "verified verified verified failed verified verified verified failed" {
		t.Fatalf("entry 3's proof left out: %s", got)
	}
	p.Entries[4].Stored = strings.Replace(p.Entries[4].Stored, `\u003c`, "<", 1)
	if got := strings.Join(open(p), " "); got != "verified verified verified verified failed verified verified failed" {
		t.Fatalf("an escape undone in entry 4: %s", got)
	}
}
