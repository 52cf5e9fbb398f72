package pumpledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
)

// Attachments: the documents a payer asks to see (a signed consent form, an
// authorization letter, a specialist's evaluation). The ledger holds each
// one's bytes once, keyed by their SHA-256; the entry that cites one holds
// the hash, so the tree that proves the entry proves the document too.

// MaxAttachmentBytes bounds one attachment: 20 MB, more than a scanned
// multi-page consent form needs, and what clearinghouses commonly accept
// for one claim attachment.
const MaxAttachmentBytes = 20 << 20

// Attachment is a document an entry cites. In a stored entry it is its
// hash, kind and size; on input it is a file's path (Path, read by the
// command line into Content) or, to cite a document already stored, its
// sha256.
type Attachment struct {
	SHA256    string `json:"sha256"`     // hex SHA-256 of the bytes, as sha256sum prints it
	MediaType string `json:"media_type"` // application/pdf, image/png or image/jpeg, from the bytes
	Size      int64  `json:"size"`       // bytes; 0 when cited by hash and not known
	Name      string `json:"name"`       // the file's base name, as given

	// Path is the file named on input, relative to the input file's
	// directory; Content its bytes, read by whoever reads the input. Neither
	// is stored in the entry.
	Path    string `json:"-"`
	Content []byte `json:"-"`
}

// Attaching is a payload that cites documents.
type Attaching interface {
	Attachments() []*Attachment
}

// AttachmentsOf lists the documents a payload cites (none for most kinds).
func AttachmentsOf(payload any) []*Attachment {
	if a, ok := payload.(Attaching); ok {
		var out []*Attachment
		for _, d := range a.Attachments() {
			if d != nil {
				out = append(out, d)
			}
		}
		return out
	}
	return nil
}

// DocumentTypes are the media types a document may be, as SniffDocument
// names them.
var DocumentTypes = []string{"application/pdf", "image/png", "image/jpeg"}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckSHA256 refuses a hash that is not 64 lower-case hex digits.
func CheckSHA256(field, h string) error {
	if !sha256RE.MatchString(h) {
		return Invalid(field, "%s must be a SHA-256 of 64 lower-case hex digits, as sha256sum prints it, not %q.", field, clip(h))
	}
	return nil
}

// SumSHA256 is the hex SHA-256 of data.
func SumSHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// SniffDocument says what a document's bytes are: PDF, PNG or JPEG, by
// their first bytes (a file's name is not trusted: "consent.pdf" may be a
// renamed executable). field names the input field in a refusal.
func SniffDocument(field, name string, data []byte) (string, error) {
	switch {
	case len(data) == 0:
		return "", Invalid(field, "%s %q is empty; scan or save the document again.", field, clip(name))
	case len(data) > MaxAttachmentBytes:
		return "", Invalid(field, "%s %q is %d bytes, more than the %d MB a document may be; scan it at a lower resolution or split it.", field, clip(name), len(data), MaxAttachmentBytes>>20)
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "application/pdf", nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg", nil
	}
	return "", Invalid(field, "%s %q is not a PDF, PNG or JPEG document (its content says otherwise, whatever its name); save it as PDF and attach that.", field, clip(name))
}

// Settle checks a document read on input and fills in its hash, kind and
// size from its bytes. A document cited by hash only is left as it is: the
// store checks that it holds it.
func (a *Attachment) Settle(field string) error {
	if a.Content == nil {
		return CheckSHA256(field+".sha256", a.SHA256)
	}
	mt, err := SniffDocument(field, a.Name, a.Content)
	if err != nil {
		return err
	}
	sum := SumSHA256(a.Content)
	if a.SHA256 != "" && a.SHA256 != sum {
		if err := CheckSHA256(field+".sha256", a.SHA256); err != nil {
			return err // not a hash at all: said as such, quoted on one line
		}
		return Invalid(field, "%s %q has SHA-256 %s, not the %s given; attach the right file.", field, clip(a.Name), sum, a.SHA256)
	}
	a.SHA256, a.MediaType, a.Size = sum, mt, int64(len(a.Content))
	return nil
}
