package ledger_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketAccess     = []byte("access")
	bucketAccessHash = []byte("access_hashes")
	bucketAccessChk  = []byte("access_checkpoints")
)

// accessLogOf is a ledger's access log with three views in it, and its
// file's path; the ledger stays open (the log opens its file per call).
func accessLogOf(t *testing.T) (*ledger.AccessLog, string) {
	t.Helper()
	db, _, path := openTest(t)
	log := db.AccessLog()
	for _, mrn := range []string{"MRN-1", "MRN-2", "MRN-1"} {
		if _, err := log.Append(ledger.Access{User: "nurse1", Role: "nurse", MRN: mrn, What: "chart", From: "10.0.0.7"}); err != nil {
			t.Fatal(err)
		}
	}
	return log, ledger.AccessPath(path)
}

// The log keeps each view in order, lists a patient's, is 0600, and
// verifies.
func TestAccessLogAppendListVerify(t *testing.T) {
	log, path := accessLogOf(t)
	all, err := log.List("")
	if err != nil || len(all) != 3 || all[2].Seq != 2 || all[1].MRN != "MRN-2" || all[0].From != "10.0.0.7" || all[0].At.IsZero() {
		t.Fatalf("list: %+v %v", all, err)
	}
	mine, _ := log.List("MRN-1")
	if len(mine) != 2 {
		t.Errorf("MRN-1's views: %d, want 2", len(mine))
	}
	res, err := log.Verify()
	if err != nil || res.Records != 3 || res.Checkpoints != 3 || !bytes.Contains(res.Note, []byte("/access\n3\n")) {
		t.Fatalf("verify: %+v %v", res, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("access log file mode %v %v, want 0600", fi.Mode(), err)
	}
}

// Whoever can write the file but not sign with the ledger's key cannot
// edit, delete or insert a view without verify saying so; nor can the log
// be extended over the change.
func TestAccessLogTampered(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(tx *bolt.Tx) error
	}{
		{"a record's patient changed", func(tx *bolt.Tx) error {
			recs := tx.Bucket(bucketAccess)
			v := bytes.Replace(recs.Get(u64(1)), []byte("MRN-2"), []byte("MRN-9"), 1)
			return recs.Put(u64(1), v)
		}},
		{"a record changed and its hashes recomputed", func(tx *bolt.Tx) error {
			recs := tx.Bucket(bucketAccess)
			v := bytes.Replace(recs.Get(u64(1)), []byte("MRN-2"), []byte("MRN-9"), 1)
			if err := recs.Put(u64(1), v); err != nil {
				return err
			}
			return rehash(tx, recs, tx.Bucket(bucketAccessHash))
		}},
		{"a record deleted", func(tx *bolt.Tx) error { return tx.Bucket(bucketAccess).Delete(u64(1)) }},
		{"the last record deleted and the count lowered", func(tx *bolt.Tx) error {
			recs := tx.Bucket(bucketAccess)
			if err := recs.Delete(u64(2)); err != nil {
				return err
			}
			return recs.SetSequence(2)
		}},
		{"the latest checkpoint deleted", func(tx *bolt.Tx) error { return tx.Bucket(bucketAccessChk).Delete(u64(3)) }},
		{"a checkpoint's root changed", func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketAccessChk)
			v := bytes.Clone(c.Get(u64(2)))
			v[len(v)-70] ^= 1
			return c.Put(u64(2), v)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			log, path := accessLogOf(t)
			boltUpdate(t, path, c.edit)
			if _, err := log.Verify(); !errors.Is(err, ledger.ErrTampered) {
				t.Errorf("verify after %s: %v, want tampered", c.name, err)
			}
		})
	}
	// Appending over a changed head is refused.
	log, path := accessLogOf(t)
	boltUpdate(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketAccessChk).Delete(u64(3)) })
	if _, err := log.Append(ledger.Access{User: "x", MRN: "MRN-1", What: "chart"}); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("append over a deleted checkpoint: %v, want refused as tampered", err)
	}
}

// The newest views removed with their hashes and checkpoints leave a
// smaller log that verifies alone; against a checkpoint kept elsewhere it
// fails.
func TestAccessLogTruncatedCaughtBySince(t *testing.T) {
	log, path := accessLogOf(t)
	res, err := log.Verify()
	if err != nil {
		t.Fatal(err)
	}
	kept := res.Note
	if err := log.Consistent(kept); err != nil {
		t.Fatalf("against its own checkpoint: %v", err)
	}
	if _, err := log.Append(ledger.Access{User: "x", MRN: "MRN-3", What: "chart"}); err != nil {
		t.Fatal(err)
	}
	if err := log.Consistent(kept); err != nil {
		t.Fatalf("after one more view: %v", err)
	}
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		recs, hashes, checks := tx.Bucket(bucketAccess), tx.Bucket(bucketAccessHash), tx.Bucket(bucketAccessChk)
		for seq := uint64(2); seq <= 3; seq++ {
			recs.Delete(u64(seq))
			checks.Delete(u64(seq + 1))
		}
		recs.SetSequence(2)
		// The hashes of two records: 3 stored hashes.
		c := hashes.Cursor()
		for k, _ := c.Seek(u64(3)); k != nil; k, _ = c.Seek(u64(3)) {
			hashes.Delete(k)
		}
		return nil
	})
	if _, err := log.Verify(); err != nil {
		t.Fatalf("the cut log should verify alone: %v", err)
	}
	if err := log.Consistent(kept); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("against the kept checkpoint: %v, want tampered", err)
	}
}

// A page of many patients logs one record each in one commit under one
// signed checkpoint; the log verifies, and a later view extends it.
func TestAccessLogAppendAll(t *testing.T) {
	log, _ := accessLogOf(t)
	recs, err := log.AppendAll([]ledger.Access{
		{User: "nurse1", Role: "nurse", MRN: "MRN-3", What: "worklist", From: "10.0.0.7"},
		{User: "nurse1", Role: "nurse", MRN: "MRN-4", What: "worklist", From: "10.0.0.7"},
	})
	if err != nil || len(recs) != 2 || recs[0].Seq != 3 || recs[1].Seq != 4 || !recs[0].At.Equal(recs[1].At) {
		t.Fatalf("append all: %+v %v", recs, err)
	}
	if _, err := log.Append(ledger.Access{User: "nurse1", Role: "nurse", MRN: "MRN-3", What: "chart"}); err != nil {
		t.Fatal(err)
	}
	res, err := log.Verify()
	if err != nil || res.Records != 6 || res.Checkpoints != 5 {
		t.Fatalf("verify: %+v %v, want 6 records under 5 checkpoints", res, err)
	}
	if mine, _ := log.List("MRN-4"); len(mine) != 1 || mine[0].What != "worklist" {
		t.Errorf("MRN-4's views: %+v", mine)
	}
	if none, err := log.AppendAll(nil); err != nil || none != nil {
		t.Errorf("nothing to log: %+v %v", none, err)
	}
}
