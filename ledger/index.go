package ledger

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/bits"
	"slices"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/parallel"
	bolt "go.etcd.io/bbolt"
)

// The indexes are derived from the entries and nothing else: indexKeys is
// the one place that says which keys an entry is filed under. Appends write
// them (fileEntry) and Verify recomputes them (verifyChunks), so an index
// altered outside pumpledger (a voided mark removed, a date dropped) cannot
// change a bill without verify saying so.

// indexKey is key 0x00 seq, so a prefix scan of key 0x00 lists its entries in
// seq order. appendIndexKey appends it to b.
func indexKey(key string, seq int64) []byte {
	return appendIndexKey(make([]byte, 0, len(key)+9), key, seq)
}

func appendIndexKey(b []byte, key string, seq int64) []byte {
	return binary.BigEndian.AppendUint64(append(append(b, key...), 0), uint64(seq))
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
	patients, pumps, date, err := f.filing()
	if err != nil {
		return nil, err
	}
	spec, _ := pumpledger.KindOf(f.Kind) // filing refused any other
	voided := int64(-1)                  // the seq of the entry a correction voids
	if spec.Corrects {
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
				voided = other.Seq
			}
		}
	}
	slices.Sort(patients)
	slices.Sort(pumps)
	patients, pumps = slices.Compact(patients), slices.Compact(pumps)
	// The keys and values share one allocation (Verify lists the keys of
	// every entry), each its own full slice of it.
	n := len(f.ID) + 8
	for _, m := range patients {
		n += len(m) + 9
	}
	for _, s := range pumps {
		n += len(s) + 9
	}
	if date != "" {
		n += len(date) + 9
	}
	if spec.ByKind {
		n += len(f.Kind) + 9
	}
	if voided >= 0 {
		n += 16
	}
	buf := make([]byte, 0, n)
	cut := func(from int) []byte { return buf[from:len(buf):len(buf)] }
	out := make([]indexEntry, 0, 2+len(patients)+len(pumps)+1)
	buf = append(buf, f.ID...)
	id := cut(0)
	buf = binary.BigEndian.AppendUint64(buf, uint64(f.Seq))
	out = append(out, indexEntry{bucketIDs, id, cut(len(id))})
	if voided >= 0 {
		from := len(buf)
		buf = binary.BigEndian.AppendUint64(buf, uint64(voided))
		k := cut(from)
		buf = binary.BigEndian.AppendUint64(buf, uint64(f.Seq))
		out = append(out, indexEntry{bucketVoided, k, cut(from + 8)})
	}
	for _, m := range patients {
		from := len(buf)
		buf = appendIndexKey(buf, m, f.Seq)
		out = append(out, indexEntry{bucketByPatient, cut(from), nil})
	}
	for _, s := range pumps {
		from := len(buf)
		buf = appendIndexKey(buf, s, f.Seq)
		out = append(out, indexEntry{bucketByPump, cut(from), nil})
	}
	if date != "" {
		from := len(buf)
		buf = appendIndexKey(buf, date, f.Seq)
		out = append(out, indexEntry{bucketByDate, cut(from), nil})
	}
	if spec.ByKind {
		from := len(buf)
		buf = appendIndexKey(buf, string(f.Kind), f.Seq)
		out = append(out, indexEntry{bucketByKind, cut(from), nil})
	}
	return out, nil
}

// filing is where an entry's own content files it: its patient, its pump and,
// for billable visits, its date of service.
func (f filed) filing() (patients, pumps []string, date string, err error) {
	spec, ok := pumpledger.KindOf(f.Kind)
	if !ok {
		return nil, nil, "", fmt.Errorf("entry %d is of kind %q: %w", f.Seq+1, f.Kind, ErrNewerKind)
	}
	p := f.Payload
	if spec.Patient {
		patients = []string{p.MRN}
	}
	if spec.Pump {
		pumps = []string{cmp.Or(p.Serial, p.PumpSerial)}
	}
	if spec.Dated {
		date = p.PerformedAt.Date()
	}
	return patients, pumps, date, nil
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

// ErrNewerKind: an entry of a kind this release does not know, written by
// a newer one (verify says so only when a signed checkpoint covers it).
var ErrNewerKind = errors.New("a kind this pumpledger does not know: the ledger was written by a newer pumpledger; use that release")

// indexBuckets are the derived buckets verify accounts for.
var indexBuckets = [...][]byte{bucketIDs, bucketVoided, bucketByPatient, bucketByPump, bucketByDate, bucketByKind}

// indexSlot is the place of an index bucket in indexBuckets.
func indexSlot(bucket []byte) int {
	switch string(bucket) {
	case string(bucketIDs):
		return 0
	case string(bucketVoided):
		return 1
	case string(bucketByPatient):
		return 2
	case string(bucketByPump):
		return 3
	case string(bucketByDate):
		return 4
	case string(bucketByKind):
		return 5
	}
	panic(fmt.Sprintf("ledger: %q is not an index bucket", bucket))
}

// Verify does not look each index key up (five random reads an entry, most
// of its time once the file outgrows the cache). It compares, bucket by
// bucket, the multiset of (bucket, key, value) the entries file with the
// multiset the bucket holds for them, read in key order: each side is the
// count and the sum modulo 2^256 of a digest of each element (the
// MSet-Add-Hash of Clarke et al., "Incremental Multiset Hash Functions and
// their Application to Memory Integrity Checking", 2003), which does not
// depend on the order the elements are added in. Equal sums mean equal
// multisets unless the digests collide; only when a bucket's sums differ
// are the keys looked up one by one, to name the fault.

// indexSum is a multiset hash: the sum modulo 2^256 of the digests of its
// elements, as four little-endian 64-bit limbs.
type indexSum [4]uint64

// add adds digest d (read as a little-endian 256-bit number) to s.
func (s *indexSum) add(d *[sha256.Size]byte) {
	var carry uint64
	for i := range s {
		s[i], carry = bits.Add64(s[i], binary.LittleEndian.Uint64(d[8*i:]), carry)
	}
}

// merge adds multiset hash t to s: the hash of the union.
func (s *indexSum) merge(t *indexSum) {
	var carry uint64
	for i := range s {
		s[i], carry = bits.Add64(s[i], t[i], carry)
	}
}

// indexSalt keys the digests of one Verify. It is drawn afresh each time
// and never stored. A sum of digests anyone can compute is not safe: whoever
// edits the file could search for keys and values whose digests add up to
// those of the keys it removed (Wagner's generalized birthday attack makes
// that feasible for sums modulo 2^256); not knowing the salt, an edit
// cannot aim at a sum, and goes unseen only by a 2^-256 chance.
type indexSalt [32]byte

func newIndexSalt() *indexSalt {
	var s indexSalt
	rand.Read(s[:]) // never fails: crypto/rand crashes the program rather
	return &s
}

// indexHasher digests index elements under a salt. It is not safe for
// concurrent use: one per goroutine.
type indexHasher struct {
	h      hash.Hash
	resume encoding.BinaryUnmarshaler // h, to restore salted
	salted []byte                     // h's state after the salt block
	buf    []byte
	sum    [sha256.Size]byte
}

// newIndexHasher starts each digest with a block of the salt then zeros:
// hashed once, its state is restored for every element, whose message most
// often fits in one more block.
func newIndexHasher(salt *indexSalt) *indexHasher {
	h := sha256.New()
	h.Write(salt[:])
	h.Write(make([]byte, sha256.BlockSize-len(salt)))
	salted, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(err) // crypto/sha256 always marshals
	}
	return &indexHasher{h: h, resume: h.(encoding.BinaryUnmarshaler), salted: salted}
}

// digest is the SHA-256 of the salt block, then bucket, key and value,
// each after its length (so no two elements have the same message). It is
// valid until the next call.
func (x *indexHasher) digest(bucket, key, value []byte) *[sha256.Size]byte {
	if err := x.resume.UnmarshalBinary(x.salted); err != nil {
		panic(err) // the state MarshalBinary made
	}
	b := binary.AppendUvarint(x.buf[:0], uint64(len(bucket)))
	b = append(b, bucket...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(value)))
	b = append(b, value...)
	x.buf = b
	x.h.Write(b)
	x.h.Sum(x.sum[:0])
	return &x.sum
}

// indexTally is what an index bucket holds, or should hold: how many keys,
// and their multiset hash.
type indexTally struct {
	keys int
	sum  indexSum
}

// indexTallies are the tallies of indexBuckets, in their order.
type indexTallies [len(indexBuckets)]indexTally

// add counts element (bucket, key, value) in its bucket's tally.
func (t *indexTallies) add(h *indexHasher, bucket, key, value []byte) {
	s := &t[indexSlot(bucket)]
	s.keys++
	s.sum.add(h.digest(bucket, key, value))
}

func (t *indexTallies) merge(u *indexTallies) {
	for i := range t {
		t[i].keys += u[i].keys
		t[i].sum.merge(&u[i].sum)
	}
}

// tallyIndexes adds to t the index keys entries es file, with their stored
// values (empty for the by_* indexes, which store nil).
func tallyIndexes(tx *bolt.Tx, h *indexHasher, es []filed, t *indexTallies) error {
	for _, e := range es {
		keys, err := indexKeys(tx, e)
		if errors.Is(err, ErrNewerKind) {
			return err // verify tells a newer release's entry from a forged one
		} else if err != nil {
			return indexBroken("", fmt.Sprintf("entry %d cannot be filed (%v)", e.Seq, err))
		}
		for _, k := range keys {
			t.add(h, k.bucket, k.key, k.value)
		}
	}
	return nil
}

// verifyIndexes checks, key by key, that entries es are filed under their
// keys; the extra keys a bucket may hold are verifyIndexCounts's to find.
// Verify asks it only to name the fault once the tallies disagree.
func verifyIndexes(tx *bolt.Tx, es []filed) error {
	var buckets [len(indexBuckets)]*bolt.Bucket
	for i, b := range indexBuckets {
		buckets[i] = tx.Bucket(b)
	}
	for _, e := range es {
		i := e.Seq
		keys, err := indexKeys(tx, e)
		if errors.Is(err, ErrNewerKind) {
			return err
		} else if err != nil {
			return indexBroken("", fmt.Sprintf("entry %d cannot be filed (%v)", i, err))
		}
		for _, k := range keys {
			got := buckets[indexSlot(k.bucket)].Get(k.key)
			if got == nil || !bytes.Equal(got, k.value) && k.value != nil {
				return indexBroken(string(k.bucket), fmt.Sprintf("entry %d is not filed under it", i))
			}
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

// verifyIndexCounts compares what entries [0, n) file (want, from
// verifyChunks under the same salt) with what the buckets hold for them,
// reading each bucket in key order in chunks of short transactions; keys of
// entries appended since are not counted, keys of no entry are refused.
// Where a bucket disagrees, the keys are looked up one by one to name the
// fault as a sequential check would: the first entry not filed under its
// keys, else the bucket's key of no entry or its count of extra keys.
func (db *DB) verifyIndexCounts(n int64, want *indexTallies, salt *indexSalt) error {
	var held indexTallies
	errs := make([]error, len(indexBuckets))
	// One bucket a worker; the errors are kept, not returned: which one
	// counts is decided below, in bucket order.
	_ = parallel.Run(len(indexBuckets), func(i int) (err error) {
		defer func() { errs[i] = err }()
		defer guard(db.path, &err)() // per goroutine: a damaged page is an error, not a crash
		b, h := indexBuckets[i], newIndexHasher(salt)
		return db.walk(b, func(tx *bolt.Tx, cur int64, k, v []byte) error {
			switch owner := indexOwner(b, k, v); {
			case v == nil && tx.Bucket(b).Bucket(k) != nil:
				// A cursor gives a nested bucket's value as nil, which
				// would digest as a by_* key's empty value.
				return indexBroken(string(b), "it holds a bucket where a key belongs")
			case owner < 0 || owner >= cur:
				return indexBroken(string(b), "it holds a key of no entry")
			case owner < n:
				held[i].keys++
				held[i].sum.add(h.digest(b, k, v))
			}
			return nil
		})
	})
	for i, b := range indexBuckets {
		if errs[i] == nil && held[i] == want[i] {
			continue
		}
		if err := db.verifyIndexesPrecisely(n, chunksOf(n)); err != nil {
			return err
		}
		switch {
		case errs[i] != nil:
			return errs[i]
		case held[i].keys != want[i].keys:
			return indexBroken(string(b), fmt.Sprintf("it holds %d keys no entry files there", held[i].keys-want[i].keys))
		}
		// The lookups and the count find nothing, yet the sums differ: a
		// by_* key given a value (the lookups read none there), or a bug.
		return indexBroken(string(b), "its keys and values are not those the entries file")
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
			if tx.Bucket(bucket) == nil {
				return nil // by_kind, in a schema 1 ledger not yet upgraded
			}
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
