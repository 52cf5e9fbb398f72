package ledger_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

// The holes of the signing key (issue 10, item 6): a ledger mints a key only
// in Create; verifying needs only LEDGER.pub; a missing or different key is
// an error that says so.

// seeded is a closed ledger holding seed's five entries, and its path.
func seeded(t *testing.T) string {
	t.Helper()
	db, _, path := openTest(t)
	seed(t, db)
	db.Close()
	return path
}

// copyFiles copies the ledger at src (and the named key files beside it)
// to a new directory, as someone copying a ledger would.
func copyFiles(t *testing.T, src string, suffixes ...string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy.db")
	for _, s := range append([]string{""}, suffixes...) {
		if err := os.WriteFile(dst+s, must(os.ReadFile(src+s)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// wantRefused checks err is a refusal, code code, whose message holds each
// of says.
func wantRefused(t *testing.T, what string, err error, code string, says ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	msg := pumpledger.ErrorMessage(err)
	if pumpledger.ErrorCode(err) != code {
		t.Errorf("%s: code %s (%s), want %s", what, pumpledger.ErrorCode(err), msg, code)
	}
	for _, s := range says {
		if !strings.Contains(msg, s) {
			t.Errorf("%s: %q does not say %q", what, msg, s)
		}
	}
}

// A ledger copied without its private key: checkpoint and appends refuse,
// naming the file, and mint nothing; verify works with LEDGER.pub alone.
// Before, checkpoint minted a key and the untouched copy then failed verify.
func TestCopyWithoutKeyNeverMints(t *testing.T) {
	cp := copyFiles(t, seeded(t), ".pub")
	db := must(clinic.Open(cp, ledger.Options{}))
	defer db.Close()
	_, err := db.Checkpoint()
	wantRefused(t, "checkpoint without the key", err, pumpledger.ENOTFOUND, "No signing key at "+cp+".key", "restore it from your backup")
	_, err = db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"})
	wantRefused(t, "append without the key", err, pumpledger.ENOTFOUND, "No signing key at "+cp+".key", "restore it from your backup")
	if exists(cp + ".key") {
		t.Fatal("a key was minted")
	}
	if res, err := db.Verify(); err != nil || res.Entries != 6 || res.Checkpoints != 6 { // the pinned catalog, then seeded's five
		t.Errorf("verify of the untouched copy with LEDGER.pub: %+v, %v", res, err)
	}
}

// The key deleted: an append refuses, where before it minted a new key
// under which a rewrite verified green again.
func TestDeletedKeyRefusesAppend(t *testing.T) {
	path := seeded(t)
	os.Remove(path + ".key")
	db := must(clinic.Open(path, ledger.Options{}))
	defer db.Close()
	_, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"})
	wantRefused(t, "append with the key deleted", err, pumpledger.ENOTFOUND, "No signing key at "+path+".key")
	if exists(path+".key") || must(db.Size()) != 6 {
		t.Errorf("the append minted a key or wrote (size %d)", must(db.Size()))
	}
}

// A rewrite with the private key gone: verify fails. Before, verify said
// ok (the signature "not checked") on any rewrite once the key was missing.
func TestRewriteWithoutKeyFailsVerify(t *testing.T) {
	for _, gone := range []string{".key", ".key and .pub"} {
		t.Run(gone, func(t *testing.T) {
			path := seeded(t)
			rewriteEntry(t, path, 5, editPayload(t, `"residual_ml":"5.5"`, `"residual_ml":"7.6"`))
			os.Remove(path + ".key")
			if gone != ".key" {
				os.Remove(path + ".pub")
			}
			db := must(clinic.Open(path, ledger.Options{ReadOnly: true}))
			defer db.Close()
			_, err := db.Verify()
			if gone == ".key" && !errors.Is(err, ledger.ErrTampered) {
				t.Errorf("verify of a rewrite, the key gone: %v; want ErrTampered", err)
			}
			if gone != ".key" {
				wantRefused(t, "verify with no key at all", err, pumpledger.ENOTFOUND, "No public key at "+path+".pub")
			}
		})
	}
}

// Keys of another ledger: said plainly, not "tampered".
func TestOtherLedgersKeysRefused(t *testing.T) {
	path, other := seeded(t), seeded(t)

	cp := copyFiles(t, path, ".key")
	os.WriteFile(cp+".pub", must(os.ReadFile(other+".pub")), 0o644)
	db := must(clinic.Open(cp, ledger.Options{}))
	_, err := db.Verify()
	wantRefused(t, "verify with another ledger's .pub", err, pumpledger.EINVALID, cp+".pub is of ledger", "not of this one")
	db.Close()

	cp = copyFiles(t, path, ".pub")
	os.WriteFile(cp+".key", must(os.ReadFile(other+".key")), 0o600)
	db = must(clinic.Open(cp, ledger.Options{}))
	defer db.Close()
	_, err = db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"})
	wantRefused(t, "append with another ledger's key", err, pumpledger.EINVALID, "does not match the public key", "restore both from your backup")
	if _, err := db.Verify(); err != nil {
		t.Errorf("verify with the right .pub beside a wrong key: %v", err)
	}
}

// A ledger made before init wrote LEDGER.pub has only its key file: the
// .pub is derived from it, written, and verifies.
func TestPubDerivedForOlderLedgers(t *testing.T) {
	path := seeded(t)
	os.Remove(path + ".pub")
	db := must(clinic.Open(path, ledger.Options{ReadOnly: true}))
	if _, err := db.Verify(); err != nil {
		t.Fatalf("verify of an older ledger: %v", err)
	}
	db.Close()
	_, vkey := keyFile(t, path)
	if b, err := os.ReadFile(path + ".pub"); err != nil || string(b) != vkey+"\n" {
		t.Fatalf("LEDGER.pub %q, %v; want the key file's public line", b, err)
	}
	os.Remove(path + ".key") // from now on, the .pub alone verifies
	db = must(clinic.Open(path, ledger.Options{ReadOnly: true}))
	defer db.Close()
	if _, err := db.Verify(); err != nil {
		t.Errorf("verify with the derived .pub alone: %v", err)
	}
}

// Appends refuse a ledger whose head does not check, telling the user to
// verify and restore. Each damage here fails verify, and is one the check
// made before the first append catches (see checkHead); before it, the
// append went ahead and signed the damaged tree.
func TestAppendRefusedOnDamagedLedger(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"an earlier entry rewritten with its hashes", func(t *testing.T, path string) {
			rewriteEntry(t, path, 3, editPayload(t, `"fill_ml":"20"`, `"fill_ml":"19"`))
		}},
		{"the last entry rewritten", func(t *testing.T, path string) {
			flipStoredByte(t, path, 5, `"residual_ml":"5.5"`, len(`"residual_ml":"5.`), '9')
		}},
		{"the latest checkpoint removed", func(t *testing.T, path string) {
			boltUpdate(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketCheckpoints).Delete(u64(6)) })
		}},
		{"the latest checkpoint's signature altered", func(t *testing.T, path string) {
			boltUpdate(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketCheckpoints).Put(u64(6), alterSignature(t, tx.Bucket(bucketCheckpoints).Get(u64(6))))
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := seeded(t)
			tc.damage(t, path)
			db := must(clinic.Open(path, ledger.Options{}))
			defer db.Close()
			if _, err := db.Verify(); err == nil {
				t.Fatal("verify passed the damage")
			}
			before := must(os.ReadFile(path))
			_, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"})
			wantRefused(t, "append", err, pumpledger.EINVALID, "fails the check made before writing", "nothing was recorded",
				"run `pumpledger verify --db "+path+"` and restore the ledger from your backup")
			if strings.Count(pumpledger.ErrorMessage(err), ". ") > 0 {
				t.Errorf("%q is more than one sentence", pumpledger.ErrorMessage(err))
			}
			_, err = db.Checkpoint()
			wantRefused(t, "checkpoint", err, pumpledger.EINVALID, "fails the check made before writing")
			if string(must(os.ReadFile(path))) != string(before) {
				t.Error("the refused append changed the file")
			}
		})
	}
}

// Through a symlink, the ledger's own keys are used and none is made beside
// the link; a ledger and key readable by others are made 0600.
func TestOpenThroughSymlinkAndModes(t *testing.T) {
	path := seeded(t)
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	os.Chmod(path+".key", 0o644)
	db := must(clinic.Open(link, ledger.Options{}))
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"}))
	must(db.Checkpoint())
	if res, err := db.Verify(); err != nil || res.Entries != 7 {
		t.Errorf("verify through the link: %+v, %v", res, err)
	}
	db.Close()
	for _, s := range []string{".key", ".pub"} {
		if exists(link + s) {
			t.Errorf("%s made beside the link", filepath.Base(link+s))
		}
	}
	for _, p := range []string{path, path + ".key"} {
		if fi := must(os.Stat(p)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v after open, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

// A key file that is not a regular file, or too big: refused at once, not
// read without end (a link to /dev/zero) or waited on (a FIFO).
func TestKeyFilesNotRegularRefused(t *testing.T) {
	for _, tc := range []struct {
		name, suffix string
		make         func(p string) error
	}{
		{"key links to /dev/zero", ".key", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"key is a FIFO", ".key", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"key is 1 MB", ".key", func(p string) error { return os.WriteFile(p, make([]byte, 1<<20), 0o600) }},
		{"pub links to /dev/zero", ".pub", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"pub is a FIFO", ".pub", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := seeded(t)
			os.Remove(path + tc.suffix)
			if err := tc.make(path + tc.suffix); err != nil {
				t.Fatal(err)
			}
			db := must(clinic.Open(path, ledger.Options{}))
			defer db.Close()
			done := make(chan error, 1)
			go func() {
				_, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"})
				done <- err
			}()
			select {
			case err := <-done:
				wantRefused(t, "append", err, pumpledger.EINVALID, "restore it from your backup")
			case <-time.After(10 * time.Second):
				t.Fatal("the append hangs on the key file")
			}
		})
	}
}

// Create refuses an existing ledger, and clears the temporary files of a
// Create that was killed (one of them a private key).
func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	stale := path + ".key.tmp-12345"
	os.WriteFile(stale, []byte("a private key\n"), 0o600)
	db := must(clinic.Create(as("clerk"), path, ledger.Options{}, nil))
	db.Close()
	if exists(stale) {
		t.Error("a killed Create's temporary key file is left")
	}
	for p, mode := range map[string]os.FileMode{path: 0o600, path + ".key": 0o600, path + ".pub": 0o644} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, %v; want mode %v", filepath.Base(p), fi, err, mode)
		}
	}
	key := must(os.ReadFile(path + ".key"))
	_, err := clinic.Create(as("clerk"), path, ledger.Options{}, nil)
	wantRefused(t, "create over a ledger", err, pumpledger.ECONFLICT, "A ledger already exists")
	if string(must(os.ReadFile(path+".key"))) != string(key) {
		t.Error("a refused Create changed the key")
	}
	_, err = clinic.Open(filepath.Join(t.TempDir(), "typo.db"), ledger.Options{})
	wantRefused(t, "open of a missing ledger", err, pumpledger.ENOTFOUND, "No ledger at ", "create one with `pumpledger init --db ")
}
