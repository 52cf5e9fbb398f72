package ledger_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// mapHashes is a tlog.HashReader over hashes held in memory.
type mapHashes map[int64]tlog.Hash

func (m mapHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := m[x]
		if !ok {
			return nil, fmt.Errorf("hash %d not computed", x)
		}
		out[i] = h
	}
	return out, nil
}

// rewriteEntry is the attacker who can write the file but not sign: with
// bbolt directly, it changes entry seq with edit, stores it in canonical
// form, and recomputes every stored tree hash so that entries and hashes
// agree again.
func rewriteEntry(t *testing.T, path string, seq int64, edit func(*ledger.Entry)) {
	t.Helper()
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		entries, hashes := tx.Bucket(bucketEntries), tx.Bucket(bucketHashes)
		var e ledger.Entry
		if err := json.Unmarshal(entries.Get(u64(uint64(seq))), &e); err != nil {
			return err
		}
		edit(&e)
		if err := entries.Put(u64(uint64(seq)), e.Encode()); err != nil {
			return err
		}
		return rehash(tx, entries, hashes)
	})
}

// rehash recomputes every stored hash from the entries, as the ledger would.
func rehash(tx *bolt.Tx, entries, hashes *bolt.Bucket) error {
	n := int64(entries.Sequence())
	hs := mapHashes{}
	for i := int64(0); i < n; i++ {
		stored, err := tlog.StoredHashes(i, entries.Get(u64(uint64(i))), hs)
		if err != nil {
			return err
		}
		base := tlog.StoredHashIndex(0, i)
		for j, h := range stored {
			hs[base+int64(j)] = h
			if err := hashes.Put(u64(uint64(base+int64(j))), bytes.Clone(h[:])); err != nil {
				return err
			}
		}
	}
	return nil
}

// editPayload replaces old by new in an entry's payload, failing the test
// if old is not there.
func editPayload(t *testing.T, old, new string) func(*ledger.Entry) {
	return func(e *ledger.Entry) {
		if !bytes.Contains(e.Payload, []byte(old)) {
			t.Fatalf("entry %d has no %s in its payload %s", e.Seq, old, e.Payload)
		}
		e.Payload = bytes.Replace(e.Payload, []byte(old), []byte(new), 1)
	}
}

// TestVerifyGoodLedger: a ledger of every kind verifies, with every
// checkpoint kept checked.
func TestVerifyGoodLedger(t *testing.T) {
	db, _, _ := openTest(t)
	_, second := seed(t, db)
	must(db.Correct(as("supervisor"), second.Entry.ID, "wrong residual", clinic.Replacement{}))
	res, err := db.Verify()
	if err != nil {
		t.Fatal(err)
	}
	// The catalog pinned, seed's five, the correction.
	if res.Entries != 7 || res.Tree.N != 7 || res.Checkpoints != 7 {
		t.Errorf("verify = %+v, want 7 entries, 7 checkpoints", res)
	}
	cp := must(db.Checkpoint())
	if cp.Tree != res.Tree {
		t.Errorf("verify's tree %v differs from the checkpoint's %v", res.Tree, cp.Tree)
	}
}

// TestVerifyNamesEachTamperedByte changes one byte of the stored file in each
// entry in turn: Verify fails naming that entry.
func TestVerifyNamesEachTamperedByte(t *testing.T) {
	// Each target is the nth entry of a kind, a string it holds, and the
	// byte to change in it.
	targets := []struct {
		kind ledger.Kind
		nth  int
		find string
		at   int
		to   byte
	}{
		{ledger.KindCatalog, 0, `"name":"default.json"`, len(`"name":"d`), 'D'},
		{ledger.KindCatalog, 0, `\"code\": \"J2278\"`, len(`\"code\": \"J227`), '9'}, // the pinned catalog itself
		{ledger.KindPatient, 0, `"name":"Test Patient"`, len(`"name":"T`), 'R'},
		{ledger.KindImplant, 0, `"model":"synchromed-ii-20"`, len(`"model":"synchromed-ii-`), '4'},
		{ledger.KindRefill, 0, `"mcg_per_day":"1.2"`, len(`"mcg_per_day":"1.`), '3'},
		{ledger.KindReprogram, 0, `"clinician":"drx"`, len(`"clinician":"dr`), 'y'},
		{ledger.KindRefill, 1, `"residual_ml":"5.5"`, len(`"residual_ml":"5.`), '9'},
		{ledger.KindRefill, 1, `"late":true`, len(`"late":`), ' '},           // an envelope field, not the payload
		{ledger.KindRefill, 0, `"kind":"refill"`, len(`"kind":"refil`), 'L'}, // the kind
	}
	for _, tc := range targets {
		t.Run(fmt.Sprintf("%s %d %s", tc.kind, tc.nth, tc.find), func(t *testing.T) {
			db, _, path := openTest(t)
			seed(t, db)
			if _, err := db.Verify(); err != nil {
				t.Fatal(err)
			}
			db.Close()
			seq := seqOfKind(t, path, tc.kind, tc.nth)
			flipStoredByte(t, path, seq, tc.find, tc.at, tc.to)
			db = must(clinic.Open(path, ledger.Options{}))
			defer db.Close()
			_, err := db.Verify()
			if !errors.Is(err, ledger.ErrTampered) {
				t.Fatalf("verify after changing one byte: %v, want ErrTampered", err)
			}
			if want := fmt.Sprintf("Entry %d ", seq); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("verify: %q, want it to name %q", err, want)
			}
		})
	}
}

// seqOfKind is the seq of the nth entry (from 0) of kind in a closed
// ledger file.
func seqOfKind(t *testing.T, path string, kind ledger.Kind, nth int) int64 {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	seq := int64(-1)
	if err := b.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEntries).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var e ledger.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Kind == kind {
				if nth == 0 {
					seq = e.Seq
					return nil
				}
				nth--
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seq < 0 {
		t.Fatalf("no such %s entry in %s", kind, path)
	}
	return seq
}

// flipStoredByte changes, in the file on disk, byte at of the first
// occurrence of find in the live copy of entry seq. The file also holds stale
// copies of pages (bbolt's freed pages), so the live copy is located through
// bbolt: a value read in a read-only transaction points into the file's
// memory map, whose start DB.Info reports.
func flipStoredByte(t *testing.T, path string, seq int64, find string, at int, to byte) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var off int64
	err = b.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEntries).Get(u64(uint64(seq)))
		i := bytes.Index(v, []byte(find))
		if i < 0 {
			return fmt.Errorf("entry %d holds no %s: %s", seq, find, v)
		}
		off = int64(uintptr(unsafe.Pointer(&v[i])) - b.Info().Data)
		return nil
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	f := must(os.OpenFile(path, os.O_RDWR, 0))
	defer f.Close()
	got := make([]byte, len(find))
	if _, err := f.ReadAt(got, off); err != nil || string(got) != find {
		t.Fatalf("file at %d holds %q (%v), want %q", off, got, err, find)
	}
	if _, err := f.WriteAt([]byte{to}, off+int64(at)); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyCatchesTamperedHash: a stored tree hash changed on its own.
func TestVerifyCatchesTamperedHash(t *testing.T) {
	db, _, path := openTest(t)
	seed(t, db)
	db.Close()
	// Stored hash index of leaf 2 (tlog.StoredHashIndex(0, 2)).
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		k := u64(uint64(tlog.StoredHashIndex(0, 2)))
		h := bytes.Clone(tx.Bucket(bucketHashes).Get(k))
		h[0] ^= 1
		return tx.Bucket(bucketHashes).Put(k, h)
	})
	db = must(clinic.Open(path, ledger.Options{}))
	defer db.Close()
	if _, err := db.Verify(); !errors.Is(err, ledger.ErrTampered) || !strings.HasPrefix(err.Error(), "Entry 2 ") {
		t.Errorf("verify after changing leaf 2's stored hash: %v, want entry 2 named", err)
	}
}

// TestRewriteWithHashesCaughtByCheckpoints: an attacker with write access to
// the file but not the key changes a recorded residual, and recomputes every
// tree hash so that entries and hashes agree. Each entry then matches its
// hashes; the signed checkpoints do not, in the ledger (Verify) nor in an
// auditor's hands (Consistent).
func TestRewriteWithHashesCaughtByCheckpoints(t *testing.T) {
	for _, attack := range []string{"keep checkpoints", "delete checkpoints"} {
		t.Run(attack, func(t *testing.T) {
			db, _, path := openTest(t)
			_, second := seed(t, db)
			audit := must(db.Checkpoint()) // the auditor keeps this one
			db.Close()

			rewriteEntry(t, path, second.Entry.Seq, editPayload(t, `"residual_ml":"5.5"`, `"residual_ml":"7.6"`))
			if attack == "delete checkpoints" {
				boltUpdate(t, path, func(tx *bolt.Tx) error {
					if err := tx.DeleteBucket(bucketCheckpoints); err != nil {
						return err
					}
					_, err := tx.CreateBucket(bucketCheckpoints)
					return err
				})
			}

			db = must(clinic.Open(path, ledger.Options{}))
			defer db.Close()
			// The attack is consistent: the entry matches its hashes and
			// the refill reads back changed.
			if rf := must(must(db.Prove("6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b")).Entry.Refill()); !rf.ResidualML.Equal(dec("7.6")) {
				t.Fatalf("the rewrite did not take: residual %s", rf.ResidualML)
			}
			res, err := db.Verify()
			if !errors.Is(err, ledger.ErrTampered) {
				t.Errorf("verify after a consistent rewrite: %+v, %v; want ErrTampered", res, err)
			}
			if _, err := db.Consistent(audit.Note); !errors.Is(err, ledger.ErrTampered) {
				t.Errorf("the auditor's checkpoint: %v, want ErrTampered", err)
			}
		})
	}
}

// TestRemovedEntryCaught: an attacker removes the last entry and its hashes.
// The checkpoints kept in the ledger are of more entries than remain.
func TestRemovedEntryCaught(t *testing.T) {
	db, _, path := openTest(t)
	seed(t, db)
	audit := must(db.Checkpoint())
	n := audit.Tree.N // the last entry is seq n-1
	db.Close()
	if n != 6 {
		t.Fatalf("%d entries, want 6 (the catalog pinned, seed's five)", n)
	}
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		entries, hashes := tx.Bucket(bucketEntries), tx.Bucket(bucketHashes)
		if err := entries.Delete(u64(uint64(n - 1))); err != nil {
			return err
		}
		for x := tlog.StoredHashIndex(0, n-1); x < tlog.StoredHashCount(n); x++ {
			if err := hashes.Delete(u64(uint64(x))); err != nil {
				return err
			}
		}
		return entries.SetSequence(uint64(n - 1))
	})
	db = must(clinic.Open(path, ledger.Options{}))
	if got := must(db.Size()); got != n-1 {
		t.Fatalf("size after removal %d, want %d", got, n-1)
	}
	if _, err := db.Verify(); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("verify after the last entry was removed: %v, want ErrTampered", err)
	}
	if _, err := db.Consistent(audit.Note); err == nil {
		t.Errorf("the auditor's checkpoint of %d entries is consistent with %d", n, n-1)
	}
	db.Close()

	// Removing the checkpoints of n entries too still leaves the removed
	// entry's index keys, which no entry files.
	boltUpdate(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketCheckpoints).Delete(u64(uint64(n))) })
	db = must(clinic.Open(path, ledger.Options{}))
	if _, err := db.Verify(); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("verify with the removed entry's index keys left behind: %v, want ErrTampered", err)
	}
	db.Close()

	// Removing those too leaves a ledger that is whole at n-1 entries:
	// only the auditor's checkpoint shows the loss.
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		for _, name := range []string{"ids", "by_patient", "by_pump", "by_date", "voided"} {
			b := tx.Bucket([]byte(name))
			var doomed [][]byte
			_ = b.ForEach(func(k, v []byte) error {
				if last := uint64(n - 1); (len(v) == 8 && binary.BigEndian.Uint64(v) == last) || (len(k) > 8 && binary.BigEndian.Uint64(k[len(k)-8:]) == last) {
					doomed = append(doomed, bytes.Clone(k))
				}
				return nil
			})
			for _, k := range doomed {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	db = must(clinic.Open(path, ledger.Options{}))
	defer db.Close()
	if _, err := db.Verify(); err != nil {
		t.Errorf("verify of a ledger truncated to a checkpointed size: %v", err)
	}
	if _, err := db.Consistent(audit.Note); err == nil {
		t.Errorf("the auditor's checkpoint of %d entries is consistent with %d", n, n-1)
	}
}

// keyFile reads the ledger's signing key (line 1) and verifier key (line 2).
func keyFile(t *testing.T, path string) (signer note.Signer, vkey string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(must(os.ReadFile(path+".key")))), "\n")
	if len(lines) != 2 {
		t.Fatalf("key file has %d lines", len(lines))
	}
	return must(note.NewSigner(lines[0])), lines[1]
}

func checkpointBody(origin string, tr tlog.Tree) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, tr.N, base64.StdEncoding.EncodeToString(tr.Hash[:]))
}

// TestCheckpointConsistencyAcrossGrowth: checkpoints taken along the way stay
// consistent with the ledger as it grows, and each verifies with the public
// key and tlog alone, against a tree the auditor recomputes from the entries.
func TestCheckpointConsistencyAcrossGrowth(t *testing.T) {
	db, _, _ := openTest(t)
	var kept []ledger.Checkpoint
	hs := mapHashes{} // the auditor's own copy of the tree
	add := func(i int64, e ledger.Entry) {
		stored := must(tlog.StoredHashes(i, e.Encode(), hs))
		for j, h := range stored {
			hs[tlog.StoredHashIndex(0, i)+int64(j)] = h
		}
	}
	// Entry 0 pins the catalog; then 299 patients.
	add(0, must(db.Prove(must(db.Catalogs(bg))[0].EntryID)).Entry)
	for i := int64(1); i < 300; i++ {
		e := must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: fmt.Sprintf("MRN-%04d", i), Name: "Patient"})).Entry
		add(i, e)
		if i < 4 || i%37 == 0 {
			kept = append(kept, must(db.Checkpoint()))
		}
	}
	cur := must(db.Checkpoint())
	if cur.Tree.N != 300 {
		t.Fatalf("tree size %d, want 300", cur.Tree.N)
	}
	if root := must(tlog.TreeHash(300, hs)); root != cur.Tree.Hash {
		t.Fatalf("signed root differs from the root of the entries as appended")
	}
	v := must(note.NewVerifier(cur.Verifier))
	for _, old := range kept {
		got, err := db.Consistent(old.Note)
		if err != nil {
			t.Fatalf("checkpoint of %d entries: %v", old.Tree.N, err)
		}
		if got != cur.Tree {
			t.Errorf("Consistent returned %v, want the current tree %v", got, cur.Tree)
		}
		// The auditor's own check, with the public key and tlog only.
		n, err := note.Open(old.Note, note.VerifierList(v))
		if err != nil {
			t.Fatalf("checkpoint of %d entries does not open with the public key: %v", old.Tree.N, err)
		}
		if !strings.HasSuffix(n.Text, fmt.Sprintf("\n%d\n%s\n", old.Tree.N, base64.StdEncoding.EncodeToString(old.Tree.Hash[:]))) {
			t.Errorf("checkpoint text %q does not state its tree %v", n.Text, old.Tree)
		}
		proof := must(tlog.ProveTree(cur.Tree.N, old.Tree.N, hs))
		if err := tlog.CheckTree(proof, cur.Tree.N, cur.Tree.Hash, old.Tree.N, old.Tree.Hash); err != nil {
			t.Errorf("consistency proof %d → %d: %v", old.Tree.N, cur.Tree.N, err)
		}
	}
	// A checkpoint of the current size is itself consistent.
	if _, err := db.Consistent(cur.Note); err != nil {
		t.Errorf("current checkpoint: %v", err)
	}
}

// alterSignature flips one bit of a note's signature (its last line).
func alterSignature(t *testing.T, msg []byte) []byte {
	t.Helper()
	i := bytes.LastIndex(msg, []byte("\n— "))
	fields := strings.Fields(string(msg[i+1:]))
	if len(fields) != 3 {
		t.Fatalf("signature line %q", msg[i+1:])
	}
	sig := must(base64.StdEncoding.DecodeString(fields[2]))
	sig[len(sig)-1] ^= 1
	return append(bytes.Clone(msg[:i+1]), fmt.Sprintf("— %s %s\n", fields[1], base64.StdEncoding.EncodeToString(sig))...)
}

// TestForgedCheckpointsRefused: a checkpoint signed by another key (even
// under this ledger's name), a checkpoint signed by this ledger's key but of
// another root, of another size, or of another ledger, are all refused.
func TestForgedCheckpointsRefused(t *testing.T) {
	db, _, path := openTest(t)
	seed(t, db)
	cp := must(db.Checkpoint())
	origin, _, _ := strings.Cut(string(cp.Note), "\n")
	signer, _ := keyFile(t, path)
	sign := func(text string, s note.Signer) []byte {
		return must(note.Sign(&note.Note{Text: text}, s))
	}
	// The genuine body re-signed by its own key is accepted: the forgeries
	// below fail for what they change, not for how they are built.
	if _, err := db.Consistent(sign(checkpointBody(origin, cp.Tree), signer)); err != nil {
		t.Fatalf("genuine checkpoint re-signed: %v", err)
	}

	skey, _ := must2(note.GenerateKey(rand.Reader, origin)) // same name, other key
	otherSigner := must(note.NewSigner(skey))
	wrongRoot := cp.Tree
	wrongRoot.Hash[0] ^= 1
	smaller := tlog.Tree{N: 3, Hash: cp.Tree.Hash} // the root of 6 claimed for 3
	if cp.Tree.N != 6 {
		t.Fatalf("tree of %d entries, want 6 (the catalog pinned, seed's five)", cp.Tree.N)
	}

	for name, tc := range map[string]struct {
		msg      []byte
		tampered bool // refused with ErrTampered (a proof failed), not for its signature
	}{
		"signed by another key":              {msg: sign(checkpointBody(origin, cp.Tree), otherSigner)},
		"signed by another key, other root":  {msg: sign(checkpointBody(origin, wrongRoot), otherSigner)},
		"signature bytes altered":            {msg: alterSignature(t, cp.Note)},
		"body altered after signing":         {msg: bytes.Replace(cp.Note, []byte("\n6\n"), []byte("\n5\n"), 1)},
		"correctly signed, another root":     {msg: sign(checkpointBody(origin, wrongRoot), signer), tampered: true},
		"correctly signed, size/root swap":   {msg: sign(checkpointBody(origin, smaller), signer), tampered: true},
		"correctly signed, another ledger":   {msg: sign(checkpointBody("pumpledger/other", cp.Tree), signer)},
		"correctly signed, beyond the end":   {msg: sign(checkpointBody(origin, tlog.Tree{N: 7, Hash: cp.Tree.Hash}), signer)},
		"correctly signed, malformed body":   {msg: sign(origin+"\nfive\n"+base64.StdEncoding.EncodeToString(cp.Tree.Hash[:])+"\n", signer)},
		"not a note":                         {msg: []byte("hello\n")},
		"genuine note of another ledger key": {msg: otherLedgerCheckpoint(t)},
	} {
		_, err := db.Consistent(tc.msg)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if pumpledger.ErrorCode(err) != pumpledger.EINVALID {
			t.Errorf("%s: code %s (%v), want invalid", name, pumpledger.ErrorCode(err), err)
		}
		if tc.tampered && !errors.Is(err, ledger.ErrTampered) {
			t.Errorf("%s: %v, want ErrTampered", name, err)
		}
	}
	// Nothing above changed the ledger.
	if _, err := db.Verify(); err != nil {
		t.Error(err)
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// otherLedgerCheckpoint is a genuine checkpoint of another ledger.
func otherLedgerCheckpoint(t *testing.T) []byte {
	t.Helper()
	db := must(clinic.Create(as("clerk"), filepath.Join(t.TempDir(), "other.db"), ledger.Options{}, nil))
	defer db.Close()
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	return must(db.Checkpoint()).Note
}

// TestInclusionProofs: every entry's inclusion proof checks with
// tlog.CheckRecord against a signed checkpoint's root, and fails for any
// other entry content, position or root.
func TestInclusionProofs(t *testing.T) {
	db, _, _ := openTest(t)
	seed(t, db)
	ids := []string{must(db.Catalogs(bg))[0].EntryID} // entry 0, filed under no patient
	for i := range 20 {
		ids = append(ids, must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: fmt.Sprintf("MRN-X%d", i), Name: "Patient"})).Entry.ID)
	}
	for _, it := range must(db.History(bg, "MRN-1")) {
		ids = append(ids, it.Entry.ID)
	}
	cp := must(db.Checkpoint())
	if len(ids) != int(cp.Tree.N) {
		t.Fatalf("%d ids for a tree of %d", len(ids), cp.Tree.N)
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		inc, err := db.Prove(id)
		if err != nil {
			t.Fatalf("prove %s: %v", id, err)
		}
		if inc.Entry.ID != id || inc.Tree != cp.Tree || seen[inc.Entry.Seq] {
			t.Fatalf("prove %s: entry %s seq %d tree %v; checkpoint tree %v", id, inc.Entry.ID, inc.Entry.Seq, inc.Tree, cp.Tree)
		}
		seen[inc.Entry.Seq] = true
		leaf := tlog.RecordHash(inc.Entry.Encode())
		if leaf != inc.Leaf {
			t.Errorf("entry %d: leaf %v, want the hash of its encoding", inc.Entry.Seq, inc.Leaf)
		}
		if err := tlog.CheckRecord(inc.Proof, cp.Tree.N, cp.Tree.Hash, inc.Entry.Seq, leaf); err != nil {
			t.Errorf("entry %d: %v", inc.Entry.Seq, err)
		}
		// The same proof fails for altered content, another position, another root.
		altered := inc.Entry
		altered.RecordedBy += "x"
		if tlog.CheckRecord(inc.Proof, cp.Tree.N, cp.Tree.Hash, inc.Entry.Seq, tlog.RecordHash(altered.Encode())) == nil {
			t.Errorf("entry %d: proof holds for altered content", inc.Entry.Seq)
		}
		if tlog.CheckRecord(inc.Proof, cp.Tree.N, cp.Tree.Hash, (inc.Entry.Seq+1)%cp.Tree.N, leaf) == nil {
			t.Errorf("entry %d: proof holds at another position", inc.Entry.Seq)
		}
		other := cp.Tree.Hash
		other[31] ^= 1
		if tlog.CheckRecord(inc.Proof, cp.Tree.N, other, inc.Entry.Seq, leaf) == nil {
			t.Errorf("entry %d: proof holds for another root", inc.Entry.Seq)
		}
	}
	if _, err := db.Prove("00000000-0000-0000-0000-000000000000"); pumpledger.ErrorCode(err) != pumpledger.ENOTFOUND {
		t.Errorf("prove of an unknown id: %v, want not found", err)
	}
}

// TestHotBackup: a backup written while another goroutine appends opens as a
// ledger (with the key copied beside it), verifies on its own, holds every
// entry acknowledged before the backup began, and extends the checkpoint
// an auditor took before it.
func TestHotBackup(t *testing.T) {
	db, _, path := openTest(t)
	seed(t, db)
	before := must(db.Checkpoint())
	var acked []string
	for i := range 50 {
		acked = append(acked, must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: fmt.Sprintf("MRN-A%d", i), Name: "Patient"})).Entry.ID)
	}

	// Keep appending during the backup.
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: fmt.Sprintf("MRN-B%d", i), Name: "Patient"}); err != nil {
				done <- err
				return
			}
		}
	}()
	bpath := filepath.Join(t.TempDir(), "backup.db")
	n, err := db.BackupFile(bpath)
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("append during backup: %v", err)
	}
	if fi := must(os.Stat(bpath)); fi.Size() != n {
		t.Errorf("backup wrote %d bytes, reported %d", fi.Size(), n)
	}
	// The ledger itself is still whole and open for appends.
	if _, err := db.Verify(); err != nil {
		t.Fatalf("ledger after backup: %v", err)
	}

	// An auditor's copy: the file and the public key, no private key.
	if err := os.WriteFile(bpath+".pub", must(os.ReadFile(path+".pub")), 0o600); err != nil {
		t.Fatal(err)
	}
	bdb, err := clinic.Open(bpath, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer bdb.Close()
	res, err := bdb.Verify()
	if err != nil {
		t.Fatalf("verify backup: %v", err)
	}
	if res.Checkpoints != int(res.Entries) || res.Entries < int64(6+len(acked)) {
		t.Errorf("backup verify = %+v, want at least %d entries, each checkpoint checked", res, 6+len(acked))
	}
	for _, id := range acked {
		if _, err := bdb.Prove(id); err != nil {
			t.Errorf("backup lacks entry %s: %v", id, err)
		}
	}
	if _, err := bdb.Consistent(before.Note); err != nil {
		t.Errorf("backup vs the checkpoint taken before it: %v", err)
	}
	// The ledger, grown since, extends the backup's last checkpoint.
	if _, err := db.Consistent(checkpointAt(t, bpath, res.Entries)); err != nil {
		t.Errorf("ledger vs the backup's last checkpoint: %v", err)
	}
}

// checkpointAt reads the note kept at size n in a closed or read-only file.
func checkpointAt(t *testing.T, path string, n int64) []byte {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var msg []byte
	if err := b.View(func(tx *bolt.Tx) error {
		msg = bytes.Clone(tx.Bucket(bucketCheckpoints).Get(u64(uint64(n))))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if msg == nil {
		t.Fatalf("no checkpoint of %d entries in %s", n, path)
	}
	return msg
}
