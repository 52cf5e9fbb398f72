package pumpledger

import "github.com/shopspring/decimal"

// Submission records one claim of an 837P interchange as sent (`bill
// --format 837p --submit`): what it billed, in which file, and the tree
// size that covers every entry it billed. A claim sent again after a
// correction is a replacement (frequency 7) or a void (8) of the last one
// recorded for its claim id; a claim sent and unchanged is not sent again.
type Submission struct {
	ID            string `json:"id"`
	MRN           string `json:"mrn"`
	ClaimID       string `json:"claim_id"` // CLM01
	DateOfService string `json:"date_of_service"`
	Frequency     string `json:"frequency"`          // CLM05-3: 1 original, 7 replacement, 8 void
	Original      string `json:"original,omitempty"` // REF*F8: the claim replaced or voided
	// Entries are the visits whose lines it billed; Lines the lines.
	Entries []string        `json:"entries"`
	Lines   []SubmittedLine `json:"lines"`
	Total   decimal.Decimal `json:"total"` // CLM02
	// Interchange is the file's control number (ISA13), FileSHA256 its
	// hash, TreeSize the ledger's size when it was written: the checkpoint
	// of that size covers every entry billed.
	Interchange int64  `json:"interchange"`
	FileSHA256  string `json:"file_sha256"`
	TreeSize    int64  `json:"tree_size"`
	// Payer is whom it was sent to: its replacement or void goes to the
	// same payer, whatever the coverage on file says since. A submission
	// recorded before this was kept has none; its replacement or void goes
	// to the payer of the coverage in force on the date of service as the
	// ledger stands when it is written.
	Payer *SubmittedPayer `json:"payer,omitempty"`
}

// SubmittedPayer is the payer and the coverage a claim was sent under
// (2000B SBR, 2010BA NM1*IL, 2010BB NM1*PR), as sent.
type SubmittedPayer struct {
	Profile  string `json:"profile"`         // the coverage's payer profile id
	Coverage string `json:"coverage"`        // the coverage entry's id
	ID       string `json:"id"`              // 2010BB NM109
	Name     string `json:"name"`            // 2010BB NM103
	Filing   string `json:"filing"`          // SBR09
	MemberID string `json:"member_id"`       // 2010BA NM109
	Group    string `json:"group,omitempty"` // SBR03
	Plan     string `json:"plan,omitempty"`  // SBR04
	Priority string `json:"priority"`        // SBR01's: primary, secondary or tertiary
}

// SubmittedLine is one service line as sent.
type SubmittedLine struct {
	EntryID   string          `json:"entry_id"`
	Code      string          `json:"code"`
	Modifiers []string        `json:"modifiers"`
	Units     int64           `json:"units"`
	NDC       string          `json:"ndc,omitempty"`
	NDCQty    decimal.Decimal `json:"ndc_qty,omitzero"`
	NDCUnit   string          `json:"ndc_unit,omitempty"`
	Narrative string          `json:"narrative,omitempty"`
	Drug      string          `json:"drug,omitempty"`
	Charge    decimal.Decimal `json:"charge"`
}
