package ledger

import (
	"errors"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	bolt "go.etcd.io/bbolt"
)

// The documents entries cite, as verify checks them: a byte changed in a
// stored document, a document removed or added outside pumpledger, and an
// entry that misdescribes its document each fail verify, the first three
// naming the entry and the document.

// A stand-in for a scanned consent form: a PDF by its first bytes.
var consentPDF = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nsigned consent form\n%%EOF\n")

// docLedger is the path of a raw ledger, closed, holding a consent entry
// citing doc, with data stored in the entry's write.
func docLedger(t *testing.T, doc pumpledger.Attachment, data []byte) (path string, e Entry) {
	t.Helper()
	db := createRaw(t, Options{NoSync: true, Now: func() time.Time { return time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC) }})
	c := pumpledger.Consent{ID: "c0a5e4b2-1d3f-4e5a-9b7c-8d9e0f1a2b3c", MRN: "MRN-1", Date: "2030-01-02", SignedBy: "patient", Document: &doc}
	e = db.Envelope(c.ID, pumpledger.KindConsent, "clerk", pumpledger.NewInstant(db.Now()), Canonical(c))
	if _, err := db.Write(e.ID, e.Kind, e.Payload, func(tx *Tx) ([]Entry, error) {
		_, err := tx.PutAttachment(data)
		return []Entry{e}, err
	}, nil); err != nil {
		t.Fatal(err)
	}
	path = db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, e
}

// citing is the attachment an entry records for data.
func citing(data []byte) pumpledger.Attachment {
	a := pumpledger.Attachment{Name: "consent.pdf", Content: data}
	if err := a.Settle("document"); err != nil {
		panic(err)
	}
	a.Content = nil
	return a
}

// editDocs changes the attachments bucket of the closed ledger at path with
// bbolt directly, as someone with the file but not our code would.
func editDocs(t *testing.T, path string, fn func(b *bolt.Bucket) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketAttachments)) }); err != nil {
		t.Fatal(err)
	}
}

// verifyFile opens the ledger at path read-only and verifies it.
func verifyFile(t *testing.T, path string) (VerifyResult, error) {
	t.Helper()
	db, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.Verify()
}

func TestVerifyDocuments(t *testing.T) {
	sha := pumpledger.SumSHA256(consentPDF)
	const id = "c0a5e4b2-1d3f-4e5a-9b7c-8d9e0f1a2b3c"
	other := []byte("\x89PNG\r\n\x1a\nnot cited by anyone")
	misdescribed := citing(consentPDF)
	misdescribed.Size++
	for _, tc := range []struct {
		name string
		doc  pumpledger.Attachment
		edit func(b *bolt.Bucket) error
		want string // the whole message; "" = verify passes
	}{
		{name: "unchanged", doc: citing(consentPDF)},
		{name: "a byte flipped inside the document", doc: citing(consentPDF), edit: func(b *bolt.Bucket) error {
			v := append([]byte(nil), b.Get([]byte(sha))...)
			v[len(v)/2] ^= 0x01
			return b.Put([]byte(sha), v)
		}, want: "Entry " + id + " (consent) cites document " + sha + ", whose stored bytes no longer hash to it: the document was altered (ledger does not match its tree)."},
		{name: "the document removed", doc: citing(consentPDF), edit: func(b *bolt.Bucket) error {
			return b.Delete([]byte(sha))
		}, want: "Entry " + id + " (consent) cites document " + sha + ", which is not stored: it was removed outside pumpledger (ledger does not match its tree)."},
		{name: "a document no entry cites added", doc: citing(consentPDF), edit: func(b *bolt.Bucket) error {
			return b.Put([]byte(pumpledger.SumSHA256(other)), other)
		}, want: "Document " + pumpledger.SumSHA256(other) + " is stored but no entry cites it: it was added outside pumpledger (ledger does not match its tree)."},
		{name: "a document added under a key that is no hash", doc: citing(consentPDF), edit: func(b *bolt.Bucket) error {
			return b.Put([]byte("added"), other)
		}, want: `Document "added" is stored but no entry cites it: it was added outside pumpledger (ledger does not match its tree).`},
		{name: "the entry misstates the document's size", doc: misdescribed,
			want: "Entry " + id + " (consent) cites document " + sha + " as 72 bytes of application/pdf, but the one stored is 71 bytes of application/pdf: the entry does not describe it (ledger does not match its tree)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := docLedger(t, tc.doc, consentPDF)
			if tc.edit != nil {
				editDocs(t, path, tc.edit)
			}
			res, err := verifyFile(t, path)
			if tc.want == "" {
				if err != nil || res.Documents != 1 || res.Entries != 2 {
					t.Fatalf("verify = %+v, %v; want 2 entries and 1 document", res, err)
				}
				return
			}
			var pe *pumpledger.Error
			if !errors.As(err, &pe) || pe.Code != pumpledger.EINVALID || !errors.Is(err, ErrTampered) {
				t.Fatalf("verify = %v; want an EINVALID error wrapping ErrTampered", err)
			}
			if got := pumpledger.ErrorMessage(err); got != tc.want {
				t.Errorf("verify said\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
