package ledger_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// TestConcurrentAppendsLoseNothing: two goroutines append 1,000 entries each
// to a fresh ledger opened for batching (its first entry, written at open,
// pins the catalog). Nothing is lost: every acknowledged id is in the tree
// at its own position, the size is the sum and that entry, and it verifies.
func TestConcurrentAppendsLoseNothing(t *testing.T) {
	const writers, each = 2, 1000
	path := filepath.Join(t.TempDir(), "concurrent.db")
	db, err := clinic.Create(as("clerk"), path, ledger.Options{Batch: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	ids := make([][]string, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range each {
				res, err := db.AddPatient(as(fmt.Sprintf("writer%d", w)), pumpledger.Patient{MRN: fmt.Sprintf("W%d-%04d", w, i), Name: fmt.Sprintf("Patient %d/%d", w, i)})
				if err != nil {
					t.Errorf("writer %d, append %d: %v", w, i, err)
					return
				}
				if res.Existing {
					t.Errorf("writer %d, append %d: reported as already recorded", w, i)
					return
				}
				ids[w] = append(ids[w], res.Entry.ID)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	if n := must(db.Size()); n != writers*each+1 {
		t.Fatalf("size %d, want %d (the catalog pinned, then the appends)", n, writers*each+1)
	}
	seqs := map[int64]string{}
	for w := range writers {
		if len(ids[w]) != each {
			t.Fatalf("writer %d acknowledged %d appends, want %d", w, len(ids[w]), each)
		}
		last := int64(-1)
		for i, id := range ids[w] {
			inc, err := db.Prove(id)
			if err != nil {
				t.Fatalf("writer %d, append %d (%s): %v", w, i, id, err)
			}
			if other, dup := seqs[inc.Entry.Seq]; dup {
				t.Fatalf("entries %s and %s share seq %d", other, id, inc.Entry.Seq)
			}
			seqs[inc.Entry.Seq] = id
			// One writer's appends are in its order.
			if inc.Entry.Seq <= last {
				t.Errorf("writer %d: append %d has seq %d after seq %d", w, i, inc.Entry.Seq, last)
			}
			last = inc.Entry.Seq
			if p := must(inc.Entry.Patient()); p.MRN != fmt.Sprintf("W%d-%04d", w, i) || inc.Entry.RecordedBy != fmt.Sprintf("writer%d", w) {
				t.Errorf("writer %d, append %d stored as %+v by %s", w, i, p, inc.Entry.RecordedBy)
			}
		}
	}
	res, err := db.Verify()
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != writers*each+1 || res.Checkpoints != writers*each+1 {
		t.Errorf("verify = %+v, want %d entries, each with its checkpoint", res, writers*each+1)
	}
}

// TestConcurrentSameEntriesStoredOnce: two goroutines register the same
// patients at the same time (a retried request). Under batching a replay
// fails the shared transaction and is re-run alone; each patient is still
// stored once, and both callers are given the same entry.
func TestConcurrentSameEntriesStoredOnce(t *testing.T) {
	const writers, each = 2, 40
	path := filepath.Join(t.TempDir(), "replay.db")
	db := must(clinic.Create(as("clerk"), path, ledger.Options{Batch: true}, nil))
	defer db.Close()
	got := make([][]clinic.Result, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				res, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: fmt.Sprintf("MRN-%d", i), Name: "Same Patient"})
				if err != nil {
					t.Errorf("writer %d, patient %d: %v", w, i, err)
					return
				}
				got[w] = append(got[w], res)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if n := must(db.Size()); n != each+1 {
		t.Fatalf("size %d, want %d (the catalog pinned, then each patient once)", n, each+1)
	}
	for i := range each {
		a, b := got[0][i], got[1][i]
		if a.Entry.ID != b.Entry.ID || a.Entry.Seq != b.Entry.Seq {
			t.Errorf("patient %d: writers got entries %s (%d) and %s (%d)", i, a.Entry.ID, a.Entry.Seq, b.Entry.ID, b.Entry.Seq)
		}
		if a.Existing == b.Existing {
			t.Errorf("patient %d: existing = %v for both writers, want exactly one new", i, a.Existing)
		}
	}
	if _, err := db.Verify(); err != nil {
		t.Error(err)
	}
}
