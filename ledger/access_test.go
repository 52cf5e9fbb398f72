package ledger_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"
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

// waitQueued waits until n appends wait for log's next commit, or fails t.
func waitQueued(t *testing.T, log *ledger.AccessLog, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ledger.AccessQueued(log) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d appends queued, want %d", ledger.AccessQueued(log), n)
		}
	}
}

// boltHashes reads the access log's stored tree hashes.
type boltHashes struct{ b *bolt.Bucket }

func (h boltHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		copy(out[i][:], h.b.Get(u64(uint64(x))))
	}
	return out, nil
}

// Views at once share commits: 20 viewers appending at once each get back
// their own records, each in the log at its Seq and proved in the signed
// tree, the records of one call consecutive and one viewer's calls in
// their order, and the commits fewer than the appends.
func TestAccessLogGroupCommit(t *testing.T) {
	log, path := accessLogOf(t)
	const viewers, views = 20, 5
	first := true
	defer ledger.SetAccessCommitHook(func(int) error {
		// The first commit waits for every other viewer to queue (the
		// commits run one at a time, so first is not raced): at least one
		// group is certain, whatever the scheduler does.
		if first {
			first = false
			for deadline := time.Now().Add(5 * time.Second); ledger.AccessQueued(log) < viewers-1 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
		return nil
	})()
	acked := make([][][]ledger.Access, viewers)
	var wg sync.WaitGroup
	for v := range viewers {
		wg.Go(func() {
			for i := range views {
				rec := ledger.Access{User: fmt.Sprintf("u%02d", v), Role: "nurse", MRN: fmt.Sprintf("MRN-%d-%d", v, i), What: "chart", From: "10.0.0.7"}
				recs := []ledger.Access{rec}
				if i%2 == 1 { // a worklist: two patients in one call
					rec.What = "worklist"
					recs = []ledger.Access{rec, rec}
					recs[1].MRN += "b"
				}
				out, err := log.AppendAll(recs)
				if err != nil {
					t.Errorf("viewer %d, view %d: %v", v, i, err)
					return
				}
				for j := range out {
					if out[j].User != recs[j].User || out[j].MRN != recs[j].MRN || out[j].What != recs[j].What {
						t.Errorf("viewer %d got back %+v for %+v", v, out[j], recs[j])
					}
				}
				acked[v] = append(acked[v], out)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all, err := log.List("")
	if err != nil {
		t.Fatal(err)
	}
	res, err := log.Verify()
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	calls, want := 3, 3+viewers*(views+views/2)
	if res.Records != int64(want) || len(all) != want {
		t.Fatalf("%d records, %d listed, want %d", res.Records, len(all), want)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.View(func(tx *bolt.Tx) error {
		recs, hr := tx.Bucket(bucketAccess), boltHashes{tx.Bucket(bucketAccessHash)}
		for v := range acked {
			last := int64(-1)
			for _, out := range acked[v] {
				calls++
				for j, r := range out {
					if r.Seq != out[0].Seq+int64(j) || r.Seq <= last {
						t.Errorf("viewer %d: record %d at %d, after %d: not in the order appended", v, j, r.Seq, last)
					}
					last = r.Seq
					if kept := all[r.Seq]; kept != r {
						t.Errorf("acknowledged %+v, the log keeps %+v", r, kept)
					}
					data := recs.Get(u64(uint64(r.Seq)))
					var kept ledger.Access
					if json.Unmarshal(data, &kept) != nil || kept != r {
						t.Errorf("record %d: stored %s", r.Seq, data)
					}
					proof, err := tlog.ProveRecord(res.Tree.N, r.Seq, hr)
					if err != nil {
						return err
					}
					if err := tlog.CheckRecord(proof, res.Tree.N, res.Tree.Hash, r.Seq, tlog.RecordHash(data)); err != nil {
						t.Errorf("record %d not proved in the signed tree: %v", r.Seq, err)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Checkpoints >= calls {
		t.Errorf("%d checkpoints for %d appends: no commit was shared", res.Checkpoints, calls)
	}
	t.Logf("%d appends, %d records, %d commits", calls, res.Records, res.Checkpoints)
}

// A commit that fails fails every append of its group and keeps nothing of
// it, and the log takes the next view; one that panics (a bug) still
// answers its group and frees the log, else every later view would hang.
func TestAccessLogGroupCommitFails(t *testing.T) {
	errDisk := errors.New("injected: the disk refused the write")
	for _, c := range []struct {
		name string
		fail func() error
	}{
		{"fails", func() error { return errDisk }},
		{"panics", func() error { panic(errDisk) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			log, _ := accessLogOf(t)
			view := func(mrn string) ledger.Access {
				return ledger.Access{User: "nurse1", Role: "nurse", MRN: mrn, What: "chart", From: "10.0.0.7"}
			}
			// The first commit holds the log until the group queues
			// behind it; the second, the group's, fails.
			entered, release := make(chan struct{}), make(chan struct{})
			calls := 0
			restore := ledger.SetAccessCommitHook(func(int) error {
				calls++
				switch calls {
				case 1:
					close(entered)
					<-release
				case 2:
					return c.fail()
				}
				return nil
			})
			defer restore()
			first := make(chan error, 1)
			go func() {
				_, err := log.Append(view("MRN-5"))
				first <- err
			}()
			<-entered
			const group = 5
			errs := make(chan error, group)
			for i := range group {
				go func() {
					defer func() {
						if r := recover(); r != nil {
							errs <- fmt.Errorf("panicked: %v", r)
						}
					}()
					var err error
					if i == 0 {
						_, err = log.AppendAll([]ledger.Access{view("MRN-6"), view("MRN-7")})
					} else {
						_, err = log.Append(view("MRN-6"))
					}
					errs <- err
				}()
			}
			waitQueued(t, log, group)
			close(release)
			if err := <-first; err != nil {
				t.Fatalf("the commit before the group: %v", err)
			}
			panicked := 0
			for range group {
				switch err := <-errs; {
				case err == nil:
					t.Error("an append of the failed commit was acknowledged")
				case strings.HasPrefix(err.Error(), "panicked"):
					panicked++
				case pumpledger.ErrorCode(err) != pumpledger.EINTERNAL:
					t.Errorf("a failed append: %v (%s), want internal", err, pumpledger.ErrorCode(err))
				}
			}
			if want := map[string]int{"fails": 0, "panics": 1}[c.name]; panicked != want {
				t.Errorf("%d appends panicked, want %d (the one that committed)", panicked, want)
			}
			if res, err := log.Verify(); err != nil || res.Records != 4 || res.Checkpoints != 4 {
				t.Fatalf("verify after the failed commit: %+v %v, want 4 records under 4 checkpoints", res, err)
			}
			if _, err := log.Append(view("MRN-8")); err != nil {
				t.Fatalf("the next view: %v", err)
			}
			if mine, _ := log.List("MRN-6"); len(mine) != 0 {
				t.Errorf("the failed group's views kept: %+v", mine)
			}
		})
	}
}
