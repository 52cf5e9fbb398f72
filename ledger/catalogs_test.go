package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// siteCatalog is the embedded catalog with ziconotide billed under another
// HCPCS code (J9999, made up) and the 1 mL vial 70720-720-10 sold as 2 mL
// of the same 100 mcg/mL: a code change and a new presentation, as a payer
// or a supplier makes them.
func siteCatalog(t testing.TB) []byte {
	t.Helper()
	b := catalog.DefaultJSON()
	for _, r := range [][2]string{
		{`"code": "J2278"`, `"code": "J9999"`},
		{`"ndc": "70720-720-10", "drug": "ziconotide", "mcg_per_ml": "100", "ml": "1",`, `"ndc": "70720-720-10", "drug": "ziconotide", "mcg_per_ml": "100", "ml": "2",`},
	} {
		if !bytes.Contains(b, []byte(r[0])) {
			t.Fatalf("the embedded catalog has no %s", r[0])
		}
		b = bytes.Replace(b, []byte(r[0]), []byte(r[1]), 1)
	}
	return b
}

// linesByEntry is a bill's lines, JSON-encoded, by the entry they bill.
func linesByEntry(t testing.TB, db *clinic.Service) map[string][]byte {
	t.Helper()
	by := map[string][]billing.Line{}
	for _, l := range must(db.Bill(bg, "2026-01-01", "2026-12-31")) {
		by[l.EntryID] = append(by[l.EntryID], l)
	}
	out := map[string][]byte{}
	for id, ls := range by {
		out[id] = must(json.Marshal(ls))
	}
	return out
}

func jsonOf(t testing.TB, v any) []byte { t.Helper(); return must(json.Marshal(v)) }

// TestAdoptedCatalogPricesOnlyLaterVisits: a catalog adopted from a date
// between two refills re-prices the later refill (new code, new vial size:
// more waste) and leaves the earlier refill and dose change as they were
// billed, byte for byte; the refill record and the history agree with the
// bill, and they stay so after the ledger is opened again with another
// catalog offered (an existing ledger derives with the ones it pins).
func TestAdoptedCatalogPricesOnlyLaterVisits(t *testing.T) {
	db, c, path := openTest(t)
	first, second := seed(t, db)
	before := linesByEntry(t, db)
	firstRec, secondRec := must(db.RefillRecord(bg, first.Entry.ID)), must(db.RefillRecord(bg, second.Entry.ID))
	if d := secondRec.Drugs[0]; d.Code != "J2278" || !d.OpenedMCG.Equal(dec("200")) || d.WasteUnits != 50 {
		t.Fatalf("second refill before the adoption: %s, opened %s, JW %d; want J2278, 200, 50", d.Code, d.OpenedMCG, d.WasteUnits)
	}

	site := siteCatalog(t)
	c.t = c.t.Add(time.Hour)
	n := must(db.Size())
	// A catalog under which a recorded visit no longer derives is refused,
	// nothing written: the 2 mL vial gone, the second refill's vials are
	// unknown.
	gone := bytes.Replace(site, []byte(`"ndc": "70720-720-10"`), []byte(`"ndc": "70720-729-10"`), 1)
	if _, err := db.AdoptCatalog(as("billing-lead"), gone, "gone.json", "drop a product", "2026-03-20"); err == nil {
		t.Error("a catalog under which the refill of 2026-03-31 cannot be derived was adopted")
	}
	if got := must(db.Size()); got != n {
		t.Fatalf("a refused adoption wrote: size %d → %d", n, got)
	}
	if _, err := db.AdoptCatalog(as("billing-lead"), site, "site.json", " ", "2026-03-20"); pumpledger.ErrorCode(err) != pumpledger.EINVALID {
		t.Errorf("adoption without a reason: %v, want refused", err)
	}

	res, err := db.AdoptCatalog(as("billing-lead"), site, "/etc/pumpledger/site.json", "payer's code change", "2026-03-20")
	if err != nil {
		t.Fatal(err)
	}
	if res.Entry.Kind != ledger.KindCatalog || res.Entry.Seq != n || res.Entry.RecordedBy != "billing-lead" {
		t.Errorf("adoption entry: %s seq %d by %q, want catalog %d by billing-lead", res.Entry.Kind, res.Entry.Seq, res.Entry.RecordedBy, n)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "1 recorded refill(s) and dose change(s)") {
		t.Errorf("adoption warnings %q, want one saying 1 visit is re-priced", res.Warnings)
	}
	if _, err := db.AdoptCatalog(as("billing-lead"), site, "site.json", "again", "2026-03-20"); pumpledger.ErrorCode(err) != pumpledger.ECONFLICT {
		t.Errorf("adopting the catalog in force again: %v, want a conflict", err)
	}

	// An adoption is not voided by a correction (every adoption stays in
	// force): refused, naming the way to put it right, nothing written.
	n = must(db.Size())
	if _, err := db.Correct(as("billing-lead"), res.Entry.ID, "wrong file", clinic.Replacement{}); pumpledger.ErrorCode(err) != pumpledger.EINVALID ||
		!strings.HasPrefix(pumpledger.ErrorMessage(err), "Entry "+res.Entry.ID+" adopts a catalog") || !strings.Contains(pumpledger.ErrorMessage(err), "catalog adopt") {
		t.Errorf("correcting an adoption: %v, want it refused naming catalog adopt", err)
	}
	if got := must(db.Size()); got != n {
		t.Fatalf("a refused correction wrote: size %d → %d", n, got)
	}

	cats := must(db.Catalogs(bg))
	sum := sha256.Sum256(site)
	if len(cats) != 2 || cats[0].Version != 1 || cats[0].From != "" || cats[0].Seq != 0 ||
		cats[1].Version != 2 || cats[1].From != "2026-03-20" || cats[1].SHA256 != hex.EncodeToString(sum[:]) ||
		!bytes.Equal(cats[1].Content, site) || cats[1].Name != "site.json" || cats[1].Reason != "payer's code change" || cats[1].By != "billing-lead" {
		t.Fatalf("catalogs pinned: %s", describe(cats))
	}
	for date, version := range map[string]int{"2026-03-19": 1, "2026-03-20": 2, "2026-03-31": 2, "2020-01-01": 1} {
		if p := must(db.CatalogOn(bg, date)); p.Version != version {
			t.Errorf("catalog on %s: version %d, want %d", date, p.Version, version)
		}
	}

	check := func(when string, db *clinic.Service) {
		t.Helper()
		after := linesByEntry(t, db)
		if len(after) != 3 {
			t.Fatalf("%s: lines of %d entries, want 3", when, len(after))
		}
		// Earlier than the adoption: as billed before it, byte for byte.
		for _, id := range []string{first.Entry.ID, seqID(t, db, "MRN-1", ledger.KindReprogram)} {
			if !bytes.Equal(after[id], before[id]) {
				t.Errorf("%s: the lines of entry %s changed:\n%s\n%s", when, id, before[id], after[id])
			}
		}
		if got := must(db.RefillRecord(bg, first.Entry.ID)); !bytes.Equal(jsonOf(t, got), jsonOf(t, firstRec)) {
			t.Errorf("%s: the first refill's record changed:\n%s\n%s", when, jsonOf(t, firstRec), jsonOf(t, got))
		}
		// Later: the new code, and the 2 mL vials' waste (2 × 200 opened,
		// 150 dispensed: 250 JW units, not 50).
		var got []string
		var ls []billing.Line
		if err := json.Unmarshal(after[second.Entry.ID], &ls); err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			got = append(got, fmt.Sprintf("%s%s %d", l.Code, strings.Join(l.Modifiers, ""), l.Units))
		}
		if want := "J9999 150; J9999JW 250; 95990 1"; strings.Join(got, "; ") != want {
			t.Errorf("%s: second refill billed %q, want %q", when, strings.Join(got, "; "), want)
		}
		rec := must(db.RefillRecord(bg, second.Entry.ID))
		if d := rec.Drugs[0]; d.Code != "J9999" || !d.OpenedMCG.Equal(dec("400")) || d.WasteUnits != 250 || d.Units != 150 {
			t.Errorf("%s: second refill's record: %s, opened %s, units %d, JW %d; want J9999, 400, 150, 250", when, d.Code, d.OpenedMCG, d.Units, d.WasteUnits)
		}
		if !bytes.Equal(jsonOf(t, rec.Lines), after[second.Entry.ID]) {
			t.Errorf("%s: the record's lines differ from the bill's:\n%s\n%s", when, jsonOf(t, rec.Lines), after[second.Entry.ID])
		}
		// The history shows each refill with the same record.
		seen := 0
		for _, it := range must(db.History(bg, "MRN-1")) {
			if it.Record == nil {
				continue
			}
			seen++
			if !bytes.Equal(jsonOf(t, *it.Record), jsonOf(t, must(db.RefillRecord(bg, it.Entry.ID)))) {
				t.Errorf("%s: history and RefillRecord differ for %s", when, it.Entry.ID)
			}
		}
		if seen != 2 {
			t.Errorf("%s: %d refills with a record in the history, want 2", when, seen)
		}
	}
	check("after the adoption", db)
	if _, err := db.Verify(); err != nil {
		t.Fatalf("verify after the adoption: %v", err)
	}

	// Opened again (Open takes no catalog): the pinned ones still decide
	// every figure.
	db.Close()
	db = must(clinic.Open(path, ledger.Options{Now: c.now}))
	defer db.Close()
	check("opened again", db)
}

// describe lists pinned catalogs for a failure message.
func describe(cats []*clinic.Pinned) string {
	var out []string
	for _, p := range cats {
		out = append(out, fmt.Sprintf("v%d entry %d from %q %s sha256 %.12s by %q (%s)", p.Version, p.Seq, p.From, p.Name, p.SHA256, p.By, p.Reason))
	}
	return strings.Join(out, "; ")
}

// seqID is the id of the first entry of kind in a patient's history.
func seqID(t testing.TB, db *clinic.Service, mrn string, kind ledger.Kind) string {
	t.Helper()
	for _, it := range must(db.History(bg, mrn)) {
		if it.Entry.Kind == kind {
			return it.Entry.ID
		}
	}
	t.Fatalf("no %s in %s's history", kind, mrn)
	return ""
}

// TestPinnedCatalogEditedCaught: the bytes of a pinned catalog are evidence
// like any entry. One byte of the adopted catalog's content changed in the
// file (the JSON still valid, the code J9999 now J9998) is named by Verify
// as tampered, and the views refuse to derive with it. An attacker who also
// fixes the SHA-256 the entry records and recomputes the tree's hashes is
// caught by the signed checkpoints.
func TestPinnedCatalogEditedCaught(t *testing.T) {
	for _, attack := range []string{"one byte", "consistent rewrite"} {
		t.Run(attack, func(t *testing.T) {
			db, c, path := openTest(t)
			seed(t, db)
			c.t = c.t.Add(time.Hour)
			adopted := must(db.AdoptCatalog(as("billing-lead"), siteCatalog(t), "site.json", "payer's code change", "2026-03-20")).Entry
			if _, err := db.Verify(); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if seq := seqOfKind(t, path, ledger.KindCatalog, 1); seq != adopted.Seq {
				t.Fatalf("the second catalog entry is %d, the adoption %d", seq, adopted.Seq)
			}
			if attack == "one byte" {
				find := `\"code\": \"J9999\"`
				flipStoredByte(t, path, adopted.Seq, find, len(find)-len(`9\"`), '8')
			} else {
				rewriteEntry(t, path, adopted.Seq, func(e *ledger.Entry) {
					var a pumpledger.CatalogAdoption
					if err := json.Unmarshal(e.Payload, &a); err != nil {
						t.Fatal(err)
					}
					edited := strings.Replace(a.Content, `"code": "J9999"`, `"code": "J9998"`, 1)
					if edited == a.Content {
						t.Fatal("no J9999 in the adopted catalog")
					}
					sum := sha256.Sum256([]byte(edited))
					a.Content, a.SHA256 = edited, hex.EncodeToString(sum[:])
					e.Payload = must(json.Marshal(a))
				})
			}
			db = must(clinic.Open(path, ledger.Options{Now: c.now}))
			defer db.Close()
			_, err := db.Verify()
			if !errors.Is(err, ledger.ErrTampered) {
				t.Fatalf("verify after the pinned catalog was edited: %v, want ErrTampered", err)
			}
			if attack == "one byte" {
				if want := fmt.Sprintf("Entry %d ", adopted.Seq); !strings.HasPrefix(err.Error(), want) {
					t.Errorf("verify: %q, want it to name %q", err, want)
				}
				// The content no longer hashes to what the entry records:
				// no figure is derived with it.
				if _, err := db.Bill(bg, "2026-03-01", "2026-03-31"); !errors.Is(err, ledger.ErrTampered) {
					t.Errorf("bill with the edited catalog: %v, want ErrTampered", err)
				}
			}
		})
	}
}

// copyV1 copies the schema 1 ledger of testdata/v1 (written by the last
// release before the catalog was pinned) and its key into a new directory.
func copyV1(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "v1.db")
	for _, name := range []string{"v1.db", "v1.db.key"} {
		b := must(os.ReadFile(filepath.Join("testdata", "v1", name)))
		if err := os.WriteFile(filepath.Join(filepath.Dir(path), name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestVerifyV1LedgerBeforeUpgrade: verify of an intact schema 1 ledger
// either passes (its entries, tree and checkpoints are whole) or says to
// upgrade it; it never calls the file damaged or tampered, which would send
// a clinic to its backups for nothing.
func TestVerifyV1LedgerBeforeUpgrade(t *testing.T) {
	db := must(clinic.Open(copyV1(t), ledger.Options{ReadOnly: true}))
	defer db.Close()
	res, err := db.Verify()
	if err != nil && (errors.Is(err, ledger.ErrTampered) || !strings.Contains(err.Error(), "run `pumpledger upgrade`")) {
		t.Fatalf("verify of an intact v1 ledger: %v; want ok, or the upgrade sentence", err)
	}
	if err == nil && (res.Entries != 5 || res.Checkpoints != 5) {
		t.Errorf("verify of the v1 ledger: %+v, want 5 entries and checkpoints", res)
	}
}

// TestUpgradeV1Ledger: a ledger written before the catalog was pinned
// (schema 1) opens and refuses its figures and every
// write with the sentence that says to upgrade it. Upgrade with a catalog
// its entries do not derive with is refused, nothing written; with the
// catalog it was written with, it appends the entry pinning it (nothing
// stored is rewritten: the old checkpoints still hold), the ledger
// verifies, and it bills exactly what that release billed.
func TestUpgradeV1Ledger(t *testing.T) {
	path := copyV1(t)
	clk := func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }
	db := must(clinic.Open(path, ledger.Options{Now: clk}))
	defer func() { db.Close() }()
	if n := must(db.Size()); n != 5 {
		t.Fatalf("the v1 ledger holds %d entries, want 5", n)
	}
	old := must(db.Checkpoint()) // as an auditor kept it before the upgrade
	upgrade := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "run `pumpledger upgrade`") || pumpledger.ErrorCode(err) != pumpledger.EINVALID {
			t.Errorf("v1: %s: %v, want refused with the upgrade sentence", what, err)
		}
	}
	_, err := db.Bill(bg, "2026-01-01", "2026-12-31")
	upgrade("bill", err)
	_, err = db.History(bg, "MRN-1")
	upgrade("history", err)
	_, err = db.RefillRecord(bg, "6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
	upgrade("refill record", err)
	_, err = db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Second Patient"})
	upgrade("add a patient", err)
	_, err = db.AdoptCatalog(as("billing-lead"), siteCatalog(t), "site.json", "new codes", "2026-12-01")
	upgrade("adopt a catalog", err)

	// A catalog the entries do not derive with: refused, nothing written.
	noPump := bytes.Replace(catalog.DefaultJSON(), []byte(`"id": "synchromed-ii-20"`), []byte(`"id": "synchromed-ii-21"`), 1)
	if _, err := db.Upgrade(as("upgrader"), noPump, "nopump.json"); err == nil {
		t.Error("upgrade with a catalog that lacks the ledger's pump model: done")
	}
	if n := must(db.Size()); n != 5 {
		t.Fatalf("a refused upgrade wrote: %d entries", n)
	}
	_, err = db.Bill(bg, "2026-01-01", "2026-12-31")
	upgrade("bill after a refused upgrade", err)

	res, err := db.Upgrade(as("upgrader"), catalog.DefaultJSON(), "default.json")
	if err != nil {
		t.Fatal(err)
	}
	if res.Entry.Seq != 5 || res.Entry.Kind != ledger.KindCatalog || res.Entry.RecordedBy != "upgrader" {
		t.Errorf("upgrade entry: seq %d %s by %q, want the catalog pinned at 5 by upgrader", res.Entry.Seq, res.Entry.Kind, res.Entry.RecordedBy)
	}
	if _, err := db.Upgrade(as("upgrader"), catalog.DefaultJSON(), "default.json"); pumpledger.ErrorCode(err) != pumpledger.ECONFLICT {
		t.Errorf("a second upgrade: %v, want a conflict", err)
	}
	check := func(when string) {
		t.Helper()
		v, err := db.Verify()
		if err != nil || v.Entries != 6 || v.Checkpoints != 6 {
			t.Fatalf("%s: verify %+v, %v; want ok with 6 entries and checkpoints", when, v, err)
		}
		if _, err := db.Consistent(old.Note); err != nil {
			t.Errorf("%s: the checkpoint taken before the upgrade: %v", when, err)
		}
		cats := must(db.Catalogs(bg))
		if len(cats) != 1 || cats[0].Seq != 5 || cats[0].From != "" || !bytes.Equal(cats[0].Content, catalog.DefaultJSON()) {
			t.Errorf("%s: catalogs %s, want the default pinned at entry 5 since the beginning", when, describe(cats))
		}
		// The figures are those the v1 release billed.
		var want, got []map[string]any
		if err := json.Unmarshal(must(os.ReadFile(filepath.Join("testdata", "v1", "bill.json"))), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(jsonOf(t, must(db.Bill(bg, "2026-01-01", "2026-12-31"))), &got); err != nil {
			t.Fatal(err)
		}
		if len(want) != 7 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: bill after the upgrade differs from the v1 release's:\n got %v\nwant %v", when, got, want)
		}
	}
	check("upgraded")
	db.Close()
	db = must(clinic.Open(path, ledger.Options{Now: clk}))
	check("opened again")
	if _, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-2", Name: "Second Patient"}); err != nil {
		t.Errorf("append after the upgrade: %v", err)
	}
}

// TestUnknownKindIsNewerNotTampered: an entry of a kind this pumpledger does
// not know, appended and signed as a newer release would (its hash in the
// tree, a checkpoint of the new size signed with the ledger's key), is not
// evidence of tampering: verify says the ledger was written by a newer
// pumpledger. The same entry appended by someone without the key (no signed
// checkpoint of the new size) is still tampering: a made-up kind must not
// soften the alarm.
func TestUnknownKindIsNewerNotTampered(t *testing.T) {
	for _, signed := range []bool{true, false} {
		t.Run(fmt.Sprintf("signed %v", signed), func(t *testing.T) {
			db, _, path := openTest(t)
			seed(t, db)
			origin, _, _ := strings.Cut(string(must(db.Checkpoint()).Note), "\n")
			db.Close()
			signer, _ := keyFile(t, path)
			boltUpdate(t, path, func(tx *bolt.Tx) error {
				entries, hashes := tx.Bucket(bucketEntries), tx.Bucket(bucketHashes)
				n := int64(entries.Sequence())
				at := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
				e := ledger.Entry{Seq: n, ID: "0f0e0d0c-0b0a-4908-8706-050403020100", Kind: "dose_note", RecordedAt: at, RecordedBy: "newer",
					PerformedAt: at, PerformedOffset: "+00:00", Payload: json.RawMessage(`{"mrn":"MRN-1","note":"a kind from a later release"}`)}
				if err := entries.Put(u64(uint64(n)), e.Encode()); err != nil {
					return err
				}
				if err := entries.SetSequence(uint64(n + 1)); err != nil {
					return err
				}
				if err := rehash(tx, entries, hashes); err != nil || !signed {
					return err
				}
				hs := mapHashes{}
				for i := range tlog.StoredHashCount(n + 1) {
					hs[i] = tlog.Hash(hashes.Get(u64(uint64(i))))
				}
				root, err := tlog.TreeHash(n+1, hs)
				if err != nil {
					return err
				}
				msg, err := note.Sign(&note.Note{Text: checkpointBody(origin, tlog.Tree{N: n + 1, Hash: root})}, signer)
				if err != nil {
					return err
				}
				return tx.Bucket(bucketCheckpoints).Put(u64(uint64(n+1)), msg)
			})
			db = must(clinic.Open(path, ledger.Options{ReadOnly: true}))
			defer db.Close()
			_, err := db.Verify()
			switch {
			case err == nil:
				t.Fatal("verify of a ledger with an entry of an unknown kind: ok")
			case !signed:
				if !errors.Is(err, ledger.ErrTampered) {
					t.Errorf("verify of an unknown kind appended without the key: %v, want ErrTampered", err)
				}
			case errors.Is(err, ledger.ErrTampered) || strings.Contains(err.Error(), "altered"):
				t.Errorf("verify calls an entry of a newer kind tampered: %v", err)
			case !strings.Contains(err.Error(), "written by a newer pumpledger"):
				t.Errorf("verify: %v, want it to say the ledger was written by a newer pumpledger", err)
			}
		})
	}
}
