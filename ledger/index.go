package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pumpledger/pumpledger"
	bolt "go.etcd.io/bbolt"
)

// The indexes are derived from the entries and nothing else: indexKeys is
// the one place that says which keys an entry is filed under. Appends write
// them (fileEntry) and Verify recomputes them (verifyIndexes), so an index
// altered outside pumpledger (a voided mark removed, a date dropped) cannot
// change a bill without verify saying so.

// indexKey is key 0x00 seq, so a prefix scan of key 0x00 lists its entries in
// seq order.
func indexKey(key string, seq int64) []byte {
	return append(append([]byte(key), 0), u64(uint64(seq))...)
}

// indexEntry is one key an entry puts in one index bucket, with its value.
type indexEntry struct {
	bucket []byte
	key    []byte
	value  []byte
}

// filed is what the indexes need of an entry: its envelope's seq, id and
// kind, and of its payload the patient, pump, date of service and, for a
// correction, the entries it names. Verify reads it straight from the stored
// bytes in one pass (filedOf), without decoding whole payloads.
type filed struct {
	Seq     int64  `json:"seq"`
	ID      string `json:"id"`
	Kind    Kind   `json:"kind"`
	Payload struct {
		MRN         string             `json:"mrn"`
		Serial      string             `json:"serial"`      // implant, explant
		PumpSerial  string             `json:"pump_serial"` // refill, reprogram
		PerformedAt pumpledger.Instant `json:"performed_at"`
		Voids       string             `json:"voids"`       // correction
		Replacement string             `json:"replacement"` // correction
	} `json:"payload"`
}

// filedOf reads an entry's filing from its stored bytes.
func filedOf(data []byte) (filed, error) {
	if f, ok := scanFiled(data); ok {
		return f, nil
	}
	var f filed
	if err := json.Unmarshal(data, &f); err != nil {
		return filed{}, fmt.Errorf("decode entry: %w", err)
	}
	return f, nil
}

// filedEntry is the filing of a decoded entry.
func filedEntry(e Entry) (filed, error) {
	f := filed{Seq: e.Seq, ID: e.ID, Kind: e.Kind}
	if err := json.Unmarshal(e.Payload, &f.Payload); err != nil {
		return filed{}, fmt.Errorf("entry %d (%s): decode %s payload: %w", e.Seq, e.ID, e.Kind, err)
	}
	return f, nil
}

// indexKeys lists every index key of entry f. A correction is filed under the
// patients and pumps of the entry it voids and of its replacement (so their
// histories show it) and marks the voided entry; tx must already hold those.
func indexKeys(tx *bolt.Tx, f filed) ([]indexEntry, error) {
	out := []indexEntry{{bucketIDs, []byte(f.ID), u64(uint64(f.Seq))}}
	patients, pumps, date, err := f.filing()
	if err != nil {
		return nil, err
	}
	if f.Kind == KindCorrection {
		for i, id := range []string{f.Payload.Voids, f.Payload.Replacement} {
			if id == "" {
				continue
			}
			v := tx.Bucket(bucketIDs).Get([]byte(id))
			if len(v) != 8 {
				return nil, fmt.Errorf("correction %s names entry %s, which is not recorded", f.ID, id)
			}
			data := tx.Bucket(bucketEntries).Get(v)
			if data == nil {
				return nil, fmt.Errorf("correction %s names entry %s, which is missing", f.ID, id)
			}
			other, err := filedOf(data)
			if err != nil {
				return nil, fmt.Errorf("correction %s names entry %s: %w", f.ID, id, err)
			}
			p, q, _, err := other.filing()
			if err != nil {
				return nil, err
			}
			patients, pumps = append(patients, p...), append(pumps, q...)
			if i == 0 {
				out = append(out, indexEntry{bucketVoided, u64(uint64(other.Seq)), u64(uint64(f.Seq))})
			}
		}
	}
	slices.Sort(patients)
	slices.Sort(pumps)
	for _, m := range slices.Compact(patients) {
		out = append(out, indexEntry{bucketByPatient, indexKey(m, f.Seq), nil})
	}
	for _, s := range slices.Compact(pumps) {
		out = append(out, indexEntry{bucketByPump, indexKey(s, f.Seq), nil})
	}
	if date != "" {
		out = append(out, indexEntry{bucketByDate, indexKey(date, f.Seq), nil})
	}
	return out, nil
}

// filing is where an entry's own content files it: its patient, its pump and,
// for billable visits, its date of service.
func (f filed) filing() (patients, pumps []string, date string, err error) {
	p := f.Payload
	switch f.Kind {
	case KindCorrection:
		return nil, nil, "", nil
	case KindPatient:
		return []string{p.MRN}, nil, "", nil
	case KindImplant, KindExplant:
		return []string{p.MRN}, []string{p.Serial}, "", nil
	case KindRefill, KindReprogram:
		return []string{p.MRN}, []string{p.PumpSerial}, p.PerformedAt.Date(), nil
	}
	return nil, nil, "", fmt.Errorf("entry %d has unknown kind %q", f.Seq, f.Kind)
}

// filing is filed.filing of a decoded entry.
func filing(e Entry) (patients, pumps []string, date string, err error) {
	f, err := filedEntry(e)
	if err != nil {
		return nil, nil, "", err
	}
	return f.filing()
}

// fileEntry writes an appended entry's index keys.
func fileEntry(tx *bolt.Tx, e Entry) error {
	f, err := filedEntry(e)
	if err != nil {
		return err
	}
	keys, err := indexKeys(tx, f)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Bucket(k.bucket).Put(k.key, k.value); err != nil {
			return err
		}
	}
	return nil
}

// indexBuckets are the derived buckets verifyIndexes accounts for.
var indexBuckets = [][]byte{bucketIDs, bucketVoided, bucketByPatient, bucketByPump, bucketByDate}

// verifyIndexes checks that entries es are filed under exactly
// their keys, adding to counts the keys each bucket should hold; the caller
// compares the totals with the buckets' sizes, which catches extra keys.
func verifyIndexes(tx *bolt.Tx, es []filed, counts map[string]int) error {
	buckets := map[string]*bolt.Bucket{}
	for _, b := range indexBuckets {
		buckets[string(b)] = tx.Bucket(b)
	}
	for _, e := range es {
		i := e.Seq
		keys, err := indexKeys(tx, e)
		if err != nil {
			return indexBroken("", fmt.Sprintf("entry %d cannot be filed (%v)", i, err))
		}
		for _, k := range keys {
			got := buckets[string(k.bucket)].Get(k.key)
			if got == nil || !bytes.Equal(got, k.value) && k.value != nil {
				return indexBroken(string(k.bucket), fmt.Sprintf("entry %d is not filed under it", i))
			}
			counts[string(k.bucket)]++
		}
	}
	return nil
}

// indexOwner is the seq of the entry that filed an index key: in the key's
// last 8 bytes for the by_* indexes, in the value for ids and voided.
func indexOwner(bucket, k, v []byte) int64 {
	if bytes.Equal(bucket, bucketIDs) || bytes.Equal(bucket, bucketVoided) {
		if len(v) != 8 {
			return -1
		}
		return seqOf(v)
	}
	if len(k) < 9 {
		return -1
	}
	return seqOf(k[len(k)-8:])
}

// verifyIndexCounts compares what entries [0, n) file with what the buckets
// hold for them, reading each bucket in chunks of short transactions; keys
// of entries appended since are not counted, keys of no entry are refused.
func (db *DB) verifyIndexCounts(n int64, counts map[string]int) error {
	for _, b := range indexBuckets {
		held := 0
		err := db.walk(b, func(_ *bolt.Tx, cur int64, k, v []byte) error {
			switch owner := indexOwner(b, k, v); {
			case owner < 0 || owner >= cur:
				return indexBroken(string(b), "it holds a key of no entry")
			case owner < n:
				held++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if held != counts[string(b)] {
			return indexBroken(string(b), fmt.Sprintf("it holds %d keys no entry files there", held-counts[string(b)]))
		}
	}
	return nil
}

// walk calls fn for every key of bucket in order, verifyChunk keys per short
// read transaction (so a long walk never holds back the file's growth), with
// the ledger's size in that transaction: what was appended since the walk
// began is the caller's to skip.
func (db *DB) walk(bucket []byte, fn func(tx *bolt.Tx, cur int64, k, v []byte) error) error {
	var next []byte // the first key of the next chunk
	for {
		done := true
		err := db.bolt.View(func(tx *bolt.Tx) error {
			cur := size(tx)
			c := tx.Bucket(bucket).Cursor()
			k, v := c.First()
			if next != nil {
				k, v = c.Seek(next)
			}
			for i := 0; k != nil; k, v = c.Next() {
				if i == verifyChunk {
					next, done = bytes.Clone(k), false
					return nil
				}
				i++
				if err := fn(tx, cur, k, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

func indexBroken(bucket, why string) error {
	where := "An index"
	if bucket != "" {
		where = fmt.Sprintf("The %s index", bucket)
	}
	return &pumpledger.Error{Code: pumpledger.EINVALID, Err: ErrTampered, Message: fmt.Sprintf(
		"%s does not match the entries (%s): the file was altered outside pumpledger (%v).", where, why, ErrTampered)}
}

// seqOf decodes a stored seq value.
func seqOf(v []byte) int64 { return int64(binary.BigEndian.Uint64(v)) }
