package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

// access log prints the views the web app logged, all or one patient's;
// access verify passes, and after a view's patient is changed in the file
// it fails, exit 1, saying the log was altered.
func TestAccessLogAndVerify(t *testing.T) {
	c := newCLI(t)
	if out := c.ok("", "access", "log"); out != "No views logged.\n" {
		t.Errorf("an empty log: %q", out)
	}
	db, err := clinic.Open(c.db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, mrn := range []string{"MRN-1", "MRN-2"} {
		if _, err := db.AccessLog().Append(ledger.Access{User: "nurse1", Role: "nurse", MRN: mrn, What: "history", From: "10.0.0.7"}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if out := c.ok("", "access", "log", "--mrn", "MRN-2"); !strings.Contains(out, "nurse1") || !strings.Contains(out, "MRN-2") || strings.Contains(out, "MRN-1") || !strings.Contains(out, "from 10.0.0.7") {
		t.Errorf("access log --mrn MRN-2:\n%s", out)
	}
	if out := c.ok("", "access", "verify"); !strings.HasPrefix(out, "ok: 2 access records match their tree") {
		t.Errorf("access verify: %q", out)
	}
	// The checkpoint the auditor downloads proves the log only grew.
	kept := filepath.Join(t.TempDir(), "access-checkpoint.txt")
	db, err = clinic.Open(c.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.AccessLog().Verify()
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(kept, res.Note, 0o600)
	if out := c.ok("", "access", "verify", "--since", kept); !strings.Contains(out, "consistent: the access log extends the checkpoint") {
		t.Errorf("access verify --since: %q", out)
	}
	b, err := bolt.Open(ledger.AccessPath(c.db), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		r := tx.Bucket([]byte("access"))
		k, v := r.Cursor().First()
		return r.Put(k, []byte(strings.Replace(string(v), "MRN-1", "MRN-3", 1)))
	})
	b.Close()
	code, _, errs := c.run("", "access", "verify")
	if code != 1 || !strings.Contains(errs, "was altered") {
		t.Errorf("access verify after an edit: exit %d %q", code, errs)
	}
}
