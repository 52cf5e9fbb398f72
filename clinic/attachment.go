package clinic

import (
	"context"
	"errors"
	"fmt"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// Attachment returns the exact bytes of the stored document with SHA-256
// sha (a signed consent, an authorization letter), checked against that
// hash first: a document altered in the file is never handed out as the
// one its entry cites. It reads and records nothing else.
func (db *Service) Attachment(_ context.Context, sha string) ([]byte, error) {
	if err := pumpledger.CheckSHA256("sha256", sha); err != nil {
		return nil, err
	}
	var data []byte
	err := db.View(func(tx *ledger.Tx) (err error) {
		data, err = tx.Attachment(sha)
		return err
	})
	if errors.Is(err, ledger.ErrNoAttachment) {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "No document with SHA-256 %s is stored in the ledger %s; `pumpledger history --mrn M` lists what a patient has on file.", sha, db.Path())
	} else if err != nil {
		return nil, err
	}
	if pumpledger.SumSHA256(data) != sha {
		return nil, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ledger.ErrTampered, Message: fmt.Sprintf(
			"The document stored as %s no longer hashes to it, so it is not handed out: it was altered outside pumpledger; run `pumpledger verify --db %s` and restore the ledger from your backup.", sha, db.Path())}
	}
	return data, nil
}
