package clinic

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
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

// Verify reads back every pinned catalog: one whose content does not hash
// to the SHA-256 its entry records (written by someone who went round the
// use cases, with the key) fails it, though the store's verify passes.
func TestVerifyReadsPinnedCatalogs(t *testing.T) {
	db := must(Create(as("clerk"), filepath.Join(t.TempDir(), "v.db"), ledger.Options{NoSync: true}, nil))
	defer db.Close()
	if _, err := db.Verify(); err != nil {
		t.Fatal(err)
	}
	bad := pumpledger.CatalogAdoption{SHA256: strings.Repeat("0", 64), From: "2026-01-01", Reason: "forged", Name: "x.json", Content: string(catalog.DefaultJSON())}
	if _, err := db.DB.Write("", pumpledger.KindCatalog, nil, func(tx *ledger.Tx) ([]ledger.Entry, error) {
		return []ledger.Entry{db.Envelope("", pumpledger.KindCatalog, "insider", pumpledger.NewInstant(db.Now()), ledger.Canonical(bad))}, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DB.Verify(); err != nil {
		t.Fatalf("the store's verify: %v (it knows no catalog)", err)
	}
	if _, err := db.Verify(); !errors.Is(err, ledger.ErrTampered) || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("verify of a pinned catalog that does not hash to its SHA-256: %v, want ErrTampered naming it", err)
	}
}
