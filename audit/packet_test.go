package audit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// memHashes is a tree's stored hashes in memory.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(ix []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ix))
	for i, x := range ix {
		out[i] = m[x]
	}
	return out, nil
}

// testPacket is a packet of n entries made with tlog and note directly, as
// the ledger makes them, and its verifier key. Entry bytes hold < > & as
// encoding/json writes them (\u003c), as stored entries do.
func testPacket(t testing.TB, n int) (*Packet, string) {
	t.Helper()
	// A key whose base64 holds a "+", as half of all keys do: a reader
	// that splits the key on every "+" fails with it.
	var skey, vkey string
	for !strings.Contains(vkey[min(len(vkey), 32):], "+") {
		var err error
		if skey, vkey, err = note.GenerateKey(rand.Reader, "pumpledger/test-ledger"); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	var hs memHashes
	var stored []string
	// Entry 0 cites a document, embedded in the packet.
	doc := []byte("%PDF-1.4 consent")
	sum := sha256.Sum256(doc)
	docHash := hex.EncodeToString(sum[:])
	for i := range n {
		s := fmt.Sprintf(`{"seq":%d,"id":"id-%d","kind":"refill","payload":{"note":"a \u003c b \u0026 c"}}`, i, i)
		if i == 0 {
			s = fmt.Sprintf(`{"seq":0,"id":"id-0","kind":"consent","payload":{"attachments":[{"sha256":%q}]}}`, docHash)
		}
		if i == n-1 && n > 2 { // the last voids entry 1
			s = fmt.Sprintf(`{"seq":%d,"id":"id-%d","kind":"correction","payload":{"voids":"id-1","reason":"wrong patient","replacement":""}}`, i, i)
		}
		h, err := tlog.StoredHashes(int64(i), []byte(s), hs)
		if err != nil {
			t.Fatal(err)
		}
		hs, stored = append(hs, h...), append(stored, s)
	}
	root, err := tlog.TreeHash(int64(n), hs)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: fmt.Sprintf("pumpledger/test-ledger\n%d\n%s\n", n, base64.StdEncoding.EncodeToString(root[:]))}, signer)
	if err != nil {
		t.Fatal(err)
	}
	p := &Packet{Format: Format, Ledger: "pumpledger/test-ledger", VerifierKey: vkey, Checkpoint: string(msg), MRN: "MRN-1",
		Made: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Claims: []Claim{},
		Attachments: []Attachment{{SHA256: docHash, MediaType: "application/pdf", Name: "consent.pdf", Size: int64(len(doc)), CitedBy: []string{"id-0"}, Data: doc}}}
	for i, s := range stored {
		proof, err := tlog.ProveRecord(int64(n), int64(i), hs)
		if err != nil {
			t.Fatal(err)
		}
		e := Entry{Index: int64(i), ID: fmt.Sprintf("id-%d", i), Kind: "refill", Stored: s}
		if i == 0 {
			e.Kind = "consent"
		}
		if i == n-1 && n > 2 {
			e.Kind = "correction"
		}
		if i == 1 && n > 2 {
			e.VoidedBy, e.VoidReason = fmt.Sprintf("id-%d", n-1), "wrong patient"
		}
		for _, h := range proof {
			e.Proof = append(e.Proof, h.String())
		}
		p.Entries = append(p.Entries, e)
	}
	return p, vkey
}

// flip changes one character of s at i to another base64 character.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Packet)
		bad    []int  // entries not proven
		want   string // in the error; "" for none
	}{
		{"as made", func(p *Packet) {}, nil, ""},
		{"one byte of an entry", func(p *Packet) { p.Entries[3].Stored = strings.Replace(p.Entries[3].Stored, "refill", "refilL", 1) }, []int{3},
			"Entry id-3 (index 3) fails: its stored bytes and proof do not lead"},
		{"a proof hash", func(p *Packet) { p.Entries[5].Proof[1] = flip(p.Entries[5].Proof[1], 0) }, []int{5}, "Entry id-5 (index 5)"},
		{"a proof cut short", func(p *Packet) { p.Entries[2].Proof = p.Entries[2].Proof[1:] }, []int{2}, "Entry id-2"},
		{"an entry moved", func(p *Packet) { p.Entries[1].Index = 0 }, []int{1}, "seq or id differ"},
		{"an entry renamed", func(p *Packet) { p.Entries[4].ID = "id-x" }, []int{4}, "seq or id differ"},
		{"an entry duplicated", func(p *Packet) { p.Entries = append(p.Entries, p.Entries[3]) }, []int{10},
			"Entry id-3 (index 3) fails: it repeats an entry or is out of ledger order"},
		{"two entries swapped", func(p *Packet) { p.Entries[7], p.Entries[8] = p.Entries[8], p.Entries[7] }, []int{8}, "Entry id-7 (index 7)"},
		{"a document swapped, its hash with it", func(p *Packet) {
			p.Attachments[0].Data = []byte("another consent")
			sum := sha256.Sum256(p.Attachments[0].Data)
			p.Attachments[0].SHA256 = hex.EncodeToString(sum[:])
		}, nil, "no proven entry of the packet cites it"},
		{"a document's bytes changed", func(p *Packet) { p.Attachments[0].Data[0] = 'X' }, nil, "its bytes do not hash to it"},
		{"a void hidden", func(p *Packet) { p.Entries[1].VoidedBy, p.Entries[1].VoidReason = "", "" }, []int{1},
			"Entry id-1 (index 1) fails: the packet's correction id-9 voids it"},
		{"a void invented", func(p *Packet) { p.Entries[2].VoidedBy, p.Entries[2].VoidReason = "id-9", "wrong patient" }, []int{2},
			"Entry id-2 (index 2) fails: no proven correction of the packet voids it"},
		{"a void's reason changed", func(p *Packet) { p.Entries[1].VoidReason = "duplicate" }, []int{1}, "Entry id-1 (index 1)"},
		{"a Go escape undone", func(p *Packet) { p.Entries[6].Stored = strings.Replace(p.Entries[6].Stored, `\u003c`, "<", 1) }, []int{6}, "Entry id-6"},
		{"the signature", func(p *Packet) {
			i := strings.LastIndex(p.Checkpoint, " ") + 10
			p.Checkpoint = flip(p.Checkpoint, i)
		}, nil, "not signed by the key"},
		{"the root, re-signed by no one", func(p *Packet) { p.Checkpoint = strings.Replace(p.Checkpoint, "\n10\n", "\n11\n", 1) }, nil, "not signed by the key"},
		{"a witness's cosignature added", func(p *Packet) {
			p.Checkpoint += "— witness.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, vkey := testPacket(t, 10)
			tt.change(p)
			res, err := Verify(p, vkey)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
			if res == nil {
				return // the checkpoint failed: no entry is looked at
			}
			for i, r := range res {
				isBad := false
				for _, b := range tt.bad {
					isBad = isBad || b == i
				}
				if (r.Problem != "") != isBad {
					t.Errorf("entry %d: problem %q, want one: %v", i, r.Problem, isBad)
				}
			}
		})
	}
}

// The key given is the auditor's: a packet signed by another key fails,
// even though the packet carries that key.
func TestVerifyOtherKey(t *testing.T) {
	p, _ := testPacket(t, 3)
	_, mine := testPacket(t, 1)
	if _, err := Verify(p, mine); err == nil || !strings.Contains(err.Error(), "not signed by the key") {
		t.Fatalf("error %v", err)
	}
	if _, err := Verify(p, "not a key"); err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("error %v", err)
	}
}

// The page holds the packet's JSON whole, and Parse reads it back from the
// page or from the JSON file alike.
func TestParseRoundTrip(t *testing.T) {
	p, vkey := testPacket(t, 5)
	p.Entries[0].Stored = strings.Replace(p.Entries[0].Stored, "a ", "</script><b>", 1)
	p.Entries[0].Proof = nil // not proven now: the point is the bytes survive
	var page bytes.Buffer
	if err := p.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if strings.Count(page.String(), "</script>") != 2 {
		t.Fatalf("the page's packet closes its script element early")
	}
	js, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{page.Bytes(), js} {
		q, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if q.Entries[0].Stored != p.Entries[0].Stored || q.Checkpoint != p.Checkpoint {
			t.Fatalf("not read back as written")
		}
		res, _ := Verify(q, vkey)
		if res[1].Problem != "" {
			t.Fatalf("entry 1: %s", res[1].Problem)
		}
	}
	for _, bad := range []string{"", "<html>", `{"format":"other/1"}`, Marker + `{"format":"pumpledger-audit-packet/1"}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) took it", bad)
		}
	}
}

// A page is the page WriteHTML writes around its packet, or it is not
// read: its script decides what a browser shows, so a page whose script or
// markup was changed could show entries other than those checked (here a
// decoy packet in a comment, proven, and the shown one made up).
func TestParsePageAsWritten(t *testing.T) {
	p, vkey := testPacket(t, 3)
	var good bytes.Buffer
	if err := p.WriteHTML(&good); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(p)
	made := *p
	made.Entries = []Entry{{Index: 0, ID: "made-up", Kind: "refill", Stored: `{"seq":0,"id":"made-up"}`}}
	var shown bytes.Buffer
	made.WriteHTML(&shown)
	for name, page := range map[string]string{
		"a decoy in a comment": strings.Replace(shown.String(), "<body", "<!-- "+Marker+string(js)+"</script> --><body", 1),
		"the script changed":   strings.Replace(good.String(), `verify(packet.verifier_key)`, `Promise.resolve()`, 1),
		"markup added":         strings.Replace(good.String(), "<h1>", "<h1>Verified. ", 1),
	} {
		if _, err := Parse([]byte(page)); err == nil || !strings.Contains(err.Error(), "not the page") {
			t.Errorf("%s: Parse took it (%v)", name, err)
		}
	}
	q, err := Parse(good.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(q, vkey); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseVerify: whatever the file, audit verify answers, never panics.
func FuzzParseVerify(f *testing.F) {
	p, vkey := testPacket(f, 4)
	js, _ := p.JSON()
	var page bytes.Buffer
	p.WriteHTML(&page)
	f.Add(js)
	f.Add(page.Bytes())
	f.Add([]byte(`{"format":"pumpledger-audit-packet/1","entries":[{"index":-1,"proof":["x"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := Parse(b)
		if err != nil {
			return
		}
		Verify(q, vkey)
	})
}
