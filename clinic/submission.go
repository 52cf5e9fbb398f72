package clinic

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/x12"
	"github.com/shopspring/decimal"
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

// SentClaim is one claim as sent (a submission entry) and where it stands
// now: `submissions`, the bill page's claims sent, /api/submissions.
type SentClaim struct {
	ID            string `json:"id"` // the submission entry
	ClaimID       string `json:"claim_id"`
	MRN           string `json:"mrn"`
	DateOfService string `json:"date_of_service"`
	Frequency     string `json:"frequency"`          // 1 original, 7 replacement, 8 void
	Original      string `json:"original,omitempty"` // REF*F8 as sent
	// Replaces is the submission entry this one replaced or voided (the
	// claim's previous one), sent in interchange ReplacesInterchange.
	Replaces            string          `json:"replaces,omitempty"`
	ReplacesInterchange int64           `json:"replaces_interchange,omitempty"`
	Total               decimal.Decimal `json:"total"`
	Lines               int             `json:"lines"`
	Interchange         int64           `json:"interchange"`
	FileSHA256          string          `json:"file_sha256"`
	TreeSize            int64           `json:"tree_size"`
	RecordedAt          time.Time       `json:"recorded_at"`
	RecordedBy          string          `json:"recorded_by"`
	// State is where the claim stands now (Claim*), SupersededBy the later
	// submission of the same claim that made it so.
	State        string `json:"state"`
	SupersededBy string `json:"superseded_by,omitempty"`
}

// A claim sent is the claim's latest (ClaimCurrent) until a later
// submission of its claim id replaces it (7), voids it (8) or, after a
// void, sends the claim id again as an original (a new visit that day).
const (
	ClaimCurrent  = "current"
	ClaimReplaced = "replaced"
	ClaimVoided   = "voided"
	ClaimResent   = "resent"
)

var supersededAs = map[string]string{x12.Replacement: ClaimReplaced, x12.Void: ClaimVoided, x12.Original: ClaimResent}

// Submissions lists every claim sent with a date of service in [from, to]
// (YYYY-MM-DD, inclusive), by date of service, patient, then as recorded,
// each with where it stands now. It reads the submissions alone (the
// by-kind index, as the next interchange does), not the ledger: a claim
// id is its patient and date of service, so every submission of a claim
// is in the same range. A submission voided by a correction is not listed,
// as the next interchange does not count it.
func (db *Service) Submissions(_ context.Context, from, to string) ([]SentClaim, error) {
	if err := billing.CheckPeriod(from, to); err != nil {
		return nil, err
	}
	out := []SentClaim{}
	err := db.View(func(tx *ledger.Tx) error {
		last := map[string]int{} // claim id → its latest in out
		for _, seq := range tx.Filed(ledger.ByKind, submissionKind) {
			if _, void := tx.VoidedBy(seq); void {
				continue
			}
			e, err := tx.Entry(seq)
			if err != nil {
				return err
			}
			var dated struct {
				DateOfService string `json:"date_of_service"`
			}
			if err := e.DecodePayload(&dated); err != nil {
				return err
			}
			if dated.DateOfService < from || dated.DateOfService > to {
				continue
			}
			var s pumpledger.Submission
			if err := e.DecodePayload(&s); err != nil {
				return err
			}
			c := SentClaim{ID: e.ID, ClaimID: s.ClaimID, MRN: s.MRN, DateOfService: s.DateOfService, Frequency: s.Frequency, Original: s.Original,
				Total: s.Total, Lines: len(s.Lines), Interchange: s.Interchange, FileSHA256: s.FileSHA256, TreeSize: s.TreeSize,
				RecordedAt: e.RecordedAt, RecordedBy: e.RecordedBy, State: ClaimCurrent}
			if i, ok := last[s.ClaimID]; ok {
				prev := &out[i]
				prev.State, prev.SupersededBy = cmp.Or(supersededAs[s.Frequency], ClaimReplaced), e.ID
				c.Replaces, c.ReplacesInterchange = prev.ID, prev.Interchange
			}
			last[s.ClaimID] = len(out)
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b SentClaim) int {
		return cmp.Or(cmp.Compare(a.DateOfService, b.DateOfService), cmp.Compare(a.MRN, b.MRN))
	})
	return out, nil
}
