package pumpledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
)

// huge is a buffer a document of the size limit is made in (the fuzzer's
// own inputs stay far below it); its bytes past the data copied are zero.
var huge []byte

// FuzzSettleAttachment: a document read on input is accepted only if it is
// a PDF, PNG or JPEG by its first bytes, not empty and at most 20 MB, and
// its hash, if given, is its own; once settled, its hash, size and kind are
// those of its bytes. A document cited by hash alone is accepted only with
// a well-formed hash. Nothing panics; every refusal is one EINVALID line.
// size 1 makes the document one byte over the limit, -1 exactly at it
// (data first, then zeros); any other size leaves it as it is (rarely
// large: hashing 20 MB is slow for a fuzzer).
func FuzzSettleAttachment(f *testing.F) {
	pdf := []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
	f.Add(pdf, "consent.pdf", "", int8(0))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "scan.png", "", int8(0))
	f.Add([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "scan.jpg", "", int8(0))
	f.Add([]byte("MZ\x90\x00\x03"), "consent.pdf", "", int8(0)) // an executable renamed
	f.Add([]byte("\x89PNG\r\n\x1a"), "short.png", "", int8(0))  // one byte short of the magic
	f.Add([]byte(" %PDF-1.7"), "space.pdf", "", int8(0))        // magic not first
	f.Add(pdf, "consent.pdf", strings.Repeat("0", 64), int8(0)) // a hash given, not its own
	f.Add(pdf, "consent.pdf", pumpledger.SumSHA256(pdf), int8(0))
	f.Add([]byte{}, "empty.pdf", "", int8(0))
	f.Add(pdf, "max.pdf", "", int8(-1))
	f.Add(pdf, "over.pdf", "", int8(1))
	f.Fuzz(func(t *testing.T, data []byte, name, given string, size int8) {
		content := append([]byte{}, data...)
		if (size == 1 || size == -1) && len(data) <= pumpledger.MaxAttachmentBytes {
			if huge == nil {
				huge = make([]byte, pumpledger.MaxAttachmentBytes+1)
			}
			n := copy(huge, data)
			defer clear(huge[:n])
			content = huge[:pumpledger.MaxAttachmentBytes]
			if size == 1 {
				content = huge
			}
		}
		kind := ""
		for magic, mt := range map[string]string{"%PDF-": "application/pdf", "\x89PNG\r\n\x1a\n": "image/png", "\xff\xd8\xff": "image/jpeg"} {
			if bytes.HasPrefix(content, []byte(magic)) {
				kind = mt
			}
		}
		sum := sha256.Sum256(content)
		own := hex.EncodeToString(sum[:])
		accept := kind != "" && len(content) <= pumpledger.MaxAttachmentBytes && (given == "" || given == own)

		a := pumpledger.Attachment{SHA256: given, Name: name, Content: content}
		err := a.Settle("document")
		refusal(t, err)
		if (err == nil) != accept {
			t.Fatalf("%d bytes beginning %q, hash given %q: Settle = %v, want accepted %v", len(content), content[:min(len(content), 8)], given, err, accept)
		}
		if err == nil && (a.SHA256 != own || a.Size != int64(len(content)) || a.MediaType != kind) {
			t.Fatalf("settled as %s, %d bytes of %s; the bytes are %s, %d bytes of %s", a.SHA256, a.Size, a.MediaType, own, len(content), kind)
		}
		mt, err := pumpledger.SniffDocument("document", name, content)
		refusal(t, err)
		if document := kind != "" && len(content) <= pumpledger.MaxAttachmentBytes; (err == nil) != document || mt != map[bool]string{true: kind}[document] {
			t.Fatalf("SniffDocument = %q, %v; want %q", mt, err, kind)
		}

		// Cited by hash alone: only the hash's shape is checked.
		cite := pumpledger.Attachment{SHA256: given}
		err = cite.Settle("document")
		refusal(t, err)
		wellFormed := len(given) == 64 && strings.Trim(given, "0123456789abcdef") == ""
		if (err == nil) != wellFormed {
			t.Fatalf("cited by hash %q: Settle = %v, want accepted %v", given, err, wellFormed)
		}
	})
}

// refusal fails t unless err is nil or one EINVALID line naming its field.
func refusal(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *pumpledger.Error
	if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Message == "" || strings.Contains(e.Message, "\n") || !strings.HasPrefix(e.Message, e.Field+" ") {
		t.Fatalf("err = %#v, want one EINVALID line beginning with its field", err)
	}
}
