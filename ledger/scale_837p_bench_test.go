package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
)

// benchScale837P: a month's whole 837P beside `bill --format json` of the
// same month, each as the command makes it (the bill with its check, every
// line allowed, then written), alternated in rounds so that both see the
// same machine. The scale ledgers hold no practice, coverage, diagnosis or
// demographics: a copy of the n-entry ledger is given them for the month's
// patients (built once into the scale directory), so every claim is filled.
func benchScale837P(b *testing.B, n int) {
	l := scaleFixture(b, n)
	path := billable837P(b, l, n)
	db := openScale(b, path, ledger.Options{ReadOnly: true})
	defer db.Close()
	var jsonT, x837T time.Duration
	var claims, refused, size int
	for b.Loop() {
		t0 := time.Now()
		lines, findings, err := db.BillChecked(bg, l.month[0], l.month[1], l.month[1])
		if err != nil {
			b.Fatal(err)
		}
		out, _ := clinic.HoldBack(lines, findings, true, true)
		var js bytes.Buffer
		if err := billing.WriteJSON(&js, out); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		lines, findings, err = db.BillChecked(bg, l.month[0], l.month[1], l.month[1])
		if err != nil {
			b.Fatal(err)
		}
		out, _ = clinic.HoldBack(lines, findings, true, false)
		var x bytes.Buffer
		rs, err := clinic.WriteBill(bg, db, &x, "837p", l.month[0], l.month[1], out, l.month[1], false)
		if err != nil {
			b.Fatal(err)
		}
		x837T += time.Since(t1)
		jsonT += t1.Sub(t0)
		claims, refused, size = bytes.Count(x.Bytes(), []byte("\nCLM*")), len(rs), x.Len()
	}
	b.StopTimer()
	rounds := float64(b.N)
	b.ReportMetric(float64(x837T.Nanoseconds())/rounds, "837p-ns/op")
	b.ReportMetric(float64(jsonT.Nanoseconds())/rounds, "json-ns/op")
	b.ReportMetric(float64(x837T)/float64(jsonT), "x-json")
	b.ReportMetric(float64(claims), "claims")
	b.ReportMetric(float64(refused), "refused")
	b.ReportMetric(float64(size)/(1<<20), "837p-MB")
}

// billable837P is a copy of the n-entry ledger with a practice, and for
// every patient billed in the scale month a coverage, a diagnosis and a
// registration corrected to hold birth date, sex and address.
func billable837P(b *testing.B, l *scaleLedger, n int) string {
	b.Helper()
	path := filepath.Join(*scaleDir, fmt.Sprintf("x837p-%d-f%d-s%d.db", n, scaleFixtureVersion, ledger.SchemaVersion))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	copyLedger(b, l.path, path+".tmp")
	db := openScale(b, path+".tmp", ledger.Options{NoSync: true})
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "bench", Role: pumpledger.RoleClinic})
	lines, err := db.Bill(bg, l.month[0], l.month[1])
	if err != nil {
		b.Fatal(err)
	}
	var mrns []string
	for _, ln := range lines {
		if !slices.Contains(mrns, ln.MRN) {
			mrns = append(mrns, ln.MRN)
		}
	}
	err = db.Import(ledger.DefaultImportGroup, func() error {
		if _, err := db.RecordSite(ctx, demo.Site("2016-01-01")); err != nil {
			return err
		}
		for i, mrn := range mrns {
			items, err := db.History(bg, mrn)
			if err != nil {
				return err
			}
			reg := items[0].Entry
			p, err := reg.Patient()
			if err != nil {
				return err
			}
			if p.BirthDate == "" || p.Sex == "" || p.Address == nil {
				p.BirthDate, p.Sex = "1960-01-01", "F"
				p.Address = &pumpledger.Address{Line1: "12 Elm St", City: "Columbus", State: "OH", PostalCode: "43215"}
				if _, err := db.Correct(ctx, reg.ID, "demographics for claims", clinic.Replacement{Patient: &p}); err != nil {
					return err
				}
			}
			// Some of the ledger's patients have records already: kept.
			has := map[pumpledger.Kind]bool{}
			for _, it := range items {
				has[it.Entry.Kind] = has[it.Entry.Kind] || it.VoidedBy == ""
			}
			payer := []string{"medicare-part-b", "commercial"}[i%2]
			for _, r := range []pumpledger.Record{
				pumpledger.Coverage{MRN: mrn, Payer: payer, MemberID: fmt.Sprintf("M%07d", i), Priority: "primary", From: "2016-01-01"},
				pumpledger.Diagnosis{MRN: mrn, Code: "G89.4", Description: "Chronic pain syndrome", Clinician: "md"},
			} {
				if has[r.RecordKind()] {
					continue
				}
				if _, err := db.RecordClinical(ctx, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	for _, suf := range []string{"", ".key", ".pub"} {
		if err := os.Rename(path+".tmp"+suf, path+suf); err != nil {
			b.Fatal(err)
		}
	}
	return path
}
