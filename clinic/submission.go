package clinic

import (
	"context"
	"slices"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/x12"
)

// Claim history (SPEC §13): each claim of an interchange sent is recorded
// (RecordSubmissions), and the next interchange reads them: a claim sent
// and unchanged is not sent again, one whose visits were corrected since is
// sent as a replacement (frequency 7), and one whose visits were all voided
// as a void (8), each naming the claim it replaces or voids (REF*F8).

const submissionKind = string(pumpledger.KindSubmission)

// RecordSubmissions records the claims of an interchange as sent, in one
// transaction (all or none).
func (db *Service) RecordSubmissions(ctx context.Context, subs []pumpledger.Submission) error {
	by, err := actor(ctx)
	if err != nil || len(subs) == 0 {
		return err
	}
	return db.Import(len(subs), func() error {
		for _, s := range subs {
			s.ID = newID(s.ID)
			payload := ledger.Canonical(s)
			if _, err := db.write(ctx, s.ID, pumpledger.KindSubmission, payload, func(tx *ledger.Tx) ([]ledger.Entry, *Result, error) {
				e := db.Envelope(s.ID, pumpledger.KindSubmission, by, pumpledger.NewInstant(db.Now()), payload)
				e.Late = false
				return []ledger.Entry{e}, &Result{}, nil
			}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// Submissions are the claims of an interchange as sent: what
// RecordSubmissions records once the file has gone.
func Submissions(ic x12.Interchange, fileSHA256 string, treeSize int64) []pumpledger.Submission {
	out := make([]pumpledger.Submission, 0, len(ic.Claims))
	for _, c := range ic.Claims {
		s := pumpledger.Submission{MRN: c.Patient.MRN, ClaimID: c.ID, DateOfService: c.DateOfService, Frequency: c.Frequency, Original: c.Original,
			Total: c.Total(), Interchange: ic.Control, FileSHA256: fileSHA256, TreeSize: treeSize, Entries: []string{}}
		if c.Payer.ID != "" {
			s.Payer = &pumpledger.SubmittedPayer{Profile: c.Coverage.Payer, Coverage: c.Coverage.ID, ID: c.Payer.ID, Name: c.Payer.Name, Filing: c.Filing,
				MemberID: c.Coverage.MemberID, Group: c.Coverage.Group, Plan: c.Coverage.Plan, Priority: c.Coverage.Priority}
		}
		for _, l := range c.Lines {
			if !slices.Contains(s.Entries, l.EntryID) {
				s.Entries = append(s.Entries, l.EntryID)
			}
			s.Lines = append(s.Lines, pumpledger.SubmittedLine{EntryID: l.EntryID, Code: l.Code, Modifiers: nonNilStrings(l.Modifiers), Units: l.Units,
				NDC: l.NDC, NDCQty: l.NDCQty, NDCUnit: l.NDCUnit, Narrative: l.Narrative, Drug: l.Drug, Charge: l.Charge})
		}
		if s.MRN == "" && len(c.Lines) > 0 {
			s.MRN = c.Lines[0].MRN
		}
		out = append(out, s)
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// sentClaims is the last live submission of each claim id.
func sentClaims(tx *ledger.Tx) (map[string]pumpledger.Submission, error) {
	out := map[string]pumpledger.Submission{}
	for _, seq := range tx.Filed(ledger.ByKind, submissionKind) {
		if _, void := tx.VoidedBy(seq); void {
			continue
		}
		e, err := tx.Entry(seq)
		if err != nil {
			return nil, err
		}
		var s pumpledger.Submission
		if err := e.DecodePayload(&s); err != nil {
			return nil, err
		}
		out[s.ClaimID] = s
	}
	return out, nil
}

// sameLines says whether a claim's lines are those sent: the same visits
// billed the same way.
func sameLines(sent []pumpledger.SubmittedLine, lines []billing.Line) bool {
	if len(sent) != len(lines) {
		return false
	}
	for i, l := range lines {
		s := sent[i]
		if s.EntryID != l.EntryID || s.Code != l.Code || !slices.Equal(s.Modifiers, nonNilStrings(l.Modifiers)) || s.Units != l.Units ||
			s.NDC != l.NDC || !s.NDCQty.Equal(l.NDCQty) || s.NDCUnit != l.NDCUnit || s.Narrative != l.Narrative {
			return false
		}
	}
	return true
}

// withdrawn says whether every visit a claim billed was voided with no
// replacement: the claim is to be voided, not replaced (a visit corrected,
// or held back by the check, is not withdrawn).
func withdrawn(tx *ledger.Tx, ids []string) (bool, error) {
	for _, id := range ids {
		e, err := tx.EntryByID(id)
		if err != nil {
			return false, err
		}
		cseq, void := tx.VoidedBy(e.Seq)
		if !void {
			return false, nil
		}
		c, err := tx.Entry(cseq)
		if err != nil {
			return false, err
		}
		cp, err := c.Correction()
		if err != nil || cp.Replacement != "" {
			return false, err
		}
	}
	return len(ids) > 0, nil
}

// sentLines are a submission's lines as bill lines, to fill its void.
func sentLines(s pumpledger.Submission) []billing.Line {
	out := make([]billing.Line, len(s.Lines))
	for i, l := range s.Lines {
		out[i] = billing.Line{DateOfService: s.DateOfService, MRN: s.MRN, EntryID: l.EntryID, Code: l.Code, Modifiers: l.Modifiers, Units: l.Units,
			NDC: l.NDC, NDCQty: l.NDCQty, NDCUnit: l.NDCUnit, Narrative: l.Narrative, Drug: l.Drug}
	}
	return out
}
