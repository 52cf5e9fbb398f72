package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/audit"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/internal/safefile"
	"github.com/pumpledger/pumpledger/witness"
)

// key prints the public verifier key: it reads LEDGER.pub, never the
// signing key.
func (a *app) key(args []string) error {
	fs := a.flags("key")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	var k string
	if err := a.read(func(db clinic.Ledger) (err error) { k, err = db.VerifierKey(); return err }); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, k)
	return nil
}

// auditPacket writes a patient's audit packet to a new file, 0600 (it is
// the patient's record), whole or not at all.
func (a *app) auditPacket(args []string) error {
	fs := a.flags("audit packet")
	mrn := fs.String("mrn", "", "the patient's MRN")
	from := fs.String("from", "", "first date of the entries' clinical time, YYYY-MM-DD (default: the first)")
	to := fs.String("to", "", "last date, YYYY-MM-DD (default: the last)")
	out := fs.String("out", "", "the file to create (FILE.html, or FILE.json with --format json)")
	format := fs.String("format", "html", "html (a page that verifies itself) or json")
	if err := a.parse(fs, args, "mrn", "out"); err != nil {
		return err
	}
	if *format != "html" && *format != "json" {
		return pumpledger.Invalid("format", "--format must be html or json, not %q.", *format)
	}
	exists := func() error {
		return pumpledger.Invalid("out", "The file %s exists; remove it or choose another name for --out.", *out)
	}
	if _, err := os.Lstat(a.path(*out)); err == nil {
		return exists()
	}
	var p *audit.Packet
	if err := a.read(func(db clinic.Ledger) (err error) {
		p, err = db.AuditPacket(context.Background(), *mrn, *from, *to)
		return err
	}); err != nil {
		return err
	}
	var buf bytes.Buffer
	if *format == "json" {
		b, err := p.JSON()
		if err != nil {
			return err
		}
		buf.Write(b)
	} else if err := p.WriteHTML(&buf); err != nil {
		return err
	}
	err := safefile.WriteNew(a.path(*out), 0o600, func(f *os.File) error { _, err := f.Write(buf.Bytes()); return err })
	if errors.Is(err, os.ErrExist) {
		return exists()
	} else if err != nil {
		return pumpledger.Invalid("out", "Cannot write the file %s (%v); choose a path in a directory you can write to.", *out, err)
	}
	fmt.Fprintf(a.stdout, "Wrote the audit packet of %s to %s: %d entries, %d documents, %d dates of service, each entry proven against the checkpoint of %s; its verifier key is\n%s\n",
		*mrn, *out, len(p.Entries), len(p.Attachments), len(p.Claims), strings.SplitN(p.Checkpoint, "\n", 3)[1]+" entries", p.VerifierKey)
	if w := cosigners(p); len(w) > 0 {
		fmt.Fprintf(a.stdout, "The checkpoint carries the cosignature of %s: the auditor checks it with audit verify --witness-key, or in the page, with the witness's key.\n", strings.Join(w, ", "))
	} else {
		fmt.Fprintln(a.stdout, "The checkpoint carries no witness's cosignature: if the ledger has witnesses, run checkpoint (they cosign the current tree), then write the packet again.")
	}
	return nil
}

// cosigners are the names of the signature lines of the packet's
// checkpoint other than the ledger's own: its witnesses', unverified.
func cosigners(p *audit.Packet) []string {
	_, sigs, _ := strings.Cut(p.Checkpoint, "\n\n")
	var names []string
	for line := range strings.Lines(sigs) {
		f := strings.Fields(line)
		if len(f) == 3 && f[1] != p.Ledger {
			names = append(names, f[1])
		}
	}
	return names
}

// auditVerify checks a packet from the file and the key alone: no ledger.
func (a *app) auditVerify(args []string) error {
	fs := a.flags("audit verify")
	key := fs.String("key", "", "the ledger's verifier key, or its .pub file")
	wkeys := repeated(fs, "witness-key", "a witness's verifier key: its cosignature of the packet's checkpoint is required (repeatable)")
	files, err := a.parseArgs(fs, args, 1, "key")
	if err != nil {
		return err
	}
	var witnesses []*witness.Verifier
	for _, s := range *wkeys {
		w, err := witness.NewVerifier(strings.TrimSpace(s))
		if err != nil {
			return pumpledger.Invalid("witness-key", "--witness-key %q is not a witness's key (%v); give the key the witness publishes, name+hash+key.", s, err)
		}
		witnesses = append(witnesses, w)
	}
	if len(files) == 0 {
		return usageErr("audit verify needs the packet FILE")
	}
	k := *key
	if !strings.Contains(k, "+") { // a key has two '+'; a file name is read
		b, err := safefile.ReadFile(a.path(k), 4096)
		if err != nil {
			return pumpledger.Invalid("key", "Cannot read the key file %s (%v); give the verifier key itself or its .pub file.", k, err)
		}
		k = string(b)
	}
	data, err := safefile.ReadFile(a.path(files[0]), audit.MaxPacket)
	if err != nil {
		return pumpledger.Invalid("file", "Cannot read the packet %s (%v).", files[0], err)
	}
	p, err := audit.Parse(data)
	if err != nil {
		return pumpledger.Invalid("file", "The file %s is not an audit packet: %v.", files[0], err)
	}
	res, err := audit.Verify(p, k)
	for _, r := range res {
		if r.Problem != "" {
			fmt.Fprintf(a.stderr, "NOT VERIFIED: entry %s (index %d): %s.\n", r.ID, r.Index, r.Problem)
		}
	}
	if err != nil {
		return err
	}
	cosigned, err := audit.VerifyCosignatures(p, witnesses)
	if err != nil {
		return err
	}
	embedded := 0
	for _, d := range p.Attachments {
		if d.Data != nil {
			embedded++
		}
	}
	fmt.Fprintf(a.stdout, "ok: all %d entries of %s are proven against the checkpoint of %s entries signed by %s; %d of %d documents cited are embedded and match their hashes.\n",
		len(res), p.MRN, strings.SplitN(p.Checkpoint, "\n", 3)[1], p.Ledger, embedded, len(p.Attachments))
	for _, c := range cosigned {
		fmt.Fprintf(a.stdout, "ok: the checkpoint is cosigned by the witness %s at %s.\n", c.Name, c.Time.Format(time.RFC3339))
	}
	return nil
}
