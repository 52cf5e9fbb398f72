package clinic

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// as is the context of a use case recorded by by; bg that of a read.
func as(by string) context.Context {
	return pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: by, Role: pumpledger.RoleClinic})
}

var bg = context.Background()

// Every use case that records needs an actor in its context: without
// one, or with one whose name holds a control character, nothing is
// written, not even a new ledger.
func TestRecordingNeedsAnActor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	if _, err := Create(bg, path, ledger.Options{NoSync: true}, nil); pumpledger.ErrorCode(err) != pumpledger.EUNAUTHORIZED {
		t.Errorf("create without an actor: %v, want EUNAUTHORIZED", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("create without an actor left a ledger: %v", err)
	}
	db := must(Create(as("clerk"), path, ledger.Options{NoSync: true}, nil))
	defer db.Close()
	n := must(db.Size())
	p := pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}
	for name, ctx := range map[string]context.Context{"no actor": bg, "an empty name": as(""), "an escape in the name": as("clerk\x1b[2J")} {
		if _, err := db.AddPatient(ctx, p); err == nil {
			t.Errorf("patient recorded with %s", name)
		}
	}
	if got := must(db.Size()); got != n {
		t.Errorf("refused writes wrote: size %d → %d", n, got)
	}
	res := must(db.AddPatient(as("clerk"), p))
	if res.Entry.RecordedBy != "clerk" {
		t.Errorf("recorded_by %q, want the actor's name", res.Entry.RecordedBy)
	}
}
