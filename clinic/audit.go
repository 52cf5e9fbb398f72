package clinic

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/audit"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
)

// AuditPacket is the audit packet of patient mrn (SPEC §12): every entry
// of the patient whose clinical date is in [from, to] ("" for no bound),
// with the corrections that voided any of them, each as stored with its
// inclusion proof against the one signed checkpoint kept for the tree they
// are read from; the documents they cite; the claim lines of their dates
// of service. It reads only: the public key, never the private one.
func (db *Service) AuditPacket(ctx context.Context, mrn, from, to string) (*audit.Packet, error) {
	for _, d := range []struct{ field, v string }{{"from", from}, {"to", to}} {
		if _, err := pumpledger.ParseDate(d.v); d.v != "" && err != nil {
			return nil, pumpledger.Invalid(d.field, "--%s must be a date like 2026-03-01, not %q.", d.field, d.v)
		}
	}
	if from != "" && to != "" && to < from {
		return nil, pumpledger.Invalid("to", "--to %s is before --from %s; swap the two dates.", to, from)
	}
	p := &audit.Packet{Format: audit.Format, MRN: mrn, From: from, To: to, Made: db.Now().UTC(),
		Entries: []audit.Entry{}, Attachments: []audit.Attachment{}, Claims: []audit.Claim{}}
	var billed []int64 // the live visits, for their claim lines
	err := db.View(func(tx *ledger.Tx) error {
		cp, err := tx.Checkpoint()
		if err != nil {
			return err
		}
		p.Ledger, p.VerifierKey, p.Checkpoint = db.ID(), cp.Verifier, string(cp.Note)
		seqs := tx.Filed(ledger.ByPatient, mrn)
		if len(seqs) == 0 {
			return unknownPatient(mrn)
		}
		records := newRecords(db, tx)
		docs := map[string]int{} // sha256 → index in p.Attachments
		in := map[int64]bool{}
		var voiding []int64 // corrections of entries in the packet
		for _, seq := range seqs {
			e, err := tx.Entry(seq)
			if err != nil {
				return err
			}
			date := e.Performed().Date()
			if e.Kind != pumpledger.KindCorrection && (from != "" && date < from || to != "" && date > to) {
				continue
			}
			if e.Kind == pumpledger.KindCorrection && (from != "" || to != "") {
				continue // taken below if it voided an entry of the packet
			}
			if err := db.packEntry(tx, p, e, records, docs); err != nil {
				return err
			}
			in[seq] = true
			if c, void := tx.VoidedBy(seq); void {
				voiding = append(voiding, c)
			} else if e.Kind == pumpledger.KindRefill || e.Kind == pumpledger.KindReprogram {
				billed = append(billed, seq)
			}
		}
		slices.Sort(voiding)
		for _, c := range slices.Compact(voiding) {
			if in[c] {
				continue
			}
			e, err := tx.Entry(c)
			if err != nil {
				return err
			}
			if err := db.packEntry(tx, p, e, records, docs); err != nil {
				return err
			}
		}
		slices.SortFunc(p.Entries, func(a, b audit.Entry) int { return int(a.Index - b.Index) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Claims, err = db.packClaims(ctx, billed)
	return p, err
}

// packEntry adds entry e to the packet: its stored bytes, its proof, the
// correction that voided it, the record derived of a live refill, and the
// documents it cites.
func (db *Service) packEntry(tx *ledger.Tx, p *audit.Packet, e ledger.Entry, records *records, docs map[string]int) error {
	stored, err := tx.Stored(e.Seq)
	if err != nil {
		return err
	}
	proof, err := tx.ProveRecord(e.Seq)
	if err != nil {
		return err
	}
	pe := audit.Entry{Index: e.Seq, ID: e.ID, Kind: string(e.Kind), Stored: string(stored), Proof: make([]string, len(proof))}
	for i, h := range proof {
		pe.Proof[i] = h.String()
	}
	c, cp, void, err := voidOf(tx, e.Seq)
	if err != nil {
		return err
	}
	if void {
		pe.VoidedBy, pe.VoidReason = c.ID, cp.Reason
	} else if e.Kind == pumpledger.KindRefill {
		rec, ok, err := records.of(e)
		if err != nil {
			return err
		}
		if ok {
			if pe.Derived, err = json.Marshal(rec); err != nil {
				return err
			}
		}
	}
	p.Entries = append(p.Entries, pe)
	spec, ok := pumpledger.KindOf(e.Kind)
	if !ok || !spec.Attaches {
		return nil
	}
	payload := spec.Payload()
	if err := e.DecodePayload(payload); err != nil {
		return err
	}
	for _, a := range pumpledger.AttachmentsOf(payload) {
		if i, seen := docs[a.SHA256]; seen {
			p.Attachments[i].CitedBy = append(p.Attachments[i].CitedBy, e.ID)
			continue
		}
		pa := audit.Attachment{SHA256: a.SHA256, MediaType: a.MediaType, Name: a.Name, Size: a.Size, CitedBy: []string{e.ID}}
		if a.Size <= audit.MaxEmbed {
			data, err := tx.Attachment(a.SHA256)
			if err != nil && !errors.Is(err, ledger.ErrNoAttachment) {
				return err
			}
			if len(data) <= audit.MaxEmbed {
				pa.Data = data
			}
		}
		docs[a.SHA256] = len(p.Attachments)
		p.Attachments = append(p.Attachments, pa)
	}
	return nil
}

// packClaims is the claim lines of the live visits seqs, as a bill gives
// them now (each with its payer's profile), by date of service, with the
// catalog version in force that day.
func (db *Service) packClaims(ctx context.Context, seqs []int64) ([]audit.Claim, error) {
	out := []audit.Claim{}
	if len(seqs) == 0 {
		return out, nil
	}
	size, err := db.Size()
	if err != nil {
		return nil, err
	}
	visits, err := db.pricedVisits(seqs, size)
	if err != nil {
		return nil, err
	}
	var lines []billing.Line
	for _, v := range visits {
		lines = v.appendTo(lines, &[]string{})
	}
	slices.SortStableFunc(lines, func(a, b billing.Line) int {
		if a.DateOfService < b.DateOfService {
			return -1
		}
		if a.DateOfService > b.DateOfService {
			return 1
		}
		return 0
	})
	for _, l := range lines {
		if n := len(out); n == 0 || out[n-1].DateOfService != l.DateOfService {
			pin, err := db.CatalogOn(ctx, l.DateOfService)
			if err != nil {
				return nil, err
			}
			out = append(out, audit.Claim{DateOfService: l.DateOfService, CatalogVersion: pin.Version, CatalogEntry: pin.EntryID, CatalogSHA256: pin.SHA256})
		}
		out[len(out)-1].Lines = append(out[len(out)-1].Lines, l)
	}
	return out, nil
}
