package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	bolt "go.etcd.io/bbolt"
)

// FuzzDecodeEntry feeds arbitrary bytes where a stored entry goes (a file
// edited outside pumpledger, a torn write). The property verify relies on:
// decodeEntry never panics; what it decodes, Encode encodes without a panic
// (verify re-encodes every stored entry to check it is canonical); and
// canonical bytes are a fixed point: they decode to the same entry and encode
// to the same bytes again. (The first Encode may differ from the input:
// times go to UTC, the payload is compacted and HTML-escaped, empty
// warnings are dropped. Verify no longer re-encodes: an entry's hash is
// what proves it unchanged.)
func FuzzDecodeEntry(f *testing.F) {
	for _, s := range []string{
		`{"seq":3,"id":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","kind":"refill","recorded_at":"2026-03-31T14:05:00.123456789Z","recorded_by":"jdoe","performed_at":"2026-03-31T14:00:00Z","performed_offset":"-04:00","late":false,"warnings":["RESIDUAL DISCREPANCY: aspirated 5.5 mL"],"payload":{"mrn":"MRN-1","fill_ml":"20"}}`,
		`{"seq":0,"id":"x","kind":"patient","recorded_at":"2026-02-20T00:00:00Z","recorded_by":"","performed_at":"2026-02-20T00:00:00Z","performed_offset":"+00:00","late":false,"payload":null}`,
		`{"seq":1,"recorded_at":"0000-01-01T00:00:00+01:00","performed_at":"2026-01-01T00:00:00Z","payload":{}}`,
		`{"seq":1,"recorded_at":"9999-12-31T23:00:00-02:00","performed_at":"2026-01-01T00:00:00Z","payload":{}}`,
		`{"seq":1,"recorded_at":"2026-03-31T10:00:00+24:00","performed_at":"2026-03-31T10:00:00-04:60","payload":{}}`,
		`{"seq":1,"seq":2,"payload":{"fill_ml":20,"fill_ml":2}}`,
		`{"seq":1,"kind":"refill","payload":{"note":"<b>&</b>\u2028"},"warnings":[]}`,
		`{"seq":1,"payload":{"mrn":"MRN-1\u200b"}} trailing`,
		`{"seq":1,"payload":1e400}}`,
		`{"seq":99999999999999999999999}`,
		`{"seq":-1,"late":"yes"}`,
		`{"unknown":1}`,
		"\ufeff{\"seq\":1}",
		`{"seq":1,"recorded_by":"MRN-\xff"}`,
		`null`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		canon := e.Encode()
		e2, err := decodeEntry(canon)
		if err != nil {
			t.Fatalf("the canonical bytes of %q do not decode: %s: %v", data, canon, err)
		}
		if again := e2.Encode(); !bytes.Equal(again, canon) {
			t.Fatalf("canonical form is not a fixed point:\n%s\n%s", canon, again)
		}
		if !sameEntry(e, e2) {
			t.Fatalf("%q decodes to %+v, its canonical bytes to %+v", data, e, e2)
		}
	})
}

// sameEntry compares a decoded entry with the decoding of its canonical bytes:
// the same instants, and the payload as Encode writes it.
func sameEntry(a, b Entry) bool {
	pa, err := json.Marshal(a.Payload)
	if err != nil {
		return false
	}
	pb, err := json.Marshal(b.Payload)
	if err != nil {
		return false
	}
	sameTime := func(x, y time.Time) bool { return x.Equal(y) }
	return a.Seq == b.Seq && a.ID == b.ID && a.Kind == b.Kind && a.RecordedBy == b.RecordedBy &&
		sameTime(a.RecordedAt, b.RecordedAt) && sameTime(a.PerformedAt, b.PerformedAt) &&
		a.PerformedOffset == b.PerformedOffset && a.Late == b.Late &&
		len(a.Warnings) == len(b.Warnings) && equalStrings(a.Warnings, b.Warnings) && bytes.Equal(pa, pb)
}

func equalStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The crash FuzzDecodeEntry found (seeded from the bad-input catalogue's
// year-0001 and offset cases): a stored time whose offset takes it out of
// years 0000-9999 in UTC decoded, then Encode panicked, so verify of a
// ledger edited that way crashed instead of naming the entry. Now it is an
// entry that cannot be read, and verify says so.
func TestDecodeEntryTimeOutOfRange(t *testing.T) {
	for _, s := range []string{
		`{"seq":1,"recorded_at":"0000-01-01T00:00:00+01:00","performed_at":"2026-01-01T00:00:00Z","payload":{}}`,
		`{"seq":1,"recorded_at":"2026-01-01T00:00:00Z","performed_at":"9999-12-31T23:00:00-02:00","payload":{}}`,
	} {
		if e, err := decodeEntry([]byte(s)); err == nil {
			t.Errorf("decodeEntry(%s) = %+v, want an error", s, e)
		}
	}

	db := createRaw(t, Options{NoSync: true})
	res, err := appendRaw(db, db.Envelope("", KindPatient, "t", pumpledger.NewInstant(db.Now()), Canonical(pumpledger.Patient{MRN: "MRN-1", Name: "Test"})))
	if err != nil {
		t.Fatal(err)
	}
	seq := uint64(res.Entry().Seq) // after the first entry
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries)
		data := b.Get(u64(seq))
		at := bytes.Index(data, []byte(`"recorded_at":"`)) + len(`"recorded_at":"`)
		end := at + bytes.IndexByte(data[at:], '"')
		edited := append(append(append([]byte{}, data[:at]...), "0000-01-01T00:00:00+01:00"...), data[end:]...)
		return b.Put(u64(seq), edited)
	}); err != nil {
		t.Fatal(err)
	}
	// Verify reads the edited entry without a panic and names it (it no
	// longer re-encodes entries: its hash is what disagrees).
	if _, err := db.Verify(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("Entry %d ", seq)) || !errors.Is(err, ErrTampered) {
		t.Errorf("verify of an entry recorded in year -1 UTC: %v, want entry %d named as tampered", err, seq)
	}
	// Reading it whole, as every view does, refuses it in words too.
	if err := db.View(func(tx *Tx) error { _, err := tx.Entry(int64(seq)); return err }); err == nil || !strings.Contains(err.Error(), "decode entry") {
		t.Errorf("reading the edited entry: %v, want it refused as unreadable", err)
	}
}
