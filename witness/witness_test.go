package witness_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"filippo.io/torchwood"
	"github.com/pumpledger/pumpledger/witness"
	"golang.org/x/mod/sumdb/note"
)

const text = "pumpledger/test\n3\nQrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n"

// TestAgainstTorchwood: a key and a cosignature made by torchwood, the
// witness implementation's own code, are read and verified here; a
// cosignature of another text or time is not.
func TestAgainstTorchwood(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := torchwood.NewCosignatureSigner("witness.example/w", priv)
	if err != nil {
		t.Fatal(err)
	}
	vkey := s.Verifier().String()
	if got := witness.VerifierKey("witness.example/w", pub); got != vkey {
		t.Fatalf("VerifierKey %s, torchwood's %s", got, vkey)
	}
	v, err := witness.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != vkey || v.Name() != s.Name() || v.KeyHash() != s.KeyHash() {
		t.Fatalf("verifier %s %s %08x, want %s", v, v.Name(), v.KeyHash(), vkey)
	}
	signed, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil || len(n.Sigs) != 1 {
		t.Fatalf("open a torchwood cosignature: %v", err)
	}
	if _, ok := witness.Time(n.Sigs[0]); !ok {
		t.Errorf("no time in %+v", n.Sigs[0])
	}
	other := strings.Replace(string(signed), "\n3\n", "\n4\n", 1)
	if _, err := note.Open([]byte(other), note.VerifierList(v)); err == nil {
		t.Errorf("a cosignature verifies for another tree size")
	}
	_, sigs, _ := strings.Cut(string(signed), "\n\n")
	parsed, err := witness.ParseSignatures([]byte(sigs))
	if err != nil || len(parsed) != 1 || witness.Line(parsed[0])+"\n" != sigs {
		t.Errorf("ParseSignatures(%q) = %+v, %v", sigs, parsed, err)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	good := witness.VerifierKey("w.example", pub)
	_, ledgerKey, _ := note.GenerateKey(rand.Reader, "w.example")
	for _, tc := range []struct{ vkey, says string }{
		{"", "name+hash+key"},
		{"w.example", "name+hash+key"},
		{"w example+01234567+AAAA", "name+hash+key"},
		{"w.example+0123456+AAAA", "name+hash+key"},
		{"w.example+0123456z+" + good[len(good)-44:], "eight lowercase hex digits"},
		// One key, one spelling: the hash in capitals, or a line break in
		// the base64 (which the decoder skips), is another text.
		{upperHash(t), "lowercase hex"},
		{good[:len(good)-10] + "\n" + good[len(good)-10:], "33 bytes"},
		{"w.example+01234567+AAAA", "33 bytes"},
		{ledgerKey, "type 1"},
		{strings.Replace(good, "w.example+", "v.example+", 1), "does not match"},
	} {
		if _, err := witness.NewVerifier(tc.vkey); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("NewVerifier(%q) = %v, want an error saying %q", tc.vkey, err, tc.says)
		}
	}
}

// upperHash is a fixed witness key whose hash holds a letter, with the
// hash in capitals.
func upperHash(t *testing.T) string {
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	good := witness.VerifierKey("w.example", pub)
	name, rest, _ := strings.Cut(good, "+")
	if up := strings.ToUpper(rest[:8]); up != rest[:8] {
		return name + "+" + up + rest[8:]
	}
	t.Fatalf("the fixed key's hash %s has no letter to capitalise", rest[:8])
	return ""
}

func TestParseSignaturesRefuses(t *testing.T) {
	for _, in := range []string{
		"",
		"— w.example AAAAAAA=",       // no newline
		"\n",                         // a blank line
		"- w.example AAAAAAA=\n",     // not an em dash
		"— w.example\n",              // no signature
		"— w.example AAAA\n",         // shorter than a key hash and a byte
		"— w.example AAAAAAA\n",      // not padded base64
		"— w+x AAAAAAA=\n",           // a plus in the name
		"— w.example AAAAAAA= x\n",   // trailing text
		"— w.example AAAAAAA=\nhi\n", // text after
	} {
		if sigs, err := witness.ParseSignatures([]byte(in)); err == nil {
			t.Errorf("ParseSignatures(%q) = %+v, want an error", in, sigs)
		}
	}
}

// FuzzParseSignatures: what is accepted is exactly the lines given, each
// a signature line a note reader accepts after a checkpoint.
func FuzzParseSignatures(f *testing.F) {
	f.Add([]byte("— w.example AAAAAAA=\n"))
	f.Add([]byte("— witness.example/test UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=\n— b AAAAAAA=\n"))
	f.Add([]byte("— w.example AAAAAAA= x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sigs, err := witness.ParseSignatures(b)
		if err != nil {
			return
		}
		var back strings.Builder
		for _, s := range sigs {
			back.WriteString(witness.Line(s) + "\n")
		}
		if back.String() != string(b) {
			t.Fatalf("accepted %q, which reads back as %q", b, back.String())
		}
		// A note with these lines after a checkpoint's parses (no
		// verifier knows them, so it is unverified, not malformed).
		_, err = note.Open(append([]byte(text+"\n"), b...), note.VerifierList())
		if _, ok := err.(*note.UnverifiedNoteError); !ok && len(sigs) <= 100 {
			t.Fatalf("a note with %q: %v", b, err)
		}
	})
}

// FuzzNewVerifier: a key accepted prints back as given.
func FuzzNewVerifier(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	f.Add(witness.VerifierKey("w.example", pub))
	f.Add("w.example+01234567+AAAA")
	f.Fuzz(func(t *testing.T, vkey string) {
		v, err := witness.NewVerifier(vkey)
		if err == nil && v.String() != vkey {
			t.Fatalf("accepted %q, which prints as %q", vkey, v.String())
		}
	})
}
