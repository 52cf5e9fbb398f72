package clinic

import (
	"context"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/audit"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/pumpledger/pumpledger/witness"
	"github.com/pumpledger/pumpledger/x12"
)

// Ledger is everything the command line asks of the clinic's record: the
// use cases, and the store's proofs. *Service is the one over a ledger
// file this process opens. It is the seam for the web app's server, which
// will hold a ledger for days: bbolt lets one process hold the file, so
// the other commands will then go through the server (a client of this
// interface over a local socket, mode 0600) instead of failing on its lock.
//
// It is declared here, not beside the domain types in package pumpledger,
// because what it returns (refill.Record, billing.Line) is declared in the
// rule packages, which import pumpledger.
type Ledger interface {
	// Recording: ctx carries the actor (pumpledger.WithActor).
	AddPatient(ctx context.Context, p pumpledger.Patient) (Result, error)
	Implant(ctx context.Context, im pumpledger.Implant) (Result, error)
	Explant(ctx context.Context, ex pumpledger.Explant) (Result, error)
	RecordRefill(ctx context.Context, r pumpledger.Refill) (Result, error)
	RecordReprogram(ctx context.Context, r pumpledger.Reprogram) (Result, error)
	RecordClinical(ctx context.Context, payload any) (Result, error)
	Correct(ctx context.Context, voidID, reason string, repl Replacement) (Result, error)
	RecordSite(ctx context.Context, s pumpledger.Site) (Result, error)
	RecordSubmissions(ctx context.Context, subs []pumpledger.Submission) error
	AdoptCatalog(ctx context.Context, content []byte, name, reason, from string) (Result, error)
	Upgrade(ctx context.Context, content []byte, name string) (Result, error)

	// Reading.
	History(ctx context.Context, mrn string) ([]Item, error)
	Chart(ctx context.Context, mrn string) (Chart, error)
	Worklist(ctx context.Context, asOf string, within int) ([]WorkItem, error)
	Patients(ctx context.Context, mrns []string) (map[string]pumpledger.Patient, error)
	Bill(ctx context.Context, from, to string) ([]billing.Line, error)
	Check(ctx context.Context, from, to, asOf string) ([]billing.Finding, error)
	BillChecked(ctx context.Context, from, to, asOf string) ([]billing.Line, []billing.Finding, error)
	CheckLines(ctx context.Context, lines []billing.Line, asOf string) ([]billing.Finding, error)
	Interchange(ctx context.Context, from, to string, lines []billing.Line, asOf string) (x12.Interchange, []Refusal, error)
	Submissions(ctx context.Context, from, to string) ([]SentClaim, error)
	CheckEntry(ctx context.Context, id string) ([]billing.Finding, error)
	Chain(ctx context.Context, serial string) ([]Link, error)
	RefillRecord(ctx context.Context, id string) (refill.Record, error)
	Catalogs(ctx context.Context) ([]*Pinned, error)
	CatalogOn(ctx context.Context, date string) (*Pinned, error)
	Catalog(ctx context.Context) (*catalog.Catalog, error)
	Entry(id string) (ledger.Entry, error)
	Attachment(ctx context.Context, sha string) ([]byte, error)
	Size() (int64, error)
	Today() string

	// Proofs.
	Verify() (ledger.VerifyResult, error)
	Checkpoint() (ledger.Checkpoint, error)
	Consistent(old []byte) (ledger.Tree, error)
	RotateKey(by string) (ledger.Entry, string, error)
	Cosign(ctx context.Context, url string) (ledger.Cosigned, error)
	WitnessSettings() ([]ledger.WitnessSetting, error)
	VerifyWitnesses(ctx context.Context, keys []*witness.Verifier, urls []string) ([]ledger.WitnessCheck, error)
	Prove(id string) (ledger.Inclusion, error)
	ProveSigned(id string) (ledger.Inclusion, error)
	Growth(old []byte) (ledger.Growth, error)
	VerifierKey() (string, error)
	AuditPacket(ctx context.Context, mrn, from, to string) (*audit.Packet, error)
	BackupFile(path string) (int64, error)

	// Import runs fn's records in groups of one commit each (the demo's).
	Import(group int, fn func() error) error
	Close() error
}

var _ Ledger = (*Service)(nil)
