// Package witness speaks to C2SP tlog-witness witnesses
// (https://c2sp.org/tlog-witness): it submits a signed checkpoint with its
// consistency proof and reads back the cosignatures (c2sp.org/tlog-cosignature),
// which it can also verify. The witness itself is someone else's program
// (litewitness of filippo.io/torchwood is the one tested against); nothing
// here decides what a witness signs.
package witness

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// algCosignatureV1 is the key type byte of a tlog-cosignature/v1 key.
const algCosignatureV1 = 4

// Verifier checks cosignatures of one witness key.
type Verifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *Verifier) Name() string    { return v.name }
func (v *Verifier) KeyHash() uint32 { return v.hash }
func (v *Verifier) String() string  { return VerifierKey(v.name, v.key) }
func (v *Verifier) Verify(msg, sig []byte) bool {
	// A cosignature is an 8-byte big-endian time then an Ed25519 signature
	// over "cosignature/v1\ntime T\n" and the checkpoint text.
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	m := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, msg)
	return ed25519.Verify(v.key, m, sig[8:])
}

var _ note.Verifier = (*Verifier)(nil)

// Time is when the witness signed, from a cosignature's bytes.
func Time(sig note.Signature) (time.Time, bool) {
	b, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(b) != 4+8+ed25519.SignatureSize {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(b[4:])), 0).UTC(), true
}

// VerifierKey is the vkey of a witness's Ed25519 key: name+hash+base64 of
// the type byte 0x04 and the key.
func VerifierKey(name string, pub ed25519.PublicKey) string {
	k := append([]byte{algCosignatureV1}, pub...)
	return fmt.Sprintf("%s+%08x+%s", name, keyHash(name, k), base64.StdEncoding.EncodeToString(k))
}

func keyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validName: not empty, valid UTF-8, no space and no plus (c2sp.org/signed-note),
// and no control character, which no note may hold.
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.Contains(name, "+") &&
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r < 0x20 }) < 0
}

// NewVerifier parses a witness's vkey, name+hash+base64(0x04 || key), as
// litewitness prints it at start.
func NewVerifier(vkey string) (*Verifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hex, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validName(name) || len(hex) != 8 {
		return nil, errors.New("a witness key is name+hash+key")
	}
	// Only the one spelling a key is printed in (lowercase hex, canonical
	// base64): a key is compared and kept as text, so two spellings of
	// one key would be two witnesses.
	h, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || strings.ToLower(hex) != hex {
		return nil, errors.New("its hash is not eight lowercase hex digits")
	}
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(k) != 1+ed25519.PublicKeySize || base64.StdEncoding.EncodeToString(k) != b64 {
		return nil, errors.New("its key is not 33 bytes of base64")
	}
	if k[0] != algCosignatureV1 {
		return nil, fmt.Errorf("its key is of type %d, not a cosignature key (4)", k[0])
	}
	if uint32(h) != keyHash(name, k) {
		return nil, errors.New("its hash does not match its name and key")
	}
	return &Verifier{name: name, hash: uint32(h), key: ed25519.PublicKey(k[1:])}, nil
}

// ParseSignatures checks a witness's answer: one or more signature lines
// "— name base64", each ending in a newline, the base64 at least a key
// hash. It returns the lines as given. The lines are then added to a
// signed note, so anything else (a blank line, text) is refused.
func ParseSignatures(b []byte) ([]note.Signature, error) {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return nil, errors.New("the cosignatures do not end in a newline")
	}
	var out []note.Signature
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSuffix(line, "\n")
		rest, ok := strings.CutPrefix(line, "— ")
		name, b64, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || !validName(name) {
			return nil, fmt.Errorf("%q is not a signature line", line)
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) < 5 || base64.StdEncoding.EncodeToString(sig) != b64 {
			return nil, fmt.Errorf("the signature of %s is not base64 of a key hash and a signature", name)
		}
		out = append(out, note.Signature{Name: name, Hash: binary.BigEndian.Uint32(sig), Base64: b64})
	}
	return out, nil
}

// Conflict is the witness's answer 409: it has cosigned a tree of Size
// entries, not the old size given.
type Conflict struct{ Size int64 }

func (c *Conflict) Error() string {
	return fmt.Sprintf("the witness last cosigned %d entries", c.Size)
}

// Refused is any other answer than 200 and 409.
type Refused struct {
	Status int
	Text   string // the witness's own words, one line at most
}

func (r *Refused) Error() string { return fmt.Sprintf("HTTP %d %s", r.Status, r.Text) }

// maxAnswer bounds what is read of an answer: a few cosignature lines.
const maxAnswer = 64 << 10

// Submit sends add-checkpoint: the old size the witness is believed to
// know, the consistency proof from it, and the signed note. It returns the
// cosignature lines, a *Conflict, a *Refused, or the network's error.
func Submit(ctx context.Context, client *http.Client, url string, old int64, proof tlog.TreeProof, signed []byte) ([]note.Signature, error) {
	var body bytes.Buffer
	fmt.Fprintf(&body, "old %d\n", old)
	for _, h := range proof {
		fmt.Fprintf(&body, "%s\n", h)
	}
	body.WriteString("\n")
	body.Write(signed)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+"/add-checkpoint", &body)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return ParseSignatures(b)
	case http.StatusConflict:
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n < 0 {
			return nil, &Refused{resp.StatusCode, "with no tree size"}
		}
		return nil, &Conflict{n}
	}
	text, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(text) > 200 {
		text = text[:200]
	}
	return nil, &Refused{resp.StatusCode, text}
}

// Line is a signature's line in a note, without its newline.
func Line(s note.Signature) string { return "— " + s.Name + " " + s.Base64 }
