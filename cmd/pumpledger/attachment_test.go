package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/internal/safefile"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

// signedConsentPDF stands in for a scanned, signed consent form.
var signedConsentPDF = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nsigned consent form\n%%EOF\n")

// storeConsent records, with the store directly (the consent command is
// not this test's), a consent entry citing data, its bytes stored in the
// same write, and returns the entry's id and the document's hash.
func storeConsent(t *testing.T, path string, data []byte) (id, sha string) {
	t.Helper()
	db, err := clinic.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	doc := pumpledger.Attachment{Name: "consent.pdf", Content: data}
	if err := doc.Settle("document"); err != nil {
		t.Fatal(err)
	}
	c := pumpledger.Consent{ID: "0f6a7b1c-2d3e-4f50-8a9b-1c2d3e4f5a6b", MRN: "MRN-1", Date: "2026-02-01", SignedBy: "Test Patient", Document: &doc}
	e := db.Envelope(c.ID, pumpledger.KindConsent, "clerk", pumpledger.NewInstant(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)), ledger.Canonical(c))
	if _, err := db.Write(e.ID, e.Kind, e.Payload, func(tx *ledger.Tx) ([]ledger.Entry, error) {
		_, err := tx.PutAttachment(data)
		return []ledger.Entry{e}, err
	}, nil); err != nil {
		t.Fatal(err)
	}
	return c.ID, doc.SHA256
}

// TestE2EAttachmentGet: a stored document comes out byte for byte, into a
// new 0600 file or to stdout; an existing file, an unknown or malformed
// hash, and a document altered in the ledger are each refused with their
// sentence, exit 1, nothing written.
func TestE2EAttachmentGet(t *testing.T) {
	p := newProc(t)
	p.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	id, sha := storeConsent(t, p.db(), signedConsentPDF)
	const dbPath = "pumpledger.db" // the default, as the ledger names itself

	out := p.ok("", "attachment", "get", "--sha256", sha, "--out", "consent.pdf")
	if want := "Wrote document " + sha + " (71 bytes) to consent.pdf.\n"; out != want {
		t.Errorf("attachment get printed %q, want %q", out, want)
	}
	got := filepath.Join(p.dir, "consent.pdf")
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, signedConsentPDF) {
		t.Errorf("the file written holds %q (%v), not the document stored", b, err)
	}
	if st, err := os.Stat(got); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the file written: %v, %v; want mode 0600 (PHI)", st, err)
	}
	if stale := safefile.Stale(got); len(stale) > 0 {
		t.Errorf("temporary files left: %v", stale)
	}
	if out := p.ok("", "attachment", "get", "--sha256", sha, "--out", "-"); out != string(signedConsentPDF) {
		t.Errorf("--out - printed %q, not the document", out)
	}
	if out := p.ok("", "verify"); !strings.HasSuffix(out, ", 3 signed checkpoints checked, 1 stored document checked against its SHA-256.\n") {
		t.Errorf("verify printed %q", out)
	}

	unknown := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"existing out file", []string{"--sha256", sha, "--out", "consent.pdf"},
			"The file consent.pdf exists; remove it or choose another name for --out."},
		{"unknown hash", []string{"--sha256", unknown, "--out", "other.pdf"},
			"No document with SHA-256 " + unknown + " is stored in the ledger " + dbPath + "; `pumpledger history --mrn M` lists what a patient has on file."},
		{"malformed hash", []string{"--sha256", strings.ToUpper(sha[:10]), "--out", "other.pdf"},
			`--sha256 must be a SHA-256 of 64 lower-case hex digits, as sha256sum prints it, not "` + strings.ToUpper(sha[:10]) + `".`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := p.run("", append([]string{"attachment", "get"}, tc.args...)...)
			if o.code != 1 || o.stdout != "" || o.stderr != "pumpledger: "+tc.want+"\n" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and\npumpledger: %s", o.code, o.stdout, o.stderr, tc.want)
			}
		})
	}
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, signedConsentPDF) {
		t.Errorf("the refused get changed the existing file: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "other.pdf")); !os.IsNotExist(err) {
		t.Errorf("a refused get wrote other.pdf: %v", err)
	}

	// A byte of the stored document changed outside pumpledger: it is not
	// handed out, and verify names the entry citing it.
	b, err := bolt.Open(p.db(), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bolt.Tx) error {
		docs := tx.Bucket([]byte("attachments"))
		v := bytes.Clone(docs.Get([]byte(sha)))
		v[len(v)-3] ^= 0x20
		return docs.Put([]byte(sha), v)
	}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	o := p.run("", "attachment", "get", "--sha256", sha, "--out", "altered.pdf")
	if want := "pumpledger: The document stored as " + sha + " no longer hashes to it, so it is not handed out: it was altered outside pumpledger; run `pumpledger verify --db " + dbPath + "` and restore the ledger from your backup.\n"; o.code != 1 || o.stderr != want || o.stdout != "" {
		t.Errorf("get of an altered document: exit %d, stdout %q, stderr %q; want exit 1 and %q", o.code, o.stdout, o.stderr, want)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "altered.pdf")); !os.IsNotExist(err) {
		t.Errorf("the altered document was written out: %v", err)
	}
	o = p.run("", "verify")
	if want := "pumpledger: Entry " + id + " (consent) cites document " + sha + ", whose stored bytes no longer hash to it: the document was altered (ledger does not match its tree).\n"; o.code != 1 || o.stderr != want {
		t.Errorf("verify of an altered document: exit %d, stderr %q; want exit 1 and %q", o.code, o.stderr, want)
	}
}
