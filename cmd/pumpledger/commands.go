package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

func (a *app) patientAdd(args []string) error {
	fs := a.flags("patient add")
	mrn := fs.String("mrn", "", "medical record number")
	name := fs.String("name", "", "patient name")
	if err := a.parse(fs, args, "mrn", "name"); err != nil {
		return err
	}
	db, err := a.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.AddPatient(pumpledger.Patient{MRN: *mrn, Name: *name}, a.user())
	if err != nil {
		return err
	}
	// The name is PHI: the confirmation names the MRN only.
	fmt.Fprintf(a.stdout, "%s patient %s (entry %s).\n", verb(res), *mrn, res.Entry.ID)
	return nil
}

func verb(res ledger.Result) string {
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
	db, err := a.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Implant(im, a.user())
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
	db, err := a.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Explant(pumpledger.Explant{MRN: *mrn, Serial: *serial, Date: *date, Reason: *reason}, a.user())
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
	db, err := a.open(!*dry)
	if *dry && err != nil && pumpledger.ErrorCode(err) == pumpledger.ENOTFOUND {
		return pumpledger.Errorf(pumpledger.ENOTFOUND, "No ledger at %s to check the refill against; check --db.", a.dbPath)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	var res ledger.Result
	if *dry {
		rec, err := db.PreviewRefill(r)
		if err != nil {
			return err
		}
		res = ledger.Result{Record: &rec, Warnings: rec.Warnings}
	} else if res, err = db.RecordRefill(r); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, res.Record)
	}
	printRefill(a.stdout, r, res, *dry)
	return nil
}

func (a *app) reprogram(args []string) error {
	fs := a.flags("reprogram")
	file := fs.String("file", "", "reprogram JSON file, - for stdin")
	asJSON := fs.Bool("json", false, "print the result as JSON")
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
	db, err := a.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.RecordReprogram(r)
	if err != nil {
		return err
	}
	if *asJSON {
		out := map[string]any{"id": res.Entry.ID, "existing": res.Existing, "warnings": nonNil(res.Warnings), "next_refill_due": nil}
		if res.NextRefillDue != "" {
			out["next_refill_due"], out["next_refill_reason"] = res.NextRefillDue, res.NextRefillReason
		}
		return writeJSON(a.stdout, out)
	}
	fmt.Fprintf(a.stdout, "%s dose change for pump %s: %s %s mcg/day at %s (entry %s).\n",
		map[bool]string{true: "Already recorded:", false: "Recorded"}[res.Existing], r.PumpSerial, r.Dose.Drug, r.Dose.MCGPerDay, r.PerformedAt, res.Entry.ID)
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
	if err := a.parse(fs, args, "entry", "reason"); err != nil {
		return err
	}
	db, err := a.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	var repl ledger.Replacement
	if *file != "" {
		old, err := db.Entry(*id)
		if err != nil {
			return err
		}
		in, err := a.input(*file)
		if err != nil {
			return err
		}
		defer in.Close()
		switch old.Kind {
		case ledger.KindRefill:
			r, err := pumpledger.ParseRefill(in)
			if err != nil {
				return err
			}
			repl.Refill = &r
		case ledger.KindReprogram:
			r, err := pumpledger.ParseReprogram(in)
			if err != nil {
				return err
			}
			repl.Reprogram = &r
		case ledger.KindPatient:
			p, err := pumpledger.ParsePatient(in)
			if err != nil {
				return err
			}
			repl.Patient = &p
		default:
			return pumpledger.Invalid("file", "Entry %s is a %s; it can be voided but not replaced from a file. Void it, then record the right one.", *id, old.Kind)
		}
	}
	res, err := db.Correct(*id, *reason, a.user(), repl)
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
		return writeJSON(a.stdout, out)
	}
	fmt.Fprintf(a.stdout, "Voided entry %s: %s (correction %s).\n", *id, *reason, res.Entry.ID)
	if res.Replacement != nil {
		fmt.Fprintf(a.stdout, "Recorded its replacement as entry %s.\n", res.Replacement.ID)
	}
	printWarnings(a.stdout, res.Warnings)
	return nil
}

func (a *app) history(args []string) error {
	fs := a.flags("history")
	mrn := fs.String("mrn", "", "patient MRN")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := a.parse(fs, args, "mrn"); err != nil {
		return err
	}
	db, err := a.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	items, err := db.History(*mrn)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, items)
	}
	printHistory(a.stdout, *mrn, items, db.Catalog())
	return nil
}

func (a *app) bill(args []string) error {
	fs := a.flags("bill")
	from := fs.String("from", "", "first date of service YYYY-MM-DD")
	to := fs.String("to", "", "last date of service YYYY-MM-DD")
	format := fs.String("format", "csv", "csv, json or x12")
	if err := a.parse(fs, args, "from", "to"); err != nil {
		return err
	}
	write := map[string]func(io.Writer, []billing.Line) error{
		"csv": billing.WriteCSV, "json": billing.WriteJSON, "x12": billing.WriteX12,
	}[*format]
	if write == nil {
		return usageErr("bill: --format must be csv, json or x12, not %q", *format)
	}
	db, err := a.open(false)
	if err != nil {
		return err
	}
	lines, err := db.Bill(*from, *to)
	db.Close() // the lines are copies: write after the read transaction is over
	if err != nil {
		return err
	}
	for _, w := range billing.Conflicts(lines, db.Catalog().Service) {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	return write(a.stdout, lines)
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
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	drug, ok := cat.Drug(*drugName)
	if !ok {
		return pumpledger.Invalid("drug", "--drug %q is not in the catalog; see `pumpledger catalog`.", *drugName)
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
	products := cat.ProductsOf(drug.Name)
	if len(products) == 0 {
		return pumpledger.Invalid("drug", "The catalog lists no products of %s; add them to a site catalog (--catalog).", drug.Name)
	}
	p, err := vial.PlanVials(products, conc, fill, rinse)
	if err != nil {
		return pumpledger.Invalid("fill-ml", "No combination of the catalog's %s containers gives %s mL at %s mcg/mL (with a %s mL rinse); check the concentration and volume.", drug.Name, fill, conc, rinse)
	}
	alt, hasAlt := vial.UndilutedAlternative(drug, products, p, conc, fill, rinse)
	if *asJSON {
		out := planJSON(p, conc)
		if hasAlt {
			a := planJSON(alt.Plan, conc)
			out.UndilutedAlternative = &a
		}
		return writeJSON(a.stdout, out)
	}
	printPlan(a.stdout, drug, conc, fill, rinse, p)
	if hasAlt {
		fmt.Fprintf(a.stdout, "\nThis plan dilutes stronger vials, so the fill counts as diluted: the next refill is due within %d days instead of %d.\nUndiluted instead:\n",
			alt.DilutedDays, alt.UndilutedDays)
		printPlan(a.stdout, drug, conc, fill, rinse, alt.Plan)
	}
	return nil
}

// planOut is `plan --json` (SPEC §7: vials, opened_mcg, waste_mcg).
type planOut struct {
	Vials                []planItem      `json:"vials"`
	OpenedMCG            decimal.Decimal `json:"opened_mcg"`
	WasteMCG             decimal.Decimal `json:"waste_mcg"`
	RinseMCG             decimal.Decimal `json:"rinse_mcg"`
	DrugML               decimal.Decimal `json:"drug_ml"`
	DiluentML            decimal.Decimal `json:"diluent_ml"`
	Diluted              bool            `json:"diluted"`
	UndilutedAlternative *planOut        `json:"undiluted_alternative,omitempty"`
}

type planItem struct {
	NDC   string `json:"ndc"`
	Count int    `json:"count"`
}

func planJSON(p vial.Plan, conc decimal.Decimal) planOut {
	out := planOut{OpenedMCG: p.OpenedMCG, WasteMCG: p.WasteMCG, RinseMCG: p.RinseMCG, DrugML: p.DrugML, DiluentML: p.DiluentML, Diluted: p.Diluted(conc)}
	for _, it := range p.Items {
		out.Vials = append(out.Vials, planItem{NDC: it.Product.NDC.String(), Count: it.Count})
	}
	return out
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
	if err := a.parse(fs, args); err != nil {
		return err
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
	fmt.Fprintf(a.stdout, "ok: %d entries match the tree (root %x…), %d signed checkpoints checked", res.Entries, res.Tree.Hash[:8], res.Checkpoints)
	if res.KeyMissing {
		fmt.Fprintf(a.stdout, "; the key file is missing, so checkpoint signatures were NOT checked")
	}
	fmt.Fprintln(a.stdout, ".")
	return nil
}

func (a *app) checkpoint(args []string) error {
	fs := a.flags("checkpoint")
	since := fs.String("since", "", "an older checkpoint file: prove the ledger only grew since")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	db, err := a.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	if *since != "" {
		old, err := os.ReadFile(*since)
		if err != nil {
			return pumpledger.Invalid("since", "Cannot read --since %s (%v).", *since, err)
		}
		cur, err := db.Consistent(old)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "consistent: the ledger of %d entries extends the checkpoint in %s.\n", cur.N, *since)
	}
	cp, err := db.Checkpoint()
	if err != nil {
		return err
	}
	a.stdout.Write(cp.Note)
	fmt.Fprintf(a.stderr, "verifier key: %s\n", cp.Verifier)
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
	inc, err := db.Prove(*id)
	if err != nil {
		return err
	}
	proof := make([]string, len(inc.Proof))
	for i, h := range inc.Proof {
		proof[i] = h.String()
	}
	return writeJSON(a.stdout, map[string]any{"entry": inc.Entry, "leaf_hash": inc.Leaf.String(), "index": inc.Entry.Seq,
		"tree_size": inc.Tree.N, "root_hash": inc.Tree.Hash.String(), "proof": proof})
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
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return pumpledger.Invalid("out", "Cannot create --out %s (%v); choose a new file.", *out, err)
	}
	n, err := db.Backup(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return pumpledger.Errorf(pumpledger.EINTERNAL, "backup to %s: %v", *out, err)
	}
	fmt.Fprintf(a.stdout, "Wrote %s (%d bytes). Keep %s.key with it to check its signatures.\n", *out, n, a.dbPath)
	return nil
}

func (a *app) catalogCmd(args []string) error {
	fs := a.flags("catalog")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if a.catalogPath == "" {
		_, err := a.stdout.Write(catalog.DefaultJSON())
		return err
	}
	if _, err := a.catalog(); err != nil {
		return err
	}
	b, err := os.ReadFile(a.catalogPath)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(b)
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
