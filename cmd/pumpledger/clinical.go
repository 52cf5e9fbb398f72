package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/internal/safefile"
	"github.com/shopspring/decimal"
)

// The clinical record's commands: `pumpledger KIND add --file F` for each
// of its kinds, and how history prints them.

// clinicalAdd records one clinical record of kind k from a JSON file.
func (a *app) clinicalAdd(k pumpledger.Kind, args []string) error {
	fs := a.flags(string(k) + " add")
	file := fs.String("file", "", string(k)+" JSON file, - for stdin")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	dry := fs.Bool("dry-run", false, "check it, write nothing (the warnings, before saving)")
	if err := a.parse(fs, args, "file"); err != nil {
		return err
	}
	in, err := a.input(*file)
	if err != nil {
		return err
	}
	v, err := pumpledger.ParseInput(k, in)
	in.Close()
	if err != nil {
		return err
	}
	// Documents are read before the ledger is opened: a writer never holds
	// it while reading files.
	if err := a.readDocuments(v, *file); err != nil {
		return err
	}
	ctx, err := a.actor()
	if err != nil {
		return err
	}
	db, err := a.openFor(!*dry, string(k))
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.RecordClinical(ctx, v)
	if err != nil {
		return err
	}
	stored, err := clinic.DecodeClinical(res.Entry)
	if err != nil {
		return err
	}
	if *asJSON {
		out := map[string]any{"id": res.Entry.ID, "kind": k, "existing": res.Existing, "record": stored, "warnings": nonNil(res.Warnings)}
		if *dry {
			out["dry_run"] = true
		}
		return writeJSON(a.stdout, out)
	}
	done := map[bool]string{true: "Already recorded:", false: "Recorded"}[res.Existing]
	if *dry && !res.Existing {
		fmt.Fprintf(a.stdout, "PREVIEW: nothing written. This is what the %s will record.\n", k)
		done = "Would record"
	}
	fmt.Fprintf(a.stdout, "%s %s for patient %s (entry %s):\n   %s\n", done, k, mrnOf(stored), res.Entry.ID, describeClinical(stored, nil))
	for _, d := range pumpledger.AttachmentsOf(stored) {
		fmt.Fprintf(a.stdout, "   document %s (%s, %d bytes) sha256 %s\n", d.Name, d.MediaType, d.Size, d.SHA256)
	}
	printWarnings(a.stdout, res.Warnings)
	return nil
}

// readDocuments reads the files a parsed input names as its documents:
// each path relative to the input file's folder (standard input's: the
// working directory), at most pumpledger.MaxAttachmentBytes.
func (a *app) readDocuments(v any, inputFile string) error {
	for _, d := range pumpledger.AttachmentsOf(v) {
		if d.Path == "" {
			continue
		}
		path := d.Path
		if !filepath.IsAbs(path) && inputFile != "-" {
			path = filepath.Join(filepath.Dir(inputFile), path)
		}
		f, err := safefile.Open(a.path(path))
		if err != nil {
			return pumpledger.Invalid("document", "document %s cannot be read (%v); give its path relative to the input file's folder.", d.Path, unwrapPathError(err))
		}
		data, err := io.ReadAll(io.LimitReader(f, pumpledger.MaxAttachmentBytes+1))
		if err != nil {
			f.Close()
			return pumpledger.Invalid("document", "document %s cannot be read (%v); check the file.", d.Path, unwrapPathError(err))
		}
		if fi, err := f.Stat(); err == nil && len(data) > pumpledger.MaxAttachmentBytes {
			// Only the limit and a byte were read: the refusal states the
			// file's size, not that.
			f.Close()
			return pumpledger.Invalid("document", "document %q is %d bytes, more than the %d MB a document may be; scan it at a lower resolution or split it.", d.Name, fi.Size(), pumpledger.MaxAttachmentBytes>>20)
		}
		f.Close()
		d.Content = data
		if _, err := pumpledger.SniffDocument("document", d.Name, data); err != nil {
			return err
		}
	}
	return nil
}

// unwrapPathError drops the path an *os.PathError repeats.
func unwrapPathError(err error) error {
	type unwrapper interface{ Unwrap() error }
	if u, ok := err.(unwrapper); ok && u.Unwrap() != nil && strings.Contains(err.Error(), ": ") {
		return u.Unwrap()
	}
	return err
}

func mrnOf(v any) string {
	if r, ok := v.(pumpledger.Record); ok {
		return r.PatientMRN()
	}
	return ""
}

// describeClinical is one line saying what a clinical record holds; cat,
// when given, names a payer by its profile's name.
func describeClinical(v any, cat *catalog.Catalog) string {
	payer := func(id string) string { return payerName(cat, id) }
	until := func(to string) string {
		if to == "" {
			return "in force"
		}
		return "to " + to
	}
	switch p := v.(type) {
	case pumpledger.Diagnosis:
		s := fmt.Sprintf("%s %s, by %s", p.Code, p.Description, p.Clinician)
		if p.Onset != "" {
			s += ", onset " + p.Onset
		}
		return s
	case pumpledger.Coverage:
		s := fmt.Sprintf("%s coverage by %s, member %s", p.Priority, payer(p.Payer), p.MemberID)
		if p.Plan != "" {
			s += ", plan " + p.Plan
		}
		if p.Group != "" {
			s += ", group " + p.Group
		}
		return s + fmt.Sprintf(", from %s %s", p.From, until(p.To))
	case pumpledger.Authorization:
		return fmt.Sprintf("prior authorization %s by %s (%s): %s %s of %s for %s, %s to %s%s",
			p.Number, payer(p.Payer), p.Status, p.Amount, p.Unit, p.Drug, strings.Join(p.Codes, ", "), p.From, p.To, reassess(p.ReassessBy))
	case pumpledger.Therapy:
		s := fmt.Sprintf("%s %s, from %s", p.Therapy, p.Outcome, p.From)
		if p.To != "" {
			s += " to " + p.To
		}
		if p.Details != "" {
			s += ": " + oneLine(p.Details)
		}
		return s
	case pumpledger.Trial:
		s := fmt.Sprintf("trial of %s %s (%s) on %s", p.Drug, p.Dose, p.Route, p.Date)
		switch {
		case p.Successful == nil:
			s += ": result not recorded"
		case *p.Successful:
			s += ": successful"
		default:
			s += ": not successful"
		}
		if p.ReliefPercent != nil {
			s += fmt.Sprintf(", %d %% relief", *p.ReliefPercent)
		}
		if p.Function != "" {
			s += ", function: " + oneLine(p.Function)
		}
		return s
	case pumpledger.Consent:
		s := fmt.Sprintf("consent signed by %s on %s", p.SignedBy, p.Date)
		if p.Therapy != "" {
			s += " to " + p.Therapy
		}
		if p.Witness != "" {
			s += ", witnessed by " + p.Witness
		}
		if p.Document == nil {
			s += "; no signed form attached"
		}
		return s
	case pumpledger.Review:
		return fmt.Sprintf("review by %s at %s of refill %s's residual discrepancy: %s", p.Clinician, p.At, p.Refill, oneLine(p.Finding))
	case pumpledger.Assessment:
		s := fmt.Sprintf("assessment by %s at %s: pain %d/10, cognition %s, psychiatric symptoms %s", p.Clinician, p.At, p.PainScore, p.Cognition, p.Psychiatric)
		if p.CKUL.Valid {
			s += fmt.Sprintf(", CK %s U/L", p.CKUL.Decimal)
		}
		if p.AdverseEvents != "" {
			s += ", adverse events: " + oneLine(p.AdverseEvents)
		}
		return s
	}
	return ""
}

// payerName is a payer profile's name with its id, as the catalog has it.
func payerName(cat *catalog.Catalog, id string) string {
	if cat != nil {
		if p, ok := cat.Payer(id); ok && p.Name != "" {
			return fmt.Sprintf("%s (%s)", p.Name, id)
		}
	}
	return id
}

// left words what is left of an authorization: "100 mcg", or "-100 mcg
// (100 mcg over)" when refills drew more than it holds.
func left(d decimal.Decimal, unit string) string {
	if d.IsNegative() {
		return fmt.Sprintf("%s %s (%s %s over)", d, unit, d.Neg(), unit)
	}
	return fmt.Sprintf("%s %s", d, unit)
}

func reassess(date string) string {
	if date == "" {
		return ""
	}
	return ", reassess by " + date
}

// oneLine folds free text's line breaks for a one-line summary.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// printClinicalItem is a clinical record's line of a patient's history.
func printClinicalItem(w io.Writer, it clinic.Item, cat *catalog.Catalog) {
	v, err := clinic.DecodeClinical(it.Entry)
	if err != nil {
		fmt.Fprintf(w, "   (cannot be read: %s)\n", pumpledger.ErrorMessage(err))
		return
	}
	fmt.Fprintf(w, "   %s\n", describeClinical(v, cat))
	for _, d := range pumpledger.AttachmentsOf(v) {
		fmt.Fprintf(w, "   document %s (%s, %d bytes) sha256 %s\n", d.Name, d.MediaType, d.Size, d.SHA256)
	}
}

func init() {
	for _, s := range pumpledger.Kinds() {
		if s.Clinical {
			printers[s.Kind] = printClinicalItem
		}
	}
}

// clinicalHandler is the command `KIND add` of a clinical kind, or nil.
func clinicalHandler(name string) func(*app, []string) error {
	kind, ok := strings.CutSuffix(name, " add")
	if !ok {
		return nil
	}
	if s, ok := pumpledger.KindOf(pumpledger.Kind(kind)); ok && s.Clinical {
		return func(a *app, args []string) error { return a.clinicalAdd(s.Kind, args) }
	}
	return nil
}

func (a *app) chart(args []string) error {
	fs := a.flags("chart")
	mrn := fs.String("mrn", "", "patient MRN")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := a.parse(fs, args, "mrn"); err != nil {
		return err
	}
	var c clinic.Chart
	var cat *catalog.Catalog
	if err := a.read(func(db clinic.Ledger) (err error) {
		if c, err = db.Chart(context.Background(), *mrn); err != nil {
			return err
		}
		cat, err = db.Catalog(context.Background())
		return err
	}); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, c)
	}
	printChart(a.stdout, c, cat)
	return nil
}

// printChart prints a patient's chart for the nurse and the biller.
func printChart(w io.Writer, c clinic.Chart, cat *catalog.Catalog) {
	p := c.Patient
	fmt.Fprintf(w, "Chart of patient %s as of %s\n", c.MRN, c.AsOf)
	line := p.Name
	if p.BirthDate != "" {
		line += ", born " + p.BirthDate
	}
	if p.Sex != "" {
		line += ", sex " + p.Sex
	}
	if ad := p.Address; ad != nil {
		line += fmt.Sprintf("; %s", strings.Join(nonEmpty(ad.Line1, ad.Line2, ad.City, ad.State+" "+ad.PostalCode), ", "))
	}
	if p.BirthDate == "" || p.Sex == "" || p.Address == nil {
		line += " (birth date, sex or address not on file: a claim needs them; `pumpledger correct` the registration)"
	}
	fmt.Fprintf(w, "Patient: %s\n", line)

	fmt.Fprintf(w, "\nPumps\n")
	if len(c.Pumps) == 0 {
		fmt.Fprintf(w, "   none implanted\n")
	}
	for _, pm := range c.Pumps {
		fmt.Fprintf(w, "   %s (%s), implanted %s", pm.Serial, pm.Model, pm.Implanted)
		if pm.Explanted != "" {
			fmt.Fprintf(w, ", explanted %s\n", pm.Explanted)
			continue
		}
		fmt.Fprintln(w)
		if pm.LastRefill == "" {
			fmt.Fprintf(w, "      no refill recorded\n")
			continue
		}
		var sol []string
		for _, s := range pm.Solution {
			name, _ := drugName(cat, s.Drug)
			sol = append(sol, fmt.Sprintf("%s %s mcg/mL", name, s.MCGPerML))
		}
		fmt.Fprintf(w, "      last refill %s (entry %s): %s\n", pm.LastRefill, pm.LastRefillEntry, strings.Join(sol, " + "))
		if pm.Dose != nil {
			rate := ""
			if pm.MLPerDay.Valid {
				rate = fmt.Sprintf(" = %s mL/day", pm.MLPerDay.Decimal)
			}
			name, _ := drugName(cat, pm.Dose.Drug)
			fmt.Fprintf(w, "      dose %s %s mcg/day%s\n", name, pm.Dose.MCGPerDay, rate)
		}
		if pm.NextRefillDue != "" {
			overdue := ""
			if pm.Overdue {
				overdue = "OVERDUE: "
			}
			fmt.Fprintf(w, "      %snext refill due %s (%s)\n", overdue, pm.NextRefillDue, pm.NextRefillReason)
		}
	}

	section := func(title string, n int) {
		fmt.Fprintf(w, "\n%s\n", title)
		if n == 0 {
			fmt.Fprintf(w, "   none on file\n")
		}
	}
	item := func(v any, id string) {
		fmt.Fprintf(w, "   %s (entry %s)\n", describeClinical(v, cat), id)
		for _, d := range pumpledger.AttachmentsOf(v) {
			fmt.Fprintf(w, "      document %s (%s, %d bytes) sha256 %s\n", d.Name, d.MediaType, d.Size, d.SHA256)
		}
	}
	section("Diagnoses", len(c.Diagnoses))
	for _, d := range c.Diagnoses {
		item(d.Record, d.EntryID)
	}
	section("Coverage", len(c.Coverage))
	for _, d := range c.Coverage {
		item(d.Record, d.EntryID)
	}
	if c.Payer != nil {
		fmt.Fprintf(w, "   payer in force today: %s (%s)\n", c.Payer.Name, c.Payer.ID)
	}
	section("Prior authorizations", len(c.Authorizations))
	for _, au := range c.Authorizations {
		state := fmt.Sprintf("expires %s, in %d days", au.To, au.DaysLeft)
		if au.Expired {
			state = fmt.Sprintf("EXPIRED %s", au.To)
		}
		before := ""
		if !au.UsedBefore.IsZero() {
			before = fmt.Sprintf(" (%s before it was recorded here)", au.UsedBefore)
		}
		fmt.Fprintf(w, "   %s by %s (%s) for %s of %s: authorized %s %s, used %s %s%s, left %s; %s to %s, %s%s (entry %s)\n",
			au.Number, payerName(cat, au.Payer), au.Status, strings.Join(au.Codes, ", "), au.Drug, au.Authorized, au.Unit, au.Used, au.Unit, before, left(au.Left, au.Unit), au.From, au.To, state, reassess(au.ReassessBy), au.EntryID)
		for _, d := range au.Draws {
			fmt.Fprintf(w, "      %s refill %s: %d units of %s = %s %s, left %s\n", d.DateOfService, d.EntryID, d.Units, d.Code, d.Amount, au.Unit, left(d.Left, au.Unit))
		}
	}
	section("Prior therapies", len(c.Therapies))
	for _, d := range c.Therapies {
		item(d.Record, d.EntryID)
	}
	section("Trial", len(c.Trials))
	for _, d := range c.Trials {
		item(d.Record, d.EntryID)
	}
	section("Consent", len(c.Consents))
	for _, d := range c.Consents {
		item(d.Record, d.EntryID)
	}
	fmt.Fprintf(w, "\nMonitoring (%d %s on file)\n", c.Assessment.Count, plural(c.Assessment.Count, "assessment", "assessments"))
	if c.Assessment.Last != nil {
		item(c.Assessment.Last.Record, c.Assessment.Last.EntryID)
	}
	if c.Assessment.NextDue != "" {
		fmt.Fprintf(w, "   next due %s: %s\n", c.Assessment.NextDue, c.Assessment.Why)
	} else {
		fmt.Fprintf(w, "   next due %s\n", c.Assessment.Why)
	}

	payer := "no payer in force"
	if c.Payer != nil {
		payer = c.Payer.Name
		if payer == "" {
			payer = c.Payer.ID
		}
	}
	open := 0
	for _, it := range c.Checklist {
		if !it.Met {
			open++
		}
	}
	fmt.Fprintf(w, "\nWhat the payer needs on file (%s): %d of %d met\n", payer, len(c.Checklist)-open, len(c.Checklist))
	for _, it := range c.Checklist {
		mark := "[ ]"
		if it.Met {
			mark = "[x]"
		}
		fmt.Fprintf(w, "   %s %s: %s\n", mark, it.Need, it.Detail)
	}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
