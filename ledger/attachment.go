package ledger

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/pumpledger/pumpledger"
	bolt "go.etcd.io/bbolt"
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

// Verify's check of the documents. The entries it has checked against the
// tree say which documents they cite (their hash, size and kind); every one
// must be stored and its bytes hash to it, and every stored one must be
// cited (one that is not was added outside pumpledger, which stores a
// document only in the write of the entry citing it).

// citation is one document an entry cites.
type citation struct {
	seq  int64
	id   string
	kind Kind
	doc  pumpledger.Attachment
}

// attaching is the kinds whose payloads may cite documents: verify decodes
// those payloads only, so a ledger of refills costs it what it did.
var attaching = func() map[Kind]bool {
	m := map[Kind]bool{}
	for _, s := range pumpledger.Kinds() {
		if s.Attaches {
			m[s.Kind] = true
		}
	}
	return m
}()

// citations lists the documents the entries es cite, as stored in tx.
func citations(tx *bolt.Tx, es []filed) ([]citation, error) {
	var out []citation
	for _, f := range es {
		if !attaching[f.Kind] {
			continue
		}
		ds, err := citedBy(tx, f)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			out = append(out, citation{f.Seq, f.ID, f.Kind, *d})
		}
	}
	return out, nil
}

// citedBy is the documents entry f (of a kind that attaches) cites.
func citedBy(tx *bolt.Tx, f filed) ([]*pumpledger.Attachment, error) {
	spec, _ := pumpledger.KindOf(f.Kind)
	var e struct {
		Payload json.RawMessage `json:"payload"`
	}
	p := spec.Payload()
	err := json.Unmarshal(tx.Bucket(bucketEntries).Get(u64(uint64(f.Seq))), &e)
	if err == nil {
		err = json.Unmarshal(e.Payload, p)
	}
	if err != nil {
		return nil, tampered(f.Seq, "(%s %s) cannot be read (%v)", f.Kind, f.ID, err)
	}
	return pumpledger.AttachmentsOf(p), nil
}

// verifyDocBytes is how many bytes of documents one read transaction of
// verify hashes: short transactions, as for the entries.
const verifyDocBytes = 64 << 20

// storedDoc is what verify found of one stored document.
type storedDoc struct {
	sound     bool // its bytes hash to its key
	size      int64
	mediaType string // "" if not a document pumpledger accepts
}

// verifyDocuments checks the documents against the citations of the first
// n entries (already checked against the tree) and returns how many are
// stored. The error names the first entry, in ledger order, whose document
// is missing or altered; then the first stored document no entry cites.
func (db *DB) verifyDocuments(n int64, cites []citation) (int, error) {
	slices.SortFunc(cites, func(a, b citation) int { return cmp.Compare(a.seq, b.seq) })
	cited := make(map[string]bool, len(cites))
	for _, c := range cites {
		cited[c.doc.SHA256] = true
	}
	stored := map[string]storedDoc{}
	orphan := ""
	var next []byte // the first key of the next transaction's documents
	for {
		done := true
		err := db.bolt.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketAttachments)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			k, v := c.First()
			if next != nil {
				k, v = c.Seek(next)
			}
			for read := 0; k != nil; k, v = c.Next() {
				if read >= verifyDocBytes {
					next, done = bytes.Clone(k), false
					return nil
				}
				read += len(v)
				sha := string(k)
				mt, _ := pumpledger.SniffDocument("document", "", v)
				stored[sha] = storedDoc{pumpledger.SumSHA256(v) == sha, int64(len(v)), mt}
				if orphan == "" && !cited[sha] {
					// An entry appended since verify began may cite it.
					later, err := citedSince(tx, n, sha)
					if err != nil {
						return err
					}
					if !later {
						orphan = sha
					}
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		if done {
			break
		}
	}
	for _, c := range cites {
		d, ok := stored[c.doc.SHA256]
		switch {
		case !ok:
			return 0, citeBroken(c, ", which is not stored: it was removed outside pumpledger")
		case !d.sound:
			return 0, citeBroken(c, ", whose stored bytes no longer hash to it: the document was altered")
		case d.size != c.doc.Size || d.mediaType != c.doc.MediaType:
			return 0, citeBroken(c, fmt.Sprintf(" as %d bytes of %s, but the one stored is %d bytes of %s: the entry does not describe it",
				c.doc.Size, c.doc.MediaType, d.size, cmp.Or(d.mediaType, "no accepted kind")))
		}
	}
	if orphan != "" {
		return 0, &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
			"Document %s is stored but no entry cites it: it was added outside pumpledger (%v).", clipKey(orphan), ErrTampered)}
	}
	return len(stored), nil
}

// citedSince says whether an entry appended since the first n (while verify
// ran) cites document sha.
func citedSince(tx *bolt.Tx, n int64, sha string) (bool, error) {
	c := tx.Bucket(bucketEntries).Cursor()
	for k, v := c.Seek(u64(uint64(n))); k != nil; k, v = c.Next() {
		f, err := filedOf(v)
		if err != nil || !attaching[f.Kind] {
			continue // checked by the next verify
		}
		ds, err := citedBy(tx, f)
		if err != nil {
			continue
		}
		for _, d := range ds {
			if d.SHA256 == sha {
				return true, nil
			}
		}
	}
	return false, nil
}

// citeBroken is verify's finding on the document entry c cites; why goes
// on from its hash.
func citeBroken(c citation, why string) error {
	return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
		"Entry %s (%s) cites document %s%s (%v).", c.id, c.kind, clipKey(c.doc.SHA256), why, ErrTampered)}
}

// clipKey shows a stored key in a message: a document's hash whole, an
// altered key (any bytes) quoted and cut short.
func clipKey(k string) string {
	if pumpledger.CheckSHA256("", k) == nil {
		return k
	}
	if len(k) > 80 {
		k = k[:80]
	}
	return strconv.Quote(k)
}
