package billing

// Finding is one thing the pre-billing check found about a claim line or
// visit (SPEC §10): an error holds the line back from the bill; a warning
// is shown and billed.
type Finding struct {
	Rule          string `json:"rule"`     // stable id, "auth-expired"
	Severity      string `json:"severity"` // "error" or "warning"
	EntryID       string `json:"entry_id"`
	MRN           string `json:"mrn"`
	DateOfService string `json:"date_of_service"`
	Code          string `json:"code"`    // the line's code, "" for the visit
	Message       string `json:"message"` // one plain sentence
	Fix           string `json:"fix"`     // what to do
	Basis         string `json:"basis"`   // the rule's source
}

// Severities.
const (
	Error   = "error"
	Warning = "warning"
)
