package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/refill"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/internal/safefile"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/witness"
	"github.com/shopspring/decimal"
)

func (a *app) patientAdd(args []string) error {
	fs := a.flags("patient add")
	mrn := fs.String("mrn", "", "medical record number")
	name := fs.String("name", "", "patient name")
	file := fs.String("file", "", "the registration as JSON (mrn, name, birth_date, sex, address), - for stdin")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	var p pumpledger.Patient
	switch {
	case *file != "" && (*mrn != "" || *name != ""):
		return usageErr("patient add takes --file, or --mrn and --name, not both")
	case *file != "":
		in, err := a.input(*file)
		if err != nil {
			return err
		}
		p, err = pumpledger.ParsePatient(in)
		in.Close()
		if err != nil {
			return err
		}
	default:
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for _, r := range []string{"mrn", "name"} {
			if !set[r] {
				return usageErr("%s needs --%s (or --file)", fs.Name(), r)
			}
		}
		p = pumpledger.Patient{MRN: *mrn, Name: *name}
	}
	ctx, db, err := a.record()
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.AddPatient(ctx, p)
	if err != nil {
		return err
	}
	// The name is PHI: the confirmation names the MRN only.
	fmt.Fprintf(a.stdout, "%s patient %s (entry %s).\n", verb(res), strings.TrimSpace(p.MRN), res.Entry.ID)
	return nil
}

func verb(res clinic.Result) string {
	if res.Existing {
		return "Already recorded:"
	}
	return "Registered"
}

func (a *app) pumpImplant(args []string) error {
	fs := a.flags("pump implant")
	mrn := fs.String("mrn", "", "patient MRN")
	serial := fs.String("serial", "", "pump serial number")
	model := fs.String("model", "", "pump model id (see `pumpledger catalog`)")
	date := fs.String("date", "", "implant date YYYY-MM-DD")
	alarm := fs.String("alarm-ml", "", "programmed low-reservoir alarm in mL, if not the model's")
	held := fs.String("held", "", "drugs the pump already held before its first fill recorded here, comma-separated (therapy begun elsewhere)")
	if err := a.parse(fs, args, "mrn", "serial", "model", "date"); err != nil {
		return err
	}
	im := pumpledger.Implant{MRN: *mrn, Serial: *serial, Model: *model, Date: *date}
	for _, d := range strings.Split(*held, ",") {
		if d = strings.TrimSpace(d); d != "" {
			im.Held = append(im.Held, d)
		}
	}
	if *alarm != "" {
		v, err := pumpledger.ParseQuantity(*alarm)
		if err != nil {
			return pumpledger.Invalid("alarm_ml", "--alarm-ml %s.", err)
		}
		im.AlarmML = decimal.NewNullDecimal(v)
	}
	ctx, db, err := a.record()
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Implant(ctx, im)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s pump %s (%s) in patient %s on %s (entry %s).\n", strings.Replace(verb(res), "Registered", "Implanted", 1), *serial, *model, *mrn, *date, res.Entry.ID)
	return nil
}

func (a *app) pumpExplant(args []string) error {
	fs := a.flags("pump explant")
	mrn := fs.String("mrn", "", "patient MRN")
	serial := fs.String("serial", "", "pump serial number")
	date := fs.String("date", "", "explant date YYYY-MM-DD")
	reason := fs.String("reason", "", "why the pump was removed")
	if err := a.parse(fs, args, "mrn", "serial", "date", "reason"); err != nil {
		return err
	}
	ctx, db, err := a.record()
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Explant(ctx, pumpledger.Explant{MRN: *mrn, Serial: *serial, Date: *date, Reason: *reason})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Explanted pump %s on %s (entry %s).\n", *serial, *date, res.Entry.ID)
	return nil
}

func (a *app) refill(args []string) error {
	fs := a.flags("refill")
	file := fs.String("file", "", "refill JSON file, - for stdin")
	asJSON := fs.Bool("json", false, "print the derived record as JSON")
	dry := fs.Bool("dry-run", false, "derive and print, write nothing (what will be billed, before saving)")
	if err := a.parse(fs, args, "file"); err != nil {
		return err
	}
	in, err := a.input(*file)
	if err != nil {
		return err
	}
	r, err := pumpledger.ParseRefill(in)
	in.Close()
	if err != nil {
		return err
	}
	ctx, err := a.actor()
	if err != nil {
		return err
	}
	db, err := a.openFor(!*dry, "refill")
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.RecordRefill(ctx, r)
	if err != nil {
		return err
	}
	// What the payer will still need before the visit can be billed, for
	// the nurse at the bedside: the pre-billing check of this visit as
	// recorded (a preview has nothing recorded to check).
	var ready []billing.Finding
	if !*dry {
		if ready, err = db.CheckEntry(context.Background(), res.Entry.ID); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(a.stdout, clinic.RefillAnswer(res, ready))
	}
	printRefill(a.stdout, r, res, *dry)
	printReadiness(a.stdout, ready)
	return nil
}

// printReadiness says what the payer will still need before a visit can
// be billed, errors (which hold the claim back) first.
func printReadiness(w io.Writer, ready []billing.Finding) {
	if len(ready) == 0 {
		return
	}
	fmt.Fprintf(w, "\nBefore this visit can be billed (`pumpledger check`):\n")
	for _, sev := range []string{billing.Error, billing.Warning} {
		for _, f := range ready {
			if f.Severity == sev {
				fmt.Fprintf(w, "  %s: %s %s\n", f.Severity, f.Message, f.Fix)
			}
		}
	}
}

func (a *app) reprogram(args []string) error {
	fs := a.flags("reprogram")
	file := fs.String("file", "", "reprogram JSON file, - for stdin")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	dry := fs.Bool("dry-run", false, "check and derive, write nothing (the warnings and the new due date, before saving)")
	if err := a.parse(fs, args, "file"); err != nil {
		return err
	}
	in, err := a.input(*file)
	if err != nil {
		return err
	}
	r, err := pumpledger.ParseReprogram(in)
	in.Close()
	if err != nil {
		return err
	}
	ctx, err := a.actor()
	if err != nil {
		return err
	}
	db, err := a.openFor(!*dry, "dose change")
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.RecordReprogram(ctx, r)
	if err != nil {
		return err
	}
	if *asJSON {
		out := map[string]any{"id": res.Entry.ID, "existing": res.Existing, "warnings": nonNil(res.Warnings), "next_refill_due": nil}
		if res.NextRefillDue != "" {
			out["next_refill_due"], out["next_refill_reason"] = res.NextRefillDue, res.NextRefillReason
		}
		if *dry {
			out["dry_run"] = true
		}
		return writeJSON(a.stdout, out)
	}
	done := map[bool]string{true: "Already recorded:", false: "Recorded"}[res.Existing]
	if *dry && !res.Existing {
		fmt.Fprintf(a.stdout, "PREVIEW: nothing written. This is what the dose change will record.\n")
		done = "Would record"
	}
	fmt.Fprintf(a.stdout, "%s dose change for pump %s: %s %s mcg/day at %s (entry %s).\n",
		done, r.PumpSerial, r.Dose.Drug, r.Dose.MCGPerDay, r.PerformedAt, res.Entry.ID)
	if res.NextRefillDue != "" {
		fmt.Fprintf(a.stdout, "Next refill now due: %s (%s).\n", res.NextRefillDue, res.NextRefillReason)
	}
	printWarnings(a.stdout, res.Warnings)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *app) correct(args []string) error {
	fs := a.flags("correct")
	id := fs.String("entry", "", "id of the entry to void")
	reason := fs.String("reason", "", "why, for the auditor")
	file := fs.String("file", "", "the replacement entry as JSON (same kind as the voided one), - for stdin")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	dry := fs.Bool("dry-run", false, "check and derive the correction and its replacement, write nothing (what will be billed, before saving)")
	if err := a.parse(fs, args, "entry", "reason"); err != nil {
		return err
	}
	ctx, err := a.actor()
	if err != nil {
		return err
	}
	// The replacement is read before the ledger is opened: a writer never
	// holds it while waiting on its input.
	var given []byte
	if *file != "" {
		in, err := a.input(*file)
		if err != nil {
			return err
		}
		given, err = io.ReadAll(io.LimitReader(in, pumpledger.MaxInputBytes+1))
		in.Close()
		if err != nil {
			return pumpledger.Invalid("file", "The input cannot be read (%v); give a readable file, or - for standard input.", err)
		}
	}
	db, err := a.openFor(!*dry, "correction")
	if err != nil {
		return err
	}
	defer db.Close()
	var repl clinic.Replacement
	if *file != "" {
		old, err := db.Entry(*id)
		if err != nil {
			return err
		}
		v, err := pumpledger.ParseInput(old.Kind, bytes.NewReader(given))
		if err != nil {
			return err
		}
		if err := a.readDocuments(v, *file); err != nil {
			return err
		}
		repl = clinic.ReplacementFrom(v)
	}
	res, err := db.Correct(ctx, *id, *reason, repl)
	if err != nil {
		return err
	}
	if *asJSON {
		out := map[string]any{"id": res.Entry.ID, "voids": *id, "replacement": nil, "warnings": nonNil(res.Warnings)}
		if res.Replacement != nil {
			out["replacement"] = res.Replacement.ID
		}
		if res.Record != nil {
			out["record"] = res.Record
		}
		if *dry {
			out["dry_run"] = true
		}
		return writeJSON(a.stdout, out)
	}
	if *dry {
		fmt.Fprintf(a.stdout, "PREVIEW: nothing written. This is what the correction will record.\n")
		fmt.Fprintf(a.stdout, "Would void entry %s: %s (correction %s).\n", *id, *reason, res.Entry.ID)
		if res.Replacement != nil {
			fmt.Fprintf(a.stdout, "Would record its replacement as entry %s.\n", res.Replacement.ID)
		}
		printWarnings(a.stdout, res.Warnings)
		if res.Record != nil { // a refill's replacement: what it will bill
			printRecord(a.stdout, res.Record)
		}
		return nil
	}
	fmt.Fprintf(a.stdout, "Voided entry %s: %s (correction %s).\n", *id, *reason, res.Entry.ID)
	if res.Replacement != nil {
		fmt.Fprintf(a.stdout, "Recorded its replacement as entry %s.\n", res.Replacement.ID)
	}
	printWarnings(a.stdout, res.Warnings)
	return nil
}

// openFor opens the ledger to record (write) or, for --dry-run, to run the
// append's whole transaction and roll it back: the ledger must exist, and
// nothing is written or signed. what names the entry in the refusal.
func (a *app) openFor(write bool, what string) (clinic.Ledger, error) {
	if write {
		return a.open(true)
	}
	if _, err := os.Stat(a.path(a.dbPath)); err != nil {
		return nil, pumpledger.Errorf(pumpledger.ENOTFOUND, "No ledger at %s to check the %s against; check --db.", a.dbPath, what)
	}
	return a.openWith(ledger.Options{DryRun: true})
}

func (a *app) history(args []string) error {
	fs := a.flags("history")
	mrn := fs.String("mrn", "", "patient MRN")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := a.parse(fs, args, "mrn"); err != nil {
		return err
	}
	var items []clinic.Item
	var cat *catalog.Catalog
	if err := a.read(func(db clinic.Ledger) (err error) {
		if items, err = db.History(context.Background(), *mrn); err != nil {
			return err
		}
		cat, err = db.Catalog(context.Background())
		return err
	}); err != nil {
		return err
	}
	// Printed after the ledger is closed.
	if *asJSON {
		return writeJSON(a.stdout, items)
	}
	printHistory(a.stdout, *mrn, items, cat)
	return nil
}

func (a *app) bill(args []string) error {
	fs := a.flags("bill")
	from := fs.String("from", "", "first date of service YYYY-MM-DD")
	to := fs.String("to", "", "last date of service YYYY-MM-DD")
	format := fs.String("format", "csv", billing.FormatNames+" (837p: a whole interchange, with the practice recorded by site set)")
	allow := fs.Bool("allow-findings", false, "export the lines of visits with error findings too (the findings are still printed)")
	asOf := fs.String("as-of", "", "check as if filed on DATE (timely filing counts to it; default today)")
	outFile := fs.String("out", "", "write the bill to FILE, and beside it FILE.checkpoint, the signed checkpoint covering its entries (default: standard output, the bill alone)")
	submit := fs.Bool("submit", false, "record the 837P's claims as sent: a later correction of their visits is then sent as a replacement or void claim")
	if err := a.parse(fs, args, "from", "to"); err != nil {
		return err
	}
	f, ok := billing.Formats[*format]
	if !ok {
		return usageErr("bill: --format must be %s, not %q", billing.FormatNames, *format)
	}
	if *submit && !f.Interchange {
		return usageErr("bill: --submit records an interchange as sent; give --format 837p")
	}
	// Written after the ledger is closed: an interchange is filled inside
	// the same read, into a buffer. --submit opens it to record.
	open := a.read
	ctx := context.Background()
	if *submit {
		open = func(fn func(clinic.Ledger) error) error {
			c, db, err := a.record()
			if err != nil {
				return err
			}
			ctx = c
			err = fn(db)
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			return err
		}
	}
	if *outFile != "" {
		for _, f := range []string{*outFile, *outFile + ".checkpoint"} {
			if _, err := os.Lstat(a.path(f)); err == nil {
				return pumpledger.Invalid("out", "The file %s exists; remove it or choose another name for --out.", f)
			}
		}
	}
	var b clinic.Billed
	var cp ledger.Checkpoint
	if err := open(func(db clinic.Ledger) error {
		var err error
		b, err = clinic.RunBill(ctx, db, *format, *from, *to, *asOf, *allow, *submit)
		// Every finding on stderr, whatever the format; in JSON also on its
		// visit's lines. A visit with an error is held back unless allowed.
		printFindings(a.stderr, b.Findings)
		if b.Held > 0 {
			fmt.Fprintf(a.stderr, "held back: %d lines of visits with error findings; fix them, or export them anyway with --allow-findings.\n", b.Held)
		}
		for _, r := range b.Refused {
			fmt.Fprintln(a.stderr, r)
		}
		if err == nil && *submit {
			fmt.Fprintf(a.stderr, "submitted: %d claims recorded as sent (see history).\n", b.Claims())
		}
		if err == nil && *outFile != "" {
			// Read after the bill: the ledger only grows, so the tree it
			// signs holds every entry the bill was derived from.
			cp, err = db.Checkpoint()
		}
		return err
	}); err != nil {
		return err
	}
	if *outFile == "" {
		_, err := a.stdout.Write(b.File)
		return err
	}
	if err := writeNewFile(a.path(*outFile), b.File); err != nil {
		return err
	}
	if err := writeNewFile(a.path(*outFile+".checkpoint"), cp.Note); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Wrote %s and %s, the signed checkpoint of %d entries covering it (keep it: `checkpoint --since %s` proves the ledger only grew since; the verifier key is %s).\n",
		*outFile, *outFile+".checkpoint", cp.Tree.N, *outFile+".checkpoint", cp.Verifier)
	return nil
}

// writeNewFile writes data to a new file, 0600, whole or not at all.
func writeNewFile(path string, data []byte) error {
	err := safefile.WriteNew(path, 0o600, func(f *os.File) error { _, err := f.Write(data); return err })
	if errors.Is(err, os.ErrExist) {
		return pumpledger.Invalid("out", "The file %s exists; remove it or choose another name for --out.", path)
	} else if err != nil {
		return pumpledger.Invalid("out", "Cannot write the file %s (%v); choose a path in a directory you can write to.", path, err)
	}
	return nil
}

func (a *app) check(args []string) error {
	fs := a.flags("check")
	from := fs.String("from", "", "first date of service YYYY-MM-DD")
	to := fs.String("to", "", "last date of service YYYY-MM-DD")
	asOf := fs.String("as-of", "", "check as if filed on DATE (timely filing counts to it; default today)")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	if err := a.parse(fs, args, "from", "to"); err != nil {
		return err
	}
	var findings []billing.Finding
	if err := a.read(func(db clinic.Ledger) (err error) {
		findings, err = db.Check(context.Background(), *from, *to, *asOf)
		return err
	}); err != nil {
		return err
	}
	errs := 0
	for _, f := range findings {
		if f.Severity == billing.Error {
			errs++
		}
	}
	if *asJSON {
		if findings == nil {
			findings = []billing.Finding{}
		}
		if err := writeJSON(a.stdout, findings); err != nil {
			return err
		}
	} else {
		printFindings(a.stdout, findings)
		fmt.Fprintf(a.stdout, "%d %s, %d %s, for dates of service %s to %s.\n", errs, plural(errs, "error", "errors"),
			len(findings)-errs, plural(len(findings)-errs, "warning", "warnings"), *from, *to)
	}
	if errs > 0 {
		return errFound
	}
	return nil
}

// printFindings prints the check's findings, one line each.
func printFindings(w io.Writer, findings []billing.Finding) {
	for _, f := range findings {
		code := ""
		if f.Code != "" {
			code = " " + f.Code
		}
		fmt.Fprintf(w, "%s: %s %s%s [%s] %s Fix: %s\n", f.Severity, f.MRN, f.DateOfService, code, f.Rule, f.Message, f.Fix)
	}
}

func (a *app) plan(args []string) error {
	fs := a.flags("plan")
	drugName := fs.String("drug", "", "drug name or HCPCS code")
	concS := fs.String("mcg-per-ml", "", "concentration of the fill, mcg/mL")
	fillS := fs.String("fill-ml", "", "fill volume, mL")
	rinseS := fs.String("rinse-ml", "0", "rinse volume for a naive pump, mL")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := a.parse(fs, args, "drug", "mcg-per-ml", "fill-ml"); err != nil {
		return err
	}
	cat, err := a.planCatalog()
	if err != nil {
		return err
	}
	conc, err := positive("mcg-per-ml", *concS, false)
	if err != nil {
		return err
	}
	fill, err := positive("fill-ml", *fillS, false)
	if err != nil {
		return err
	}
	rinse, err := positive("rinse-ml", *rinseS, true)
	if err != nil {
		return err
	}
	adv, err := refill.Advise(cat, *drugName, conc, fill, rinse)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, adv.JSON)
	}
	printPlan(a.stdout, adv.Drug, conc, fill, rinse, adv.Plan)
	if adv.Established != "" {
		fmt.Fprintln(a.stdout, adv.Established)
	}
	if adv.HasAlternative {
		fmt.Fprintf(a.stdout, "\nThis plan dilutes stronger vials, so the fill counts as diluted: the next refill is due within %d days instead of %d.\nUndiluted instead:\n",
			adv.Alternative.DilutedDays, adv.Alternative.UndilutedDays)
		printPlan(a.stdout, adv.Drug, conc, fill, rinse, adv.Alternative.Plan)
	}
	if adv.RuledOut != "" {
		fmt.Fprintf(a.stdout, "\nNot recommended: %s would discard %s mcg instead of %s, but %s.\n",
			refill.PlanItems(adv.Cheapest), adv.Cheapest.WasteMCG.Add(adv.Cheapest.RinseMCG), adv.Plan.WasteMCG.Add(adv.Plan.RinseMCG), adv.RuledOut)
	}
	return nil
}

func positive(name, s string, zeroOK bool) (decimal.Decimal, error) {
	d, err := pumpledger.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return d, pumpledger.Invalid(name, "--%s %s.", name, err)
	}
	if d.IsNegative() && zeroOK {
		return d, pumpledger.Invalid(name, "--%s must be zero or more, not %s.", name, d)
	}
	if d.IsNegative() || (!zeroOK && d.IsZero()) {
		return d, pumpledger.Invalid(name, "--%s must be more than zero, not %s.", name, d)
	}
	return d, nil
}

func (a *app) verify(args []string) error {
	fs := a.flags("verify")
	var vkeys []string
	fs.Func("witness-key", "a witness's verifier key: its cosignature of the current tree is required (repeatable)", func(s string) error {
		vkeys = append(vkeys, s)
		return nil
	})
	rawURLs := repeated(fs, "witness", "a witness's address, besides those the ledger's checkpoint runs submit to (repeatable)")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	var keys []*witness.Verifier
	for _, s := range vkeys {
		k, err := witness.NewVerifier(strings.TrimSpace(s))
		if err != nil {
			return pumpledger.Invalid("witness-key", "--witness-key %q is not a witness's key (%v); give the key the witness publishes, name+hash+key.", s, err)
		}
		keys = append(keys, k)
	}
	urls, err := witnessURLs(*rawURLs)
	if err != nil {
		return err
	}
	if len(urls) > 0 && len(keys) == 0 {
		return pumpledger.Invalid("witness", "--witness needs --witness-key, the witness's key to check its cosignature with; give both.")
	}
	db, err := a.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Verify()
	if err != nil {
		return err
	}
	var checks []ledger.WitnessCheck
	if len(keys) > 0 {
		if checks, err = db.VerifyWitnesses(context.Background(), keys, urls); err != nil {
			return err
		}
	}
	docs := "" // said only where there are some: the line is otherwise as it was
	if res.Documents > 0 {
		docs = fmt.Sprintf(", %d stored %s checked against %s SHA-256", res.Documents, plural(int(res.Documents), "document", "documents"), plural(int(res.Documents), "its", "their"))
	}
	fmt.Fprintf(a.stdout, "ok: %d entries match the tree (root %x…), %d signed checkpoints checked%s.\n", res.Entries, res.Tree.Hash[:8], res.Checkpoints, docs)
	if r := res.Rotations; len(r) > 0 {
		times := fmt.Sprintf("%d times, each time", len(r))
		if len(r) == 1 {
			times = "once,"
		}
		fmt.Fprintf(a.stdout, "ok: the signing key was replaced %s vouched for by the key before; the first key was %s.\n", times, r[0].OldKey)
	}
	for _, c := range checks {
		before := "no checkpoint kept here was cosigned by it before"
		if c.Kept > 0 {
			before = fmt.Sprintf("the latest checkpoint kept here that it cosigned is of %d entries", c.Kept)
		}
		fmt.Fprintf(a.stdout, "ok: the witness %s (%s) cosigned the ledger's %d entries, consistent with all it cosigned before; %s.\n", c.Name, c.URL, c.Now, before)
	}
	return nil
}

// keyRotate replaces the ledger's signing key, the old key vouching for the
// new in the ledger itself.
func (a *app) keyRotate(args []string) error {
	fs := a.flags("key rotate")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	by, err := a.user()
	if err != nil {
		return err
	}
	db, err := a.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	e, vkey, err := db.RotateKey(by)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Rotated the signing key: entry %d names the new key, and the checkpoint of the tree it ends is signed by the old key and the new; %s.key and %s.pub now hold the new key.\n", e.Seq+1, a.dbPath, a.dbPath)
	fmt.Fprintf(a.stdout, "Give the new %s.pub to auditors, and the new key to each witness before the next checkpoint: %s\n", a.dbPath, vkey)
	return nil
}

// repeated is a flag that may be given more than once, its values in order.
func repeated(fs *flag.FlagSet, name, usage string) *[]string {
	var vs []string
	fs.Func(name, usage, func(s string) error { vs = append(vs, s); return nil })
	return &vs
}

// witnessURLs checks --witness values: each an http or https address
// (kept one a line in the ledger's setting), duplicates dropped.
func witnessURLs(raw []string) ([]string, error) {
	var urls []string
	for _, s := range raw {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\r\n") {
			return nil, pumpledger.Invalid("witness", "--witness must be a witness's http:// or https:// address, not %q.", s)
		}
		if !slices.Contains(urls, s) {
			urls = append(urls, s)
		}
	}
	return urls, nil
}

// maxCheckpointBytes bounds a --since file: a signed checkpoint is a few
// hundred bytes.
const maxCheckpointBytes = 64 << 10

// initCmd creates the ledger at --db with its keys; it never touches one
// that exists.
func (a *app) initCmd(args []string) error {
	fs := a.flags("init")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	cat, err := a.catalogFile() // the catalog the ledger pins; nil: the embedded one
	if err != nil {
		return err
	}
	ctx, err := a.actor()
	if err != nil {
		return err
	}
	db, err := clinic.Create(ctx, a.dbPath, ledger.Options{}, cat)
	if err != nil {
		return err
	}
	list, err := db.Catalogs(context.Background())
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Created the ledger %s, its signing key %s.key (secret: back it up apart) and %s.pub, the public key that verifies its checkpoints (give it to auditors).\n", a.dbPath, a.dbPath, a.dbPath)
	fmt.Fprintf(a.stdout, "Its first entry pins the catalog %s (sha256 %s); adopt another with `pumpledger catalog adopt FILE --reason TEXT`.\n", list[0].Name, list[0].SHA256)
	return nil
}

func (a *app) checkpoint(args []string) error {
	fs := a.flags("checkpoint")
	since := fs.String("since", "", "an older checkpoint file: prove the ledger only grew since")
	asJSON := fs.Bool("json", false, "with --since: print the proof and the new checkpoint as JSON")
	rawURLs := repeated(fs, "witness", "a witness to cosign the checkpoint, kept in the ledger's setting for later checkpoints (repeatable)")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if *asJSON && *since == "" {
		return usageErr("checkpoint: --json goes with --since")
	}
	urls, err := witnessURLs(*rawURLs)
	if err != nil {
		return err
	}
	if *since != "" && len(urls) > 0 {
		return pumpledger.Invalid("witness", "--witness cannot be given with --since (proving growth writes nothing); run checkpoint --witness URL on its own.")
	}
	// Proving growth is verifying: it needs only LEDGER.pub, and prints the
	// checkpoint the last append signed. Without --since, the current tree
	// is signed if it is not yet, which needs the signing key.
	db, err := a.open(*since == "")
	if err != nil {
		return err
	}
	defer db.Close()
	if *since == "" {
		cp, err := db.Checkpoint()
		if err != nil {
			return err
		}
		// Each witness of the setting, and any new one, cosigns the tree;
		// the cosignatures are kept with the checkpoint and printed in it.
		ws, err := db.WitnessSettings()
		if err != nil {
			return err
		}
		all := []string{}
		for _, w := range ws {
			all = append(all, w.URL)
		}
		for _, u := range urls {
			if !slices.Contains(all, u) {
				all = append(all, u)
			}
		}
		for _, u := range all {
			got, err := db.Cosign(context.Background(), u)
			if err != nil {
				return err
			}
			for _, s := range got.Sigs {
				fmt.Fprintf(a.stderr, "cosigned by the witness %s (%s) at %d entries.\n", s.Name, u, got.Tree.N)
			}
		}
		if len(all) > 0 {
			if cp, err = db.Checkpoint(); err != nil {
				return err
			}
		}
		a.stdout.Write(cp.Note)
		fmt.Fprintf(a.stderr, "verifier key: %s\n", cp.Verifier)
		return nil
	}
	old, err := safefile.ReadFile(a.path(*since), maxCheckpointBytes)
	if err != nil {
		return pumpledger.Invalid("since", "Cannot read --since %s (%v).", *since, err)
	}
	g, err := db.Growth(old)
	if err != nil {
		return err
	}
	proof := make([]string, len(g.Proof))
	for i, h := range g.Proof {
		proof[i] = h.String()
	}
	// What it proves, said plainly: the stored hashes, not the entries.
	said := fmt.Sprintf("consistent: the tree of %d entries extends the checkpoint of %d in %s (consistency proof of %d hashes). This proves the tree only grew; it does not recompute the entries from their bytes: `pumpledger verify` does that.", g.New.Tree.N, g.Old.N, *since, len(proof))
	if *asJSON {
		fmt.Fprintln(a.stderr, said)
		return writeJSON(a.stdout, map[string]any{"old_size": g.Old.N, "old_root": g.Old.Hash.String(), "new_size": g.New.Tree.N,
			"new_root": g.New.Tree.Hash.String(), "proof": proof, "checkpoint": string(g.New.Note), "verifier_key": g.New.Verifier})
	}
	// The new checkpoint alone on standard output, as without --since, so
	// it can be kept as the next --since; the proof beside the statement.
	fmt.Fprintln(a.stderr, said)
	for _, h := range proof {
		fmt.Fprintf(a.stderr, "proof %s\n", h)
	}
	a.stdout.Write(g.New.Note)
	return nil
}

func (a *app) prove(args []string) error {
	fs := a.flags("prove")
	id := fs.String("entry", "", "entry id")
	if err := a.parse(fs, args, "entry"); err != nil {
		return err
	}
	db, err := a.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	inc, err := db.ProveSigned(*id)
	if err != nil {
		return err
	}
	proof := make([]string, len(inc.Proof))
	for i, h := range inc.Proof {
		proof[i] = h.String()
	}
	// "stored" is the leaf's bytes exactly, as a string; "entry" is the
	// same, decoded, for reading.
	return writeJSON(a.stdout, map[string]any{"entry": inc.Entry, "stored": string(inc.Stored), "leaf_hash": inc.Leaf.String(), "index": inc.Entry.Seq,
		"tree_size": inc.Tree.N, "root_hash": inc.Tree.Hash.String(), "proof": proof, "checkpoint": string(inc.Checkpoint.Note), "verifier_key": inc.Checkpoint.Verifier})
}

func (a *app) backup(args []string) error {
	fs := a.flags("backup")
	out := fs.String("out", "", "backup file to create")
	if err := a.parse(fs, args, "out"); err != nil {
		return err
	}
	db, err := a.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.BackupFile(a.path(*out))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Wrote %s (%d bytes). Keep %s.pub with it to check its signatures, and %s.key apart, to record into it if it is restored.\n", *out, n, a.dbPath, a.dbPath)
	return nil
}

// planCatalog is the catalog a plan uses: --catalog, else the ledger's in
// force today if there is a ledger, else the embedded one (a plan needs no
// ledger).
func (a *app) planCatalog() (*catalog.Catalog, error) {
	if a.catalogPath != "" {
		return a.catalogFile()
	}
	if _, err := os.Stat(a.path(a.dbPath)); err != nil {
		return catalog.Default(), nil
	}
	var cat *catalog.Catalog
	err := a.read(func(db clinic.Ledger) (err error) { cat, err = db.Catalog(context.Background()); return err })
	return cat, err
}

// catalogCmd prints the catalog in force, byte for byte as it was pinned.
func (a *app) catalogCmd(args []string) error {
	fs := a.flags("catalog")
	on := fs.String("on", "", "the catalog in force on this date YYYY-MM-DD (default today)")
	embedded := fs.Bool("default", false, "print the catalog embedded in this binary, not the ledger's")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if *embedded {
		_, err := a.stdout.Write(catalog.DefaultJSON())
		return err
	}
	var p *clinic.Pinned
	if err := a.read(func(db clinic.Ledger) (err error) {
		date := *on
		if date == "" {
			date = db.Today()
		} else if _, err := pumpledger.ParseDate(date); err != nil {
			return pumpledger.Invalid("on", "--on must be a date like 2026-03-01, not %q.", date)
		}
		p, err = db.CatalogOn(context.Background(), date)
		return err
	}); err != nil {
		return err
	}
	_, err := a.stdout.Write(p.Content)
	return err
}

// catalogList lists the catalogs the ledger pins.
func (a *app) catalogList(args []string) error {
	fs := a.flags("catalog list")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	var list []*clinic.Pinned
	if err := a.read(func(db clinic.Ledger) (err error) { list, err = db.Catalogs(context.Background()); return err }); err != nil {
		return err
	}
	if *asJSON {
		out := make([]map[string]any, len(list))
		for i, p := range list {
			out[i] = map[string]any{"version": p.Version, "entry_id": p.EntryID, "from": p.From, "sha256": p.SHA256,
				"name": p.Name, "reason": p.Reason, "recorded_by": p.By, "recorded_at": p.Recorded}
		}
		return writeJSON(a.stdout, out)
	}
	for _, p := range list {
		from := p.From
		if from == "" {
			from = "the beginning"
		}
		fmt.Fprintf(a.stdout, "version %d  in force from %s  sha256 %s  %s\n  recorded %s by %s (entry %s): %s\n",
			p.Version, from, p.SHA256, p.Name, p.Recorded.Format("2006-01-02 15:04 MST"), p.By, p.EntryID, p.Reason)
	}
	return nil
}

// catalogAdopt records a catalog file as the one in force from a date.
func (a *app) catalogAdopt(args []string) error {
	fs := a.flags("catalog adopt")
	reason := fs.String("reason", "", "why this catalog is adopted, for the auditor")
	from := fs.String("from", "", "the date it is in force from, YYYY-MM-DD (default today)")
	files, err := a.parseArgs(fs, args, 1, "reason")
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageErr("catalog adopt needs the catalog FILE")
	}
	file := files[0]
	content, err := safefile.ReadFile(a.path(file), clinic.MaxCatalogBytes)
	if err != nil {
		return pumpledger.Invalid("file", "Cannot read the catalog %s (%v); check the path.", file, err)
	}
	ctx, db, err := a.record()
	if err != nil {
		return err
	}
	res, err := db.AdoptCatalog(ctx, content, file, *reason, *from)
	if err != nil {
		db.Close()
		return err
	}
	list, err := db.Catalogs(context.Background())
	db.Close()
	if err != nil {
		return err
	}
	for _, p := range list {
		if p.EntryID == res.Entry.ID {
			fmt.Fprintf(a.stdout, "Adopted %s as catalog version %d (sha256 %s), in force from %s (entry %s).\n", p.Name, p.Version, p.SHA256, p.From, p.EntryID)
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stdout, "  ! %s\n", w)
	}
	return nil
}

// upgrade pins the catalog of a ledger written before catalogs were pinned:
// --catalog, else the site catalog kept beside the ledger (the one its
// entries were derived with, which the old release read there), else the
// embedded one; the output names which.
func (a *app) upgrade(args []string) error {
	fs := a.flags("upgrade")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	path := a.catalogPath
	if path == "" {
		if st, err := os.Stat(a.dbPath + ".catalog.json"); err == nil && st.Mode().IsRegular() {
			path = a.dbPath + ".catalog.json"
		}
	}
	content, name := catalog.DefaultJSON(), "the embedded catalog"
	if path != "" {
		var err error
		if content, err = safefile.ReadFile(path, clinic.MaxCatalogBytes); err != nil {
			return pumpledger.Invalid("catalog", "Cannot read the catalog %s (%v); check --catalog.", path, err)
		}
		name = path
	}
	if _, err := os.Stat(a.dbPath); err != nil {
		return pumpledger.Errorf(pumpledger.ENOTFOUND, "No ledger at %s; check --db.", a.dbPath)
	}
	ctx, err := a.actor()
	if err != nil {
		return err
	}
	if err := a.notServed("upgrade it"); err != nil {
		return err
	}
	db, err := clinic.Open(a.dbPath, ledger.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Upgrade(ctx, content, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Upgraded %s: pinned %s as catalog version 1, in force since the ledger began (entry %s).\n", a.dbPath, name, res.Entry.ID)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
