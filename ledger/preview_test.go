package ledger_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// A form's preview of a refill does not wait for bbolt's one writer: it
// is derived in a read transaction, and answers while another write is
// under way (with the write-and-roll-back preview it waited for it).
func TestRefillPreviewBesideAWrite(t *testing.T) {
	db, _, _ := openTest(t)
	seed(t, db)
	release, held := make(chan struct{}), make(chan struct{})
	writeDone := make(chan error, 1)
	go func() {
		_, err := db.DB.Write("", pumpledger.KindPatient, []byte(`{}`), func(tx *ledger.Tx) ([]ledger.Entry, error) {
			close(held)
			<-release
			return nil, errors.New("released: nothing to append")
		}, nil)
		writeDone <- err
	}()
	<-held
	third := strings.NewReplacer(`"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"`, `"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5c"`,
		`2026-03-31T09:00:00Z`, `2026-04-01T09:00:00Z`, `"residual_ml":"5.5"`, `"residual_ml":"19.6"`).Replace(secondFill)
	answered := make(chan error, 1)
	go func() {
		res, err := db.RecordRefill(clinic.Preview(as("nurse")), parseRefill(t, third))
		if err == nil && (res.Record == nil || len(res.Record.Lines) == 0) {
			err = errors.New("the preview derived no record")
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("the preview: %v", err)
		}
	case <-time.After(20 * time.Second):
		close(release) // or the ledger cannot close
		<-writeDone
		<-answered
		t.Fatal("the preview waited for the write under way")
	}
	close(release)
	<-writeDone
}

// When the check needs the entries in the tree (a late entry re-derives
// the pump's later ones with it), the read preview hands over to the
// write-and-roll-back one: the check then runs in a writable transaction,
// and nothing is written either way.
func TestPreviewReadHandsOverWhenTheCheckNeedsTheTree(t *testing.T) {
	db, _, path := openTest(t)
	seed(t, db)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n0 := must(db.Size())
	var writable []bool
	w, err := db.DB.PreviewRead("", pumpledger.KindReview, []byte(`{"x":1}`), func(tx *ledger.Tx) ([]ledger.Entry, error) {
		return []ledger.Entry{db.DB.Envelope("", pumpledger.KindReview, "nurse", pumpledger.Instant{UTC: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}, []byte(`{"x":1}`))}, nil
	}, func(tx *ledger.Tx) error {
		writable = append(writable, tx.Writable())
		if !tx.Writable() {
			return ledger.ErrPreviewNeedsWrite
		}
		if tx.Size() != n0+1 {
			t.Errorf("the check in the write preview sees %d entries, want the new one appended (%d)", tx.Size(), n0+1)
		}
		return nil
	})
	if err != nil || len(w.Entries) != 1 {
		t.Fatalf("PreviewRead: %v, %d entries", err, len(w.Entries))
	}
	if len(writable) != 2 || writable[0] || !writable[1] {
		t.Errorf("the check ran in transactions writable %v, want [false true]", writable)
	}
	after, _ := os.ReadFile(path)
	if must(db.Size()) != n0 || string(before) != string(after) {
		t.Error("the preview wrote")
	}
}
