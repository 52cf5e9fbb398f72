package ledger_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

// The layout of the file (see the package comment), for tests that read or
// rewrite it with bbolt directly, as an auditor or an attacker would.
var (
	bucketMeta        = []byte("meta")
	bucketEntries     = []byte("entries")
	bucketHashes      = []byte("hashes")
	bucketCheckpoints = []byte("checkpoints")
	keySchema         = []byte("schema")
)

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// boltUpdate opens a closed ledger file with bbolt and runs fn in one
// read-write transaction.
func boltUpdate(t testing.TB, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// rawEntry is the stored bytes of entry seq of a closed ledger file.
func rawEntry(t testing.TB, path string, seq int64) []byte {
	t.Helper()
	var out []byte
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bucketEntries).Get(u64(uint64(seq))))
		return nil
	})
	if out == nil {
		t.Fatalf("entry %d not stored", seq)
	}
	return out
}

// envelope is what an entry's envelope should hold.
type envelope struct {
	kind        ledger.Kind
	by          string
	recordedAt  time.Time
	performedAt time.Time // in UTC
	offset      string
	late        bool
}

func checkEnvelope(t *testing.T, name string, e ledger.Entry, seq int64, id string, want envelope) {
	t.Helper()
	if e.Seq != seq {
		t.Errorf("%s: seq %d, want %d", name, e.Seq, seq)
	}
	if e.ID != id {
		t.Errorf("%s: id %q, want %q", name, e.ID, id)
	}
	if _, err := uuid.Parse(e.ID); err != nil {
		t.Errorf("%s: id %q is not a UUID: %v", name, e.ID, err)
	}
	if e.Kind != want.kind {
		t.Errorf("%s: kind %q, want %q", name, e.Kind, want.kind)
	}
	if e.RecordedBy != want.by {
		t.Errorf("%s: recorded_by %q, want %q", name, e.RecordedBy, want.by)
	}
	if !e.RecordedAt.Equal(want.recordedAt) || e.RecordedAt.Location() != time.UTC {
		t.Errorf("%s: recorded_at %v, want %v in UTC", name, e.RecordedAt, want.recordedAt)
	}
	if !e.PerformedAt.Equal(want.performedAt) || e.PerformedAt.Location() != time.UTC {
		t.Errorf("%s: performed_at %v, want %v in UTC", name, e.PerformedAt, want.performedAt)
	}
	if e.PerformedOffset != want.offset {
		t.Errorf("%s: performed_offset %q, want %q", name, e.PerformedOffset, want.offset)
	}
	if e.Late != want.late {
		t.Errorf("%s: late = %v, want %v (recorded %v after performed)", name, e.Late, want.late, e.RecordedAt.Sub(e.PerformedAt))
	}
}

// TestEveryKindStoredAndReadBack appends one entry of each kind and reads
// each back from the file: by id (Prove), in the patient's history, and as
// the raw stored bytes, after the ledger was closed and opened again.
func TestEveryKindStoredAndReadBack(t *testing.T) {
	db, c, path := openTest(t)
	type appended struct {
		name  string
		entry ledger.Entry
		want  envelope
	}
	var all []appended
	add := func(name string, res clinic.Result, err error, want envelope) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Existing {
			t.Fatalf("%s: reported as already recorded", name)
		}
		want.recordedAt = c.t
		all = append(all, appended{name, res.Entry, want})
	}

	// A patient: performed = recorded, never late.
	c.t = time.Date(2026, 2, 20, 8, 0, 0, 0, time.UTC)
	res, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"})
	add("patient", res, err, envelope{kind: ledger.KindPatient, by: "clerk", performedAt: c.t, offset: "+00:00"})

	// An implant: the date at 00:00 UTC; recorded 15 h later, not late.
	c.t = time.Date(2026, 2, 20, 15, 0, 0, 0, time.UTC)
	res, err = db.Implant(as("drx"), pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"})
	add("implant", res, err, envelope{kind: ledger.KindImplant, by: "drx",
		performedAt: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), offset: "+00:00"})

	// A refill written at 04:00 -05:00 (09:00 UTC), recorded exactly 24 h
	// later: on the boundary, not late. The clinic's desk records it: the
	// actor who recorded it, not the nurse who did it.
	performed := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c.t = performed.Add(ledger.LateAfter)
	r := parseRefill(t, strings.Replace(firstFill, `"2026-03-01T09:00:00Z"`, `"2026-03-01T04:00:00-05:00"`, 1))
	res, err = db.RecordRefill(as("desk"), r)
	add("refill", res, err, envelope{kind: ledger.KindRefill, by: "desk", performedAt: performed, offset: "-05:00"})

	// A reprogramming recorded 24 h and 1 s after it was done: late.
	c.t = time.Date(2026, 3, 12, 9, 0, 1, 0, time.UTC)
	rp := must(pumpledger.ParseReprogram(strings.NewReader(
		strings.Replace(reprogram, `"2026-03-11T09:00:00Z"`, `"2026-03-11T10:00:00+01:00"`, 1))))
	res, err = db.RecordReprogram(as("drx"), rp)
	add("reprogram", res, err, envelope{kind: ledger.KindReprogram, by: "drx",
		performedAt: time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC), offset: "+01:00", late: true})
	reprogramID := res.Entry.ID

	// A correction voiding the reprogramming: performed when recorded.
	c.t = time.Date(2026, 3, 13, 10, 0, 0, 0, time.UTC)
	res, err = db.Correct(as("supervisor"), reprogramID, "entered on the wrong pump", clinic.Replacement{})
	add("correction", res, err, envelope{kind: ledger.KindCorrection, by: "supervisor", performedAt: c.t, offset: "+00:00"})
	correctionID := res.Entry.ID

	// An explant on 20 March recorded 5 days later: late.
	c.t = time.Date(2026, 3, 25, 9, 0, 0, 0, time.UTC)
	res, err = db.Explant(as("surgeon"), pumpledger.Explant{MRN: "MRN-1", Serial: "S1", Date: "2026-03-20", Reason: "infection"})
	add("explant", res, err, envelope{kind: ledger.KindExplant, by: "surgeon",
		performedAt: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), offset: "+00:00", late: true})

	// Nothing can be recorded on the explanted pump.
	c.t = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	if _, err := db.RecordRefill(as("tester"), parseRefill(t, secondFill)); err == nil {
		t.Error("a refill of an explanted pump was recorded")
	}

	// The envelopes as returned by the appends, after the entry 0 pinning
	// the catalog.
	for i, a := range all {
		checkEnvelope(t, a.name+" (returned)", a.entry, int64(i+1), a.entry.ID, a.want)
	}

	// Read back after closing and opening the file again.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = must(clinic.Open(path, ledger.Options{Now: c.now}))
	defer db.Close()
	if n := must(db.Size()); n != int64(len(all))+1 {
		t.Fatalf("size %d, want %d (the catalog pinned and the appends)", n, len(all)+1)
	}
	for i, a := range all {
		inc, err := db.Prove(a.entry.ID)
		if err != nil {
			t.Fatalf("%s: read back by id: %v", a.name, err)
		}
		checkEnvelope(t, a.name+" (stored)", inc.Entry, int64(i+1), a.entry.ID, a.want)
		if !bytes.Equal(inc.Entry.Encode(), a.entry.Encode()) {
			t.Errorf("%s: stored entry differs from the appended one:\n%s\n%s", a.name, inc.Entry.Encode(), a.entry.Encode())
		}
	}

	// The payloads decode to what was recorded.
	if p := must(all[0].entry.Patient()); p.MRN != "MRN-1" || p.Name != "Test Patient" {
		t.Errorf("patient payload %+v", p)
	}
	if im := must(all[1].entry.Implant()); im.Serial != "S1" || im.Model != "synchromed-ii-20" || im.Date != "2026-02-20" {
		t.Errorf("implant payload %+v", im)
	}
	if rf := must(all[2].entry.Refill()); rf.PerformedAt.String() != "2026-03-01T04:00:00-05:00" || !rf.FillML.Equal(dec("20")) || rf.ID != all[2].entry.ID || rf.Nurse != "jdoe" {
		t.Errorf("refill payload: performed %s, fill %s, id %s, nurse %q", rf.PerformedAt, rf.FillML, rf.ID, rf.Nurse)
	}
	if got := all[2].entry.Performed().String(); got != "2026-03-01T04:00:00-05:00" {
		t.Errorf("refill Performed() = %s, want the time as written", got)
	}
	if rp := must(all[3].entry.Reprogram()); !rp.Dose.MCGPerDay.Equal(dec("2.4")) {
		t.Errorf("reprogram payload %+v", rp)
	}
	if cp := must(all[4].entry.Correction()); cp.Voids != reprogramID || cp.Reason != "entered on the wrong pump" || cp.Replacement != "" {
		t.Errorf("correction payload %+v", cp)
	}
	if ex := must(all[5].entry.Explant()); ex.Date != "2026-03-20" || ex.Reason != "infection" {
		t.Errorf("explant payload %+v", ex)
	}

	// The history lists all six in order, the reprogramming marked voided.
	items := must(db.History(bg, "MRN-1"))
	if len(items) != len(all) {
		t.Fatalf("history has %d items, want %d", len(items), len(all))
	}
	for i, it := range items {
		if it.Entry.ID != all[i].entry.ID {
			t.Errorf("history[%d] is %s %s, want %s", i, it.Entry.Kind, it.Entry.ID, all[i].name)
		}
		if voided := it.VoidedBy != ""; voided != (it.Entry.ID == reprogramID) {
			t.Errorf("history[%d] (%s) voided_by = %q", i, it.Entry.Kind, it.VoidedBy)
		}
	}
	if items[3].VoidedBy != correctionID || items[3].VoidReason != "entered on the wrong pump" || items[3].VoidedByUser != "supervisor" {
		t.Errorf("voided reprogramming: by %q reason %q user %q", items[3].VoidedBy, items[3].VoidReason, items[3].VoidedByUser)
	}
	db.Close()

	// The stored bytes themselves: UTC instants, the offset beside them,
	// the canonical encoding of the entry.
	raw := rawEntry(t, path, 3)
	var stored map[string]json.RawMessage
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{"seq": `3`, "kind": `"refill"`, "recorded_by": `"desk"`,
		"performed_at": `"2026-03-01T09:00:00Z"`, "performed_offset": `"-05:00"`,
		"recorded_at": `"2026-03-02T09:00:00Z"`, "late": `false`, "id": `"` + all[2].entry.ID + `"`} {
		if got := string(stored[field]); got != want {
			t.Errorf("stored refill %s = %s, want %s", field, got, want)
		}
	}
	if !bytes.Equal(raw, all[2].entry.Encode()) {
		t.Errorf("stored bytes are not the entry's canonical encoding:\n%s\n%s", raw, all[2].entry.Encode())
	}
	if got := rawEntry(t, path, 4); !bytes.Contains(got, []byte(`"late":true`)) {
		t.Errorf("stored reprogramming not marked late: %s", got)
	}
}

// TestSchemaVersionRefused: a file of a schema version this pumpledger
// does not know is refused with ErrSchema, and opens again once the version
// is restored. A version 1 file (written before the catalog was pinned in
// the ledger) opens, to be upgraded, but every read of figures and every
// write is refused with the sentence that says to upgrade it.
func TestSchemaVersionRefused(t *testing.T) {
	db, _, path := openTest(t)
	seed(t, db)
	db.Close()

	setSchema := func(v []byte) {
		boltUpdate(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, v) })
	}
	for name, v := range map[string][]byte{"version 3": u64(3), "version 0": u64(0), "not a number": []byte("2"), "empty": {}} {
		setSchema(v)
		for _, ro := range []bool{false, true} {
			db, err := clinic.Open(path, ledger.Options{ReadOnly: ro})
			if err == nil {
				db.Close()
				t.Errorf("%s (read-only %v): opened", name, ro)
				continue
			}
			if !errors.Is(err, ledger.ErrSchema) || pumpledger.ErrorCode(err) != pumpledger.EINVALID {
				t.Errorf("%s (read-only %v): %v (code %s), want ErrSchema", name, ro, err, pumpledger.ErrorCode(err))
			}
		}
	}
	setSchema(u64(ledger.SchemaVersion))
	db = must(clinic.Open(path, ledger.Options{}))
	if _, err := db.Verify(); err != nil {
		t.Errorf("schema restored: %v", err)
	}
	n := must(db.Size())
	db.Close()

	// Version 1, as such a file is laid out: no by_kind bucket, so no
	// catalog the figures could be derived with. (The pinning entry 0 of
	// this file stays in it: entries cannot be taken out of the tree.)
	boltUpdate(t, path, func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("by_kind")); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, u64(1))
	})
	upgrade := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "holds no catalog") || !strings.Contains(err.Error(), "run `pumpledger upgrade`") || pumpledger.ErrorCode(err) != pumpledger.EINVALID {
			t.Errorf("version 1: %s: %v (code %s), want refused with the upgrade sentence", what, err, pumpledger.ErrorCode(err))
		}
	}
	for _, ro := range []bool{false, true} {
		db, err := clinic.Open(path, ledger.Options{ReadOnly: ro})
		if err != nil {
			t.Fatalf("version 1 (read-only %v): %v, want it opened to be upgraded", ro, err)
		}
		_, err = db.History(bg, "MRN-1")
		upgrade("history", err)
		_, err = db.Chain(bg, "S1")
		upgrade("chain", err)
		_, err = db.Bill(bg, "2026-03-01", "2026-03-31")
		upgrade("bill", err)
		_, err = db.Catalogs(bg)
		upgrade("catalogs", err)
		if !ro {
			_, err = db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Second Patient"})
			upgrade("add a patient", err)
			_, err = db.RecordRefill(as("tester"), parseRefill(t, strings.Replace(secondFill, "6b1f8a2e", "7b1f8a2e", 1)))
			upgrade("record a refill", err)
		}
		if got := must(db.Size()); got != n {
			t.Errorf("version 1 (read-only %v): size %d, want %d: written", ro, got, n)
		}
		db.Close()
	}
}

// TestSecondOpenLocked: a second writer (or reader) of an open ledger waits
// LockTimeout and fails with ErrLocked, then succeeds once the first closes.
func TestSecondOpenLocked(t *testing.T) {
	db, _, path := openTest(t)
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	for _, ro := range []bool{false, true} {
		db2, err := clinic.Open(path, ledger.Options{LockTimeout: 100 * time.Millisecond, ReadOnly: ro})
		if err == nil {
			db2.Close()
			t.Fatalf("second open (read-only %v) of a ledger open for writing succeeded", ro)
		}
		if !errors.Is(err, ledger.ErrLocked) || pumpledger.ErrorCode(err) != pumpledger.ECONFLICT {
			t.Errorf("second open (read-only %v): %v (code %s), want ErrLocked", ro, err, pumpledger.ErrorCode(err))
		}
	}
	db.Close()
	db2, err := clinic.Open(path, ledger.Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	db2.Close()
}

// TestFileModes: the ledger and its key hold PHI and a secret: 0600.
func TestFileModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modes.db")
	db := must(clinic.Create(as("clerk"), path, ledger.Options{}, nil))
	defer db.Close()
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	for _, p := range []string{path, path + ".key"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

// TestReadOnlyMissingFile: a read-only open does not create a ledger.
func TestReadOnlyMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	if _, err := clinic.Open(path, ledger.Options{ReadOnly: true}); pumpledger.ErrorCode(err) != pumpledger.ENOTFOUND {
		t.Errorf("read-only open of a missing file: %v, want not found", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open created %s", path)
	}
}
