package ledger

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/demo"
	bolt "go.etcd.io/bbolt"
)

// sumElem is one (bucket, key, value) of an index, for the tallies.
type sumElem struct{ bucket, key, value string }

// tallyOf tallies elems under salt, in the order given.
func tallyOf(salt *indexSalt, elems ...sumElem) indexTallies {
	var t indexTallies
	h := newIndexHasher(salt)
	for _, e := range elems {
		t.add(h, []byte(e.bucket), []byte(e.key), []byte(e.value))
	}
	return t
}

func TestIndexTallies(t *testing.T) {
	salt := newIndexSalt()
	var (
		id    = sumElem{"ids", "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", string(u64(3))}
		void  = sumElem{"voided", string(u64(3)), string(u64(9))}
		pat   = sumElem{"by_patient", string(indexKey("MRN-1", 3)), ""}
		pump  = sumElem{"by_pump", string(indexKey("S1", 3)), ""}
		date  = sumElem{"by_date", string(indexKey("2026-03-31", 3)), ""}
		date2 = sumElem{"by_date", string(indexKey("2026-04-01", 3)), ""}
		all   = []sumElem{id, void, pat, pump, date}
	)
	same := func(bucket, key, value string) sumElem { return sumElem{bucket, key, value} }
	for _, tc := range []struct {
		name  string
		a, b  []sumElem
		equal bool
	}{
		{"the same elements", all, all, true},
		{"in another order", all, []sumElem{date, pump, void, id, pat}, true},
		{"an element twice in another order", []sumElem{date, pat, date}, []sumElem{date, date, pat}, true},
		{"nothing", nil, nil, true},
		{"a changed value", all, []sumElem{{id.bucket, id.key, string(u64(4))}, void, pat, pump, date}, false},
		{"a by_* key given a value", all, []sumElem{id, void, same(pat.bucket, pat.key, "\x00"), pump, date}, false},
		{"an extra key", all, append([]sumElem{date2}, all...), false},
		{"a missing key", all, all[:4], false},
		{"a key replaced by one of the same owner", all, []sumElem{id, void, pat, pump, date2}, false},
		{"a key moved to another bucket", all, []sumElem{id, void, pat, same("by_pump", date.key, ""), pump}, false},
		{"keys swapped between buckets", all, []sumElem{id, void, same("by_pump", pat.key, ""), same("by_patient", pump.key, ""), date}, false},
		{"key and value split elsewhere", []sumElem{{"ids", "ab", "c"}}, []sumElem{{"ids", "a", "bc"}}, false},
		{"an element twice for once", []sumElem{date, date}, []sumElem{date}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tallyOf(salt, tc.a...), tallyOf(salt, tc.b...)
			if (a == b) != tc.equal {
				t.Errorf("tallies equal: %v, want %v\n%v\n%v", a == b, tc.equal, a, b)
			}
		})
	}

	// The salt is in every digest: another salt, other digests.
	other := *salt
	other[31] ^= 1
	if *newIndexHasher(salt).digest(pat.bucketKey()) == *newIndexHasher(&other).digest(pat.bucketKey()) {
		t.Error("the digest does not depend on the salt")
	}
	if tallyOf(salt, all...) == tallyOf(&other, all...) {
		t.Error("the tallies do not depend on the salt")
	}
	// Each Verify draws its own.
	if *newIndexSalt() == *newIndexSalt() {
		t.Error("two salts drawn are the same")
	}
}

func (e sumElem) bucketKey() (bucket, key, value []byte) {
	return []byte(e.bucket), []byte(e.key), []byte(e.value)
}

// The sum is modulo 2^256: carries run across the limbs and out of the top.
func TestIndexSumAdd(t *testing.T) {
	ones := [32]byte{}
	for i := range ones {
		ones[i] = 0xff
	}
	one := [32]byte{0: 1}
	two := [32]byte{0: 2}
	for _, tc := range []struct {
		name string
		add  [][32]byte
		want indexSum
	}{
		{"nothing", nil, indexSum{}},
		{"one", [][32]byte{one}, indexSum{1, 0, 0, 0}},
		{"2^256-1 + 1 wraps to 0", [][32]byte{ones, one}, indexSum{}},
		{"2^256-1 + 2 wraps to 1", [][32]byte{ones, two}, indexSum{1, 0, 0, 0}},
		{"a carry out of the low limb", [][32]byte{{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff}, one}, indexSum{0, 1, 0, 0}},
	} {
		var s indexSum
		for _, d := range tc.add {
			s.add(&d)
		}
		if s != tc.want {
			t.Errorf("%s: %x, want %x", tc.name, s, tc.want)
		}
	}
	// merge adds sums as add adds digests.
	var a, b, ab indexSum
	a.add(&ones)
	b.add(&two)
	ab.add(&ones)
	ab.add(&two)
	a.merge(&b)
	if a != ab {
		t.Errorf("merge: %x, want %x", a, ab)
	}
}

// sumDemoLedger is a ledger of the demo's events for the given options:
// every kind of entry, corrections among them.
func sumDemoLedger(t *testing.T, opt demo.Options) *DB {
	t.Helper()
	db := demoLedger(t, opt)
	if _, err := db.Verify(); err != nil {
		t.Fatalf("verify of the demo ledger: %v", err)
	}
	return db
}

// indexElem finds the first key of bucket, in key order, that keep accepts.
func indexElem(t *testing.T, db *DB, bucket []byte, keep func(k, v []byte) bool) (key, value []byte) {
	t.Helper()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if keep(k, v) {
				key, value = bytes.Clone(k), bytes.Clone(v)
				return nil
			}
		}
		return nil
	})
	if err != nil || key == nil {
		t.Fatalf("no key of %s to alter (%v)", bucket, err)
	}
	return key, value
}

// Edits of an index that leave every bucket with the keys it counts (so a
// check of counts alone passes) are caught by the sums, and named by the
// key-by-key check where it can.
func TestVerifyCatchesIndexEditsOfEqualCount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bucket []byte
		// edit alters the index in tx, given an element of it.
		edit func(tx *bolt.Tx, k, v []byte) error
		want string // in the error
	}{
		{
			// The refill moves to another day of the bill: same owner, same
			// count, another date.
			name: "a date key replaced by another date's", bucket: bucketByDate,
			edit: func(tx *bolt.Tx, k, v []byte) error {
				b := tx.Bucket(bucketByDate)
				moved := append([]byte("1999-12-31"), k[len(k)-9:]...)
				if err := b.Delete(k); err != nil {
					return err
				}
				return b.Put(moved, v)
			},
			want: "The by_date index does not match the entries (entry ",
		},
		{
			name: "a patient key moved to another patient", bucket: bucketByPatient,
			edit: func(tx *bolt.Tx, k, v []byte) error {
				b := tx.Bucket(bucketByPatient)
				moved := append([]byte("MRN-NOBODY"), k[len(k)-9:]...)
				if err := b.Delete(k); err != nil {
					return err
				}
				return b.Put(moved, v)
			},
			want: "The by_patient index does not match the entries (entry ",
		},
		{
			// Two ids swap their entries: each id still names an entry.
			name: "two ids' seqs swapped", bucket: bucketIDs,
			edit: func(tx *bolt.Tx, k, v []byte) error {
				b := tx.Bucket(bucketIDs)
				c := b.Cursor()
				c.Seek(k)
				k2, v2 := c.Next()
				k2, v2 = bytes.Clone(k2), bytes.Clone(v2)
				if err := b.Put(k, v2); err != nil {
					return err
				}
				return b.Put(k2, v)
			},
			want: "The ids index does not match the entries (entry ",
		},
		{
			// The voided mark points at another correction: the voided
			// entry still looks voided, by someone else.
			name: "a voided mark's correction changed", bucket: bucketVoided,
			edit: func(tx *bolt.Tx, k, v []byte) error {
				return tx.Bucket(bucketVoided).Put(k, u64(uint64(seqOf(v)-1)))
			},
			want: "The voided index does not match the entries (entry ",
		},
		{
			// pumpledger files the by_* keys with no value; the key-by-key
			// check never read them, so only the sums see this.
			name: "a value put under a patient key", bucket: bucketByPatient,
			edit: func(tx *bolt.Tx, k, v []byte) error {
				return tx.Bucket(bucketByPatient).Put(k, []byte("x"))
			},
			want: "The by_patient index does not match the entries (its keys and values are not those the entries file)",
		},
		{
			// A key replaced by a bucket of the same name, holding data
			// no view reads: a cursor gives its value as nil, which
			// digests as a by_* key's empty value.
			name: "a date key replaced by a bucket", bucket: bucketByDate,
			edit: func(tx *bolt.Tx, k, v []byte) error {
				b := tx.Bucket(bucketByDate)
				if err := b.Delete(k); err != nil {
					return err
				}
				nested, err := b.CreateBucket(k)
				if err != nil {
					return err
				}
				return nested.Put([]byte("hidden"), []byte("data"))
			},
			want: "The by_date index does not match the entries (entry ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := sumDemoLedger(t, demo.Options{Patients: 4, Months: 6, Seed: 1})
			k, v := indexElem(t, db, tc.bucket, func(k, v []byte) bool { return true })
			if err := db.bolt.Update(func(tx *bolt.Tx) error { return tc.edit(tx, k, v) }); err != nil {
				t.Fatal(err)
			}
			_, err := db.Verify()
			if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("verify after %s: %v\nwant ErrTampered with %q", tc.name, err, tc.want)
			}
		})
	}
}

// Which fault verify names does not change with the sums: the key-by-key
// check of a sequential walk's order, so an index fault of an early chunk
// comes before a tampered entry of a later one.
func TestVerifyNamesTheFirstFaultAcrossChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a ledger of more than one chunk")
	}
	db := sumDemoLedger(t, demo.Options{Patients: 40, Months: 36, Seed: 2})
	n, err := db.Size()
	if err != nil {
		t.Fatal(err)
	}
	if n <= verifyChunk {
		t.Fatalf("the demo ledger has %d entries, not more than one chunk (%d)", n, verifyChunk)
	}
	// A by_date key of an entry of the first chunk moved to another date,
	// and the last entry's bytes altered.
	k, v := indexElem(t, db, bucketByDate, func(k, v []byte) bool { return seqOf(k[len(k)-8:]) < verifyChunk/2 })
	owner := seqOf(k[len(k)-8:])
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketByDate)
		if err := b.Delete(k); err != nil {
			return err
		}
		if err := b.Put(append([]byte("1999-12-31"), k[len(k)-9:]...), v); err != nil {
			return err
		}
		entries := tx.Bucket(bucketEntries)
		last := u64(uint64(n - 1))
		data := bytes.Clone(entries.Get(last))
		data[len(data)/2] ^= 0x20
		return entries.Put(last, data)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Verify()
	want := "The by_date index does not match the entries (entry " + strconv.FormatInt(owner, 10) + " is not filed under it)"
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), want) {
		t.Errorf("verify: %v\nwant the first fault: %q", err, want)
	}
}
