package fhir_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/fhir"
	"github.com/pumpledger/pumpledger/ledger"
)

var update = flag.Bool("update", false, "rewrite the golden bundle")

// golden is the demo patient's bundle, its UUIDs renumbered in order of
// first appearance (patients, pumps and clinical records get random entry
// ids), so that the file reads the same on every run; its references keep
// their shape. `go test ./fhir -update` rewrites it: read the diff by eye.
const golden = "../testdata/fhir/bundle-demo.json"

// The demo patient exported: the bundle every importer would read. It must
// pass the independent validator, as exported and as the golden file holds
// it, and match the golden file.
func TestBundleGolden(t *testing.T) {
	t.Parallel() // each runs node for a second or more: overlap them
	db, mrn, all := demoLedger(t)
	out := export(t, db, mrn, "", "")
	// Every demo patient's resources in one bundle, validated in one run:
	// the admixture (a morphine rate from the ziconotide dose) is another
	// patient's.
	// A product's lot is one Medication, whichever patient it went to.
	every := &fhir.Bundle{ResourceType: "Bundle", Type: "collection"}
	seen := map[string]bool{}
	for _, m := range all {
		b, err := fhir.Export(context.Background(), db, m, "", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Entry {
			if !seen[e.FullURL] {
				seen[e.FullURL] = true
				every.Entry = append(every.Entry, e)
			}
		}
	}
	var buf bytes.Buffer
	if err := fhir.Write(&buf, every); err != nil {
		t.Fatal(err)
	}
	validate(t, buf.Bytes())
	for _, k := range []string{`"text": "morphine"`, `"unit": "mcg/day"`, "review of a refill's residual discrepancy", `"focus"`, `"preAuthRef"`} {
		if !strings.Contains(buf.String(), k) {
			t.Errorf("no demo patient's bundle has %s", k)
		}
	}
	norm := renumber(out)
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, norm, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(norm, want) {
		t.Errorf("bundle differs from %s (run with -update and read the diff):\n%s", golden, firstDiff(norm, want))
	}
	// The demo patient shows each kind of resource the export writes.
	for _, k := range []string{"Patient", "Device", "Procedure", "MedicationAdministration", "Medication", "Condition", "Consent", "Coverage", "MedicationStatement", "Observation", `"72514-3"`, `"385669000"`, `"not-done"`, `"72607000"`, `"focalDevice"`, `"lotNumber"`, `"hash"`} {
		if !bytes.Contains(out, []byte(k)) {
			t.Errorf("the demo bundle has no %s", k)
		}
	}
}

// demoLedger records the demo's synthetic clinic, three patients over four
// months with their clinical records, as the demo command does: each entry
// charted shortly after its visit. It returns the first patient with a
// corrected refill, a signed consent and a diagnosis, and every patient.
func demoLedger(t *testing.T) (db clinic.Ledger, mrn string, all []string) {
	t.Helper()
	cat := catalog.Default()
	content, err := demo.WithMorphine(cat.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if cat, err = catalog.Load(bytes.NewReader(content), "demo-catalog.json"); err != nil {
		t.Fatal(err)
	}
	events := demo.Generate(cat, demo.Options{Patients: 3, Months: 4, Seed: 6, Records: true})
	clock := demo.EventTime(events, 0)
	ctx := context.Background()
	db, err = clinic.Create(actor(ctx, "demo-clerk"), filepath.Join(t.TempDir(), "demo.db"), ledger.Options{Now: func() time.Time { return clock }}, cat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	corrected, consented, diagnosed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, ev := range events {
		clock = demo.EventTime(events, i).Add(20 * time.Minute)
		switch ev.Kind {
		case pumpledger.KindPatient:
			_, err = db.AddPatient(actor(ctx, "demo-clerk"), *ev.Patient)
		case pumpledger.KindImplant:
			_, err = db.Implant(actor(ctx, "demo-md1"), *ev.Implant)
		case pumpledger.KindRefill:
			_, err = db.RecordRefill(actor(ctx, ev.Refill.Nurse), *ev.Refill)
		case pumpledger.KindReprogram:
			_, err = db.RecordReprogram(actor(ctx, ev.Reprogram.Clinician), *ev.Reprogram)
		case pumpledger.KindCorrection:
			c := ev.Correction
			_, err = db.Correct(actor(ctx, c.By), c.Voids, c.Reason, clinic.Replacement{Refill: c.Refill})
			corrected[c.Refill.MRN] = true
		default:
			switch r := ev.Record.(type) {
			case *pumpledger.Consent:
				consented[r.MRN] = true
			case *pumpledger.Diagnosis:
				diagnosed[r.MRN] = true
			}
			if ev.Record != nil {
				_, err = db.RecordClinical(actor(ctx, "demo-clerk"), ev.Record)
			}
		}
		if err != nil {
			t.Fatalf("demo event %d (%s): %v", i, ev.Kind, err)
		}
	}
	for _, ev := range events {
		if ev.Patient == nil {
			continue
		}
		all = append(all, ev.Patient.MRN)
		if mrn == "" && corrected[ev.Patient.MRN] && consented[ev.Patient.MRN] && diagnosed[ev.Patient.MRN] {
			mrn = ev.Patient.MRN
		}
	}
	if mrn == "" {
		t.Fatal("no demo patient has a corrected refill, a consent and a diagnosis; change the seed")
	}
	return db, mrn, all
}

func actor(ctx context.Context, name string) context.Context {
	return pumpledger.WithActor(ctx, pumpledger.Actor{Name: name, Role: pumpledger.RoleClinic})
}

func export(t *testing.T, db clinic.Ledger, mrn, from, to string) []byte {
	t.Helper()
	b, err := fhir.Export(context.Background(), db, mrn, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := fhir.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func renumber(b []byte) []byte {
	ids := map[string]string{}
	return uuidRE.ReplaceAllFunc(b, func(u []byte) []byte {
		if _, ok := ids[string(u)]; !ok {
			ids[string(u)] = fmt.Sprintf("00000000-0000-4000-8000-%012d", len(ids)+1)
		}
		return []byte(ids[string(u)])
	})
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, a, b)
		}
	}
	return ""
}

// checker is the independent validator: Medplum's FHIR R4 validator with
// the R4 definitions, run by node (tools/fhircheck; `make deps` installs
// it with npm ci).
const checker = "../tools/fhircheck/check.js"

// runChecker validates a bundle and returns what the validator printed and
// whether it accepted the bundle.
func runChecker(t *testing.T, bundle []byte) (string, bool) {
	t.Helper()
	if _, err := os.Stat("../tools/fhircheck/node_modules/@medplum/core"); err != nil {
		t.Fatalf("the FHIR validator is not installed (%v); run `make deps` (npm ci --prefix tools/fhircheck)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to validate the bundle: %v", err)
	}
	cmd := exec.Command(node, checker, "-")
	cmd.Stdin = bytes.NewReader(bundle)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run the validator: %v", err)
		}
		return string(out), false
	}
	return string(out), true
}

func validate(t *testing.T, bundle []byte) {
	t.Helper()
	if out, ok := runChecker(t, bundle); !ok {
		t.Fatalf("the FHIR validator refuses the bundle:\n%s", out)
	}
}

// docs/fhir.md has a section for every kind of resource the export writes.
func TestDocsCoverResources(t *testing.T) {
	doc, err := os.ReadFile("../docs/fhir.md")
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`"resourceType": "([A-Za-z]+)"`).FindAllSubmatch(bundle, -1) {
		if k := string(m[1]); k != "Bundle" && !regexp.MustCompile(`(?m)^## `+k+`\b`).Match(doc) {
			t.Errorf("docs/fhir.md has no section for %s", k)
		}
	}
}
