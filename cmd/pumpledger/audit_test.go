package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pumpledger/pumpledger/audit"
	"github.com/pumpledger/pumpledger/internal/browser"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// auditLedger is a demo ledger whose signing key is gone: whatever audits
// it needs the public key only.
func auditLedger(t *testing.T) *cli {
	c := newCLI(t)
	c.ok("", "demo", "--patients", "2", "--months", "4", "--seed", "7")
	var hist []struct {
		Entry struct{ ID, Kind string } `json:"entry"`
	}
	json.Unmarshal([]byte(c.ok("", "history", "--mrn", "MRN-1001", "--json")), &hist)
	for _, it := range hist {
		if it.Entry.Kind == "assessment" {
			c.ok("", "correct", "--entry", it.Entry.ID, "--reason", "charted for the wrong patient")
			break
		}
	}
	if err := os.Remove(c.db + ".key"); err != nil {
		t.Fatal(err)
	}
	return c
}

// firstEntry is the id of MRN-1001's first entry.
func (c *cli) firstEntry() string {
	var hist []struct {
		Entry struct{ ID string } `json:"entry"`
	}
	json.Unmarshal([]byte(c.ok("", "history", "--mrn", "MRN-1001", "--json")), &hist)
	return hist[0].Entry.ID
}

// packetOf writes MRN-1001's packet in format to a new file in dir.
func (c *cli) packetOf(format string) string {
	c.t.Helper()
	out := filepath.Join(c.t.TempDir(), "packet."+format)
	c.ok("", "audit", "packet", "--mrn", "MRN-1001", "--out", out, "--format", format)
	return out
}

// tamper rewrites the packet in file: one byte of an entry, of a proof
// hash, or of the checkpoint's signature.
func tamper(t *testing.T, file string, change func(p *audit.Packet)) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := audit.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	change(p)
	out := filepath.Join(t.TempDir(), filepath.Base(file))
	var buf bytes.Buffer
	if strings.HasSuffix(file, ".json") {
		js, _ := p.JSON()
		buf.Write(js)
	} else if err := p.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// byteOf changes one character of s, from i on, that is a letter.
func byteOf(s string, i int) string {
	for ; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'y' || c >= 'A' && c <= 'Y' {
			return s[:i] + string(c+1) + s[i+1:]
		}
	}
	panic("no letter")
}

var tampers = []struct {
	name   string
	change func(p *audit.Packet)
	bad    string // the entry not proven; "*" all of them
	want   string // what audit verify names
}{
	{"entry", func(p *audit.Packet) { p.Entries[3].Stored = byteOf(p.Entries[3].Stored, 60) }, "3", "(the entry or its proof was changed)"},
	{"proof", func(p *audit.Packet) { p.Entries[5].Proof[2] = byteOf(p.Entries[5].Proof[2], 0) }, "5", "(the entry or its proof was changed)"},
	{"signature", func(p *audit.Packet) {
		i := strings.LastIndex(p.Checkpoint, " ") + 20
		p.Checkpoint = byteOf(p.Checkpoint, i)
	}, "*", "not signed by the key"},
}

// The packet made without the signing key verifies with audit verify,
// with the key or its .pub file, as HTML or JSON; changed by one byte, it
// does not, and the failure names the entry and the check.
func TestAuditVerify(t *testing.T) {
	c := auditLedger(t)
	key := strings.TrimSpace(c.ok("", "key"))
	pub, _ := os.ReadFile(c.db + ".pub")
	if key != strings.TrimSpace(string(pub)) {
		t.Fatalf("key prints %q, LEDGER.pub holds %q", key, pub)
	}
	// Nothing that verifies reads the signing key, which auditLedger removed.
	c.ok("", "verify")
	var inc struct{ Checkpoint string }
	json.Unmarshal([]byte(c.ok("", "prove", "--entry", c.firstEntry())), &inc)
	if checkNote(t, inc.Checkpoint, key).N == 0 {
		t.Fatal("prove gives no checkpoint")
	}
	for _, format := range []string{"html", "json"} {
		file := c.packetOf(format)
		if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
			t.Errorf("packet mode %v, want 0600", fi.Mode().Perm())
		}
		for _, k := range []string{key, c.db + ".pub"} {
			out := c.ok("", "audit", "verify", file, "--key", k)
			if !strings.HasPrefix(out, "ok: all ") {
				t.Errorf("audit verify: %s", out)
			}
		}
		b, _ := os.ReadFile(file)
		p, _ := audit.Parse(b)
		for _, tt := range tampers {
			bad := tamper(t, file, tt.change)
			code, _, stderr := c.run("", "audit", "verify", bad, "--key", key)
			want := tt.want
			if tt.bad != "*" {
				n := map[string]int{"3": 3, "5": 5}[tt.bad]
				want = "Entry " + p.Entries[n].ID + " (index "
			}
			if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, tt.want) {
				t.Errorf("%s %s: exit %d, %s; want exit 1 naming %q", format, tt.name, code, stderr, want)
			}
		}
	}
	// Someone else's key is refused, though the packet carries its own.
	other := newCLI(t)
	code, _, stderr := c.run("", "audit", "verify", c.packetOf("json"), "--key", strings.TrimSpace(other.ok("", "key")))
	if code != 1 || !strings.Contains(stderr, "not signed by the key") {
		t.Errorf("another ledger's key: exit %d, %s", code, stderr)
	}
}

// The packet's structure: every entry of the patient, in ledger order,
// the correction that voided one with its reason, the consent's signed
// form embedded, claim lines with their catalog version.
func TestAuditPacketJSON(t *testing.T) {
	c := auditLedger(t)
	b, err := os.ReadFile(c.packetOf("json"))
	if err != nil {
		t.Fatal(err)
	}
	var p audit.Packet
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	var hist []struct {
		Entry struct {
			ID string `json:"id"`
		} `json:"entry"`
	}
	json.Unmarshal([]byte(c.ok("", "history", "--mrn", "MRN-1001", "--json")), &hist)
	if len(p.Entries) != len(hist) || len(hist) == 0 {
		t.Fatalf("%d entries, the history has %d", len(p.Entries), len(hist))
	}
	voided, kinds := 0, map[string]int{}
	for i, e := range p.Entries {
		if e.ID != hist[i].Entry.ID || i > 0 && e.Index <= p.Entries[i-1].Index {
			t.Errorf("entry %d is %s (index %d), the history's is %s", i, e.ID, e.Index, hist[i].Entry.ID)
		}
		if e.VoidedBy != "" && e.VoidReason != "" {
			voided++
		}
		kinds[e.Kind]++
	}
	if voided != 1 || kinds["correction"] != 1 || kinds["refill"] == 0 || kinds["consent"] != 1 {
		t.Errorf("voided %d, kinds %v", voided, kinds)
	}
	if len(p.Attachments) != 1 || p.Attachments[0].MediaType != "application/pdf" || int64(len(p.Attachments[0].Data)) != p.Attachments[0].Size {
		t.Errorf("attachments %+v", p.Attachments)
	}
	if len(p.Claims) == 0 || p.Claims[0].CatalogVersion == 0 || len(p.Claims[0].Lines) == 0 || p.Claims[0].Lines[0].MRN != "MRN-1001" {
		t.Errorf("claims %+v", p.Claims)
	}
	// --from and --to keep the entries of those dates, and the correction
	// of one of them.
	from, to := p.Claims[0].DateOfService, p.Claims[len(p.Claims)-1].DateOfService
	out := filepath.Join(t.TempDir(), "p.json")
	c.ok("", "audit", "packet", "--mrn", "MRN-1001", "--from", from, "--to", from, "--out", out, "--format", "json")
	b, _ = os.ReadFile(out)
	var q audit.Packet
	json.Unmarshal(b, &q)
	if len(q.Entries) == 0 || len(q.Entries) >= len(p.Entries) || len(q.Claims) != 1 {
		t.Errorf("--from %s --to %s: %d entries of %d, %d claims", from, to, len(q.Entries), len(p.Entries), len(q.Claims))
	}
	if code, _, stderr := c.run("", "audit", "packet", "--mrn", "MRN-1001", "--from", to, "--to", from, "--out", out+"2"); code != 1 || !strings.Contains(stderr, "--to") {
		t.Errorf("to before from: exit %d, %s", code, stderr)
	}
}

// The packet checked by an implementation that shares nothing with ours:
// a Python script written from docs/audit-format.md, with hashlib and the
// RFC 8032 Ed25519 check.
func TestAuditPacketIndependent(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("no python3: the independent verifier needs it")
	}
	c := auditLedger(t)
	key := strings.TrimSpace(c.ok("", "key"))
	script := filepath.Join("..", "..", "testdata", "audit", "verify_packet.py")
	for _, format := range []string{"html", "json"} {
		file := c.packetOf(format)
		out, err := exec.Command(py, script, file, key).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok ") {
			t.Fatalf("%s: %v\n%s", format, err, out)
		}
		for _, tt := range tampers {
			if format == "html" {
				break // the same packet: once is enough at a pure-Python Ed25519's pace
			}
			out, err := exec.Command(py, script, tamper(t, file, tt.change), key).CombinedOutput()
			if err == nil {
				t.Errorf("%s %s: the script took it: %s", format, tt.name, out)
			}
		}
		if format == "json" {
			// A proven entry repeated: the documented order refuses the copy.
			dup := tamper(t, file, func(p *audit.Packet) { p.Entries = append(p.Entries, p.Entries[1]) })
			if out, err := exec.Command(py, script, dup, key).CombinedOutput(); err == nil {
				t.Errorf("an entry repeated: the script took it: %s", out)
			}
			// A void hidden: the packet's correction voids the entry.
			hidden := tamper(t, file, func(p *audit.Packet) {
				for i := range p.Entries {
					p.Entries[i].VoidedBy, p.Entries[i].VoidReason = "", ""
				}
			})
			if out, err := exec.Command(py, script, hidden, key).CombinedOutput(); err == nil {
				t.Errorf("a void hidden: the script took it: %s", out)
			}
		}
	}
}

// pageResult opens a packet page from disk and waits for its script's
// verdict: the status of each entry, and the milliseconds it took.
func pageResult(t testing.TB, ctx context.Context, file string) (result string, statuses map[string]string, words []string, ms string) {
	t.Helper()
	abs, _ := filepath.Abs(file)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+abs)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Result, MS string
		Entries    [][3]string
	}
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.body.dataset.ms !== undefined`, chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	got, err = chromedp.Run(ctx, chromedp.Evaluate[struct {
		Result, MS string
		Entries    [][3]string
	}](`({Result: document.body.dataset.result, MS: document.body.dataset.ms,
	     Entries: Array.from(document.querySelectorAll(".entry"), e => [e.id.slice(6), e.dataset.status, e.querySelector("p").textContent])})`))
	if err != nil {
		t.Fatal(err)
	}
	statuses = map[string]string{}
	for _, e := range got.Entries {
		statuses[e[0]] = e[1]
		words = append(words, e[2])
	}
	return got.Result, statuses, words, got.MS
}

// The page verifies itself in a real browser, from disk, with no network:
// all green; one byte changed in an entry or a proof turns that entry red,
// in the signature all of them; in words too, not colour alone.
func TestAuditPacketPage(t *testing.T) {
	c := auditLedger(t)
	file := c.packetOf("html")
	b, _ := os.ReadFile(file)
	p, _ := audit.Parse(b)
	ctx := browser.New(t, 1200, 900) // one browser, a page after another
	result, statuses, words, _ := pageResult(t, ctx, file)
	if result != "verified" || len(statuses) != len(p.Entries) {
		t.Fatalf("page says %q with %d entries of %d", result, len(statuses), len(p.Entries))
	}
	for id, s := range statuses {
		if s != "verified" {
			t.Errorf("entry %s: %s", id, s)
		}
	}
	for _, w := range words {
		if !strings.HasPrefix(w, "VERIFIED") {
			t.Errorf("entry says %q", w)
		}
	}
	for _, tt := range tampers {
		t.Run(tt.name, func(t *testing.T) {
			result, statuses, words, _ := pageResult(t, ctx, tamper(t, file, tt.change))
			if result != "failed" {
				t.Errorf("page says %q", result)
			}
			for i, e := range p.Entries {
				want := "verified"
				if tt.bad == "*" || tt.bad == map[int]string{3: "3", 5: "5"}[i] {
					want = "failed"
				}
				if statuses[e.ID] != want || (want == "failed") != strings.HasPrefix(words[i], "NOT VERIFIED") {
					t.Errorf("entry %d: %s, %q; want %s", i, statuses[e.ID], words[i], want)
				}
			}
		})
	}
}

// checkNote opens a signed checkpoint with the public key and parses it,
// with x/mod's note and tlog alone.
func checkNote(t *testing.T, msg, vkey string) tlog.Tree {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(msg), note.VerifierList(v))
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	lines := strings.Split(n.Text, "\n")
	size, _ := strconv.ParseInt(lines[1], 10, 64)
	h, err := tlog.ParseHash(lines[2])
	if err != nil || lines[0] != v.Name() {
		t.Fatalf("checkpoint text %q", n.Text)
	}
	return tlog.Tree{N: size, Hash: h}
}

// What checkpoint --since and prove print is checked as an outsider
// would, with tlog and note and the public key: the consistency proof
// from the old checkpoint to the new, printed on stderr or as JSON, and
// the entry's exact stored bytes in the signed tree.
func TestGrowthAndProveOutside(t *testing.T) {
	c := newCLI(t)
	c.seed()
	key := strings.TrimSpace(c.ok("", "key"))
	dir := t.TempDir()
	oldFile := filepath.Join(dir, "old.txt")
	old := c.ok("", "checkpoint")
	os.WriteFile(oldFile, []byte(old), 0o600)
	c.ok(fill2, "refill", "--file", "-")
	code, stdout, stderr := c.run("", "checkpoint", "--since", oldFile)
	if code != 0 || !strings.Contains(stderr, "This proves the tree only grew; it does not recompute the entries") {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	var proof tlog.TreeProof
	for _, l := range strings.Split(stderr, "\n") {
		if h, ok := strings.CutPrefix(l, "proof "); ok {
			ph, err := tlog.ParseHash(h)
			if err != nil {
				t.Fatal(err)
			}
			proof = append(proof, ph)
		}
	}
	ot, nt := checkNote(t, old, key), checkNote(t, stdout, key)
	if nt.N <= ot.N || len(proof) == 0 || tlog.CheckTree(proof, nt.N, nt.Hash, ot.N, ot.Hash) != nil {
		t.Fatalf("the proof of %d hashes does not take %d to %d", len(proof), ot.N, nt.N)
	}
	var g struct {
		OldSize    int64    `json:"old_size"`
		Proof      []string `json:"proof"`
		Checkpoint string   `json:"checkpoint"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "checkpoint", "--since", oldFile, "--json")), &g); err != nil || g.OldSize != ot.N || len(g.Proof) != len(proof) || g.Checkpoint != stdout {
		t.Fatalf("--json: %v %+v", err, g)
	}

	var inc struct {
		Stored     string   `json:"stored"`
		Index      int64    `json:"index"`
		Proof      []string `json:"proof"`
		Checkpoint string   `json:"checkpoint"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "prove", "--entry", "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b")), &inc); err != nil {
		t.Fatal(err)
	}
	tree := checkNote(t, inc.Checkpoint, key)
	var rp tlog.RecordProof
	for _, s := range inc.Proof {
		h, _ := tlog.ParseHash(s)
		rp = append(rp, h)
	}
	if err := tlog.CheckRecord(rp, tree.N, tree.Hash, inc.Index, tlog.RecordHash([]byte(inc.Stored))); err != nil {
		t.Fatalf("prove's stored bytes and proof do not check against its checkpoint: %v", err)
	}
}

// A bill written with --out has its signed checkpoint beside it, covering
// every entry the bill lists, and the file checks as any checkpoint does;
// standard output is the bill alone, as before.
func TestBillCheckpoint(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok(fill2, "refill", "--file", "-")
	key := strings.TrimSpace(c.ok("", "key"))
	for _, format := range []string{"csv", "json", "x12"} {
		out := filepath.Join(t.TempDir(), "bill."+format)
		code, stdout, stderr := c.run("", "bill", "--from", "2026-03-01", "--to", "2026-03-31", "--format", format, "--out", out)
		if code != 0 || stdout != "" || !strings.Contains(stderr, "the signed checkpoint of") {
			t.Fatalf("%s: exit %d, %q, %s", format, code, stdout, stderr)
		}
		bill, _ := os.ReadFile(out)
		if want := c.ok("", "bill", "--from", "2026-03-01", "--to", "2026-03-31", "--format", format); string(bill) != want || len(bill) == 0 {
			t.Errorf("%s: the file is not the bill standard output gives", format)
		}
		cp, err := os.ReadFile(out + ".checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		tree := checkNote(t, string(cp), key)
		var inc struct{ Index int64 }
		json.Unmarshal([]byte(c.ok("", "prove", "--entry", "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b")), &inc)
		if !strings.Contains(string(bill), "6b1f8a2e") && format != "x12" || tree.N <= inc.Index {
			t.Errorf("%s: the checkpoint of %d entries does not cover the bill's entry %d", format, tree.N, inc.Index)
		}
		c.ok("", "checkpoint", "--since", out+".checkpoint")
		if code, _, stderr := c.run("", "bill", "--from", "2026-03-01", "--to", "2026-03-31", "--format", format, "--out", out); code != 1 || !strings.Contains(stderr, "exists") {
			t.Errorf("%s again: exit %d, %s", format, code, stderr)
		}
	}
}

// BenchmarkAuditPacketPage is the time the page takes to verify itself in
// Chromium (its script's own measure, page-ms), for the packet in
// $PUMPLEDGER_PACKET (one of the scale ledger's, say: BENCHMARKS.md), else
// the demo's.
func BenchmarkAuditPacketPage(b *testing.B) {
	file := os.Getenv("PUMPLEDGER_PACKET")
	if file == "" {
		c := &cli{t: &testing.T{}, db: filepath.Join(b.TempDir(), "l.db")}
		if code, _, errs := c.run("", "init"); code != 0 {
			b.Fatal(errs)
		}
		c.run("", "demo", "--patients", "2", "--months", "24")
		file = filepath.Join(b.TempDir(), "p.html")
		if code, _, errs := c.run("", "audit", "packet", "--mrn", "MRN-1001", "--out", file); code != 0 {
			b.Fatal(errs)
		}
	}
	ctx := browser.New(b, 1200, 900)
	total := 0.0
	for b.Loop() {
		result, statuses, _, ms := pageResult(b, ctx, file)
		if result != "verified" {
			b.Fatalf("the page says %q", result)
		}
		n, _ := strconv.ParseFloat(ms, 64)
		total += n
		b.ReportMetric(float64(len(statuses)), "entries")
	}
	b.ReportMetric(total/float64(b.N), "page-ms")
}

// Bad input to audit is refused in one sentence naming the field, exit 1,
// and no file is written.
func TestAuditRefusals(t *testing.T) {
	c := newCLI(t)
	c.seed()
	dir := t.TempDir()
	out := filepath.Join(dir, "p.html")
	exists := filepath.Join(dir, "there.html")
	os.WriteFile(exists, []byte("x"), 0o600)
	notPacket := filepath.Join(dir, "not.html")
	os.WriteFile(notPacket, []byte("<html>hello</html>"), 0o600)
	good := filepath.Join(dir, "good.json")
	c.ok("", "audit", "packet", "--mrn", "MRN-1", "--out", good, "--format", "json")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "packet", "--mrn", "MRN-9", "--out", out}, "Unknown patient MRN-9"},
		{[]string{"audit", "packet", "--mrn", "MRN-1", "--from", "2026-13-01", "--out", out}, "--from must be a date like"},
		{[]string{"audit", "packet", "--mrn", "MRN-1", "--from", "2026-03-02", "--to", "2026-03-01", "--out", out}, "--to 2026-03-01 is before --from"},
		{[]string{"audit", "packet", "--mrn", "MRN-1", "--format", "pdf", "--out", out}, "--format must be html or json"},
		{[]string{"audit", "packet", "--mrn", "MRN-1", "--out", exists}, "exists; remove it or choose another name for --out"},
		{[]string{"audit", "verify", notPacket, "--key", c.db + ".pub"}, "is not an audit packet: it is neither"},
		{[]string{"audit", "verify", good, "--key", "nobody+00000000+AAAA"}, "The key is not a verifier key"},
		{[]string{"audit", "verify", good, "--key", filepath.Join(dir, "none.pub")}, "Cannot read the key file"},
	} {
		code, stdout, stderr := c.run("", tt.args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, %q, %q; want exit 1 saying %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused packet was written")
	}
}
