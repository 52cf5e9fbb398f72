package ledger_test

import (
	"bytes"
	"testing"

	"github.com/pumpledger/pumpledger"
)

// FuzzConsistent feeds arbitrary bytes where an auditor's checkpoint goes:
// never a panic, and never accepted unless it is one of this ledger's own.
func FuzzConsistent(f *testing.F) {
	db, _, _ := openTest(f)
	seed(f, db)
	cp := must(db.Checkpoint())
	if cp.Tree.N != 6 {
		f.Fatalf("tree of %d entries, want 6 (the catalog pinned, seed's five)", cp.Tree.N)
	}
	real := cp.Note
	f.Add(real)
	f.Add(bytes.Replace(real, []byte("\n6\n"), []byte("\n5\n"), 1))
	f.Add([]byte("pumpledger/x\n6\nAAAA\n\n— pumpledger/x AAAA\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, note []byte) {
		cur, err := db.Consistent(note)
		if err != nil {
			if pumpledger.ErrorCode(err) != pumpledger.EINVALID {
				t.Fatalf("Consistent(%q): %v, want an EINVALID refusal", note, err)
			}
			return
		}
		// Accepted: it must state this tree, signed by this ledger's key (a
		// fuzzer cannot forge Ed25519; note.Open may ignore extra signatures
		// of unknown keys, so compare the signed text, not the whole note).
		text, _, _ := bytes.Cut(note, []byte("\n\n"))
		want, _, _ := bytes.Cut(real, []byte("\n\n"))
		if !bytes.Equal(text, want) || cur != cp.Tree {
			t.Fatalf("accepted %q as consistent", note)
		}
	})
}
