package ledger

import (
	"fmt"

	"github.com/pumpledger/pumpledger"
)

// Attachments: the documents entries cite, held once each in the
// attachments bucket under their hex SHA-256. The bucket is made by the
// first document stored: a ledger without documents is laid out as before.
// The bytes are not in the tree; the hash in the citing entry is, and
// verify checks every stored document against its key.

var bucketAttachments = []byte("attachments")

// ErrNoAttachment: no document with that hash is stored.
var ErrNoAttachment = pumpledger.Errorf(pumpledger.ENOTFOUND, "no document with that SHA-256 is stored in this ledger")

// PutAttachment stores data under its SHA-256 and returns the hash; a
// document already stored is stored once. Only inside a write.
func (t *Tx) PutAttachment(data []byte) (string, error) {
	sum := pumpledger.SumSHA256(data)
	b, err := t.b.CreateBucketIfNotExists(bucketAttachments)
	if err != nil {
		return "", fmt.Errorf("storing a document: %w", err)
	}
	if b.Get([]byte(sum)) != nil {
		return sum, nil
	}
	return sum, b.Put([]byte(sum), data)
}

// HasAttachment says whether a document with hash sha is stored.
func (t *Tx) HasAttachment(sha string) bool {
	b := t.b.Bucket(bucketAttachments)
	return b != nil && b.Get([]byte(sha)) != nil
}

// Attachment returns a copy of the stored document with hash sha; an
// ENOTFOUND error if none is stored.
func (t *Tx) Attachment(sha string) ([]byte, error) {
	b := t.b.Bucket(bucketAttachments)
	if b == nil {
		return nil, ErrNoAttachment
	}
	v := b.Get([]byte(sha))
	if v == nil {
		return nil, ErrNoAttachment
	}
	return append([]byte(nil), v...), nil
}
