package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

// Text output for people. JSON output (--json) is the contract for programs.

func printWarnings(w io.Writer, warnings []string) {
	if len(warnings) == 0 {
		return
	}
	fmt.Fprintf(w, "\n*** %d WARNING(S): read and act on each before leaving the bedside ***\n", len(warnings))
	for _, s := range warnings {
		fmt.Fprintf(w, "  ! %s\n", s)
	}
}

func printRefill(w io.Writer, r pumpledger.Refill, res clinic.Result, dry bool) {
	rec := res.Record
	switch {
	case dry:
		fmt.Fprintf(w, "PREVIEW: nothing written. This is what the refill will record and bill.\n")
	case res.Existing:
		fmt.Fprintf(w, "Already recorded as entry %s (%s); nothing written.\n", res.Entry.ID, position(res.Entry))
	default:
		fmt.Fprintf(w, "Recorded refill %s (%s).\n", res.Entry.ID, position(res.Entry))
	}
	fmt.Fprintf(w, "Patient %s, pump %s, %s, nurse %s", r.MRN, r.PumpSerial, r.PerformedAt, r.Nurse)
	if r.Witness != "" {
		fmt.Fprintf(w, ", witness %s", r.Witness)
	}
	fmt.Fprintln(w)
	printWarnings(w, rec.Warnings)
	printRecord(w, rec)
	printDraws(w, "", res.Authorizations)
}

// printDraws prints what a refill drew of the patient's prior
// authorizations.
func printDraws(w io.Writer, indent string, draws []clinic.RefillAuthorization) {
	for _, d := range draws {
		fmt.Fprintf(w, "%sPrior authorization %s (%s): this refill draws %d units of %s = %s %s; authorized %s, used %s, left %s, expires %s.\n",
			indent, d.Number, d.Payer, d.Units, d.Code, d.Amount, d.Unit, d.Authorized, d.UsedToDate, left(d.Left, d.Unit), d.To)
	}
}

// position is where an entry stands in the ledger, counted from 1 as
// `verify` counts entries: the 5th entry of a ledger of 5 is "entry 5 of the
// ledger". (Seq, stored and in --json, counts from 0.)
func position(e ledger.Entry) string { return fmt.Sprintf("entry %d of the ledger", e.Seq+1) }

func printRecord(w io.Writer, rec *refill.Record) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "drug\tcode\tmcg/mL\tdispensed mcg\trinse mcg\topened mcg\twaste mcg\tunits\tJW units\tmodifiers\t")
	for _, d := range rec.Drugs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", d.Drug, d.Code, d.MCGPerML, d.DispensedMCG, d.RinseMCG, d.OpenedMCG, d.WasteMCG, d.Units, d.WasteUnits, mods(d.Modifiers))
	}
	tw.Flush()
	if iv := rec.Interval; iv != nil {
		flag := "within"
		if iv.DiscrepancyFlagged {
			flag = "FLAGGED, beyond"
		}
		fmt.Fprintf(w, "\nSince the fill of %s (%s days): expected residual %s mL, aspirated %s mL, discrepancy %s mL (%s the %s mL threshold).\n",
			iv.From, iv.Days, iv.ExpectedResidualML, iv.ResidualML, iv.DiscrepancyML, flag, iv.ThresholdML)
		for _, drug := range sortedDrugs(iv.InfusedMCG) {
			fmt.Fprintf(w, "Infused %s: %s mcg (expected %s mcg).\n", drug, iv.InfusedMCG[drug], iv.ExpectedInfusedMCG[drug])
		}
	} else {
		fmt.Fprintf(w, "\nFirst recorded fill of this pump: no interval to reconcile.\n")
	}
	if rec.NextRefillDue != nil {
		fmt.Fprintf(w, "Next refill due: %s (%s).\n", *rec.NextRefillDue, rec.NextRefillReason)
	}
	fmt.Fprintf(w, "\nClaim lines:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range rec.Lines {
		code := l.Code
		if len(l.Modifiers) > 0 {
			code += "-" + strings.Join(l.Modifiers, "-")
		}
		ndc := ""
		if l.NDC != "" {
			ndc = fmt.Sprintf("NDC %s  %s %s", l.NDC, l.NDCQty, l.NDCUnit)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", l.DateOfService, code, unitCount(l.Units), ndc, l.Description)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nHow each figure was computed:\n")
	for _, s := range rec.Work {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

// unitCount is n billing units, in words a biller reads: "1 unit", "50 units".
func unitCount(n int64) string {
	if n == 1 {
		return "1 unit"
	}
	return fmt.Sprintf("%d units", n)
}

func mods(m []string) string {
	if len(m) == 0 {
		return "-"
	}
	return strings.Join(m, ",")
}

func sortedDrugs(m map[string]decimal.Decimal) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func printHistory(w io.Writer, mrn string, items []clinic.Item, cat *catalog.Catalog) {
	fmt.Fprintf(w, "History of patient %s: %d entries, in the order recorded (#N: the Nth entry of the ledger).\n", mrn, len(items))
	for _, it := range items {
		e := it.Entry
		status := ""
		if it.VoidedBy != "" {
			status = fmt.Sprintf("  [VOIDED by %s on %s by %s: %s]", it.VoidedBy, it.VoidedAt.Format("2006-01-02 15:04Z"), it.VoidedByUser, it.VoidReason)
		}
		late := ""
		if e.Late {
			late = " (late entry)"
		}
		performed := e.Performed().Local().Format(time.RFC3339)
		if spec, _ := pumpledger.KindOf(e.Kind); e.Kind == ledger.KindImplant || e.Kind == ledger.KindExplant || (spec.Clinical && e.Kind != pumpledger.KindAssessment) {
			// Recorded as a date, without a time of day: shown as one.
			performed = e.Performed().Date()
		}
		fmt.Fprintf(w, "\n#%d %s %s  performed %s, recorded %s by %s%s%s\n", e.Seq+1, e.Kind, e.ID, performed, e.RecordedAt.Format("2006-01-02 15:04:05Z"), e.RecordedBy, late, status)
		if print := printers[e.Kind]; print != nil {
			print(w, it, cat)
		}
		for _, s := range e.Warnings {
			fmt.Fprintf(w, "   ! warning shown when recorded: %s\n", s)
		}
	}
}

// printNote prints the clinician's note as written, each line indented.
func printNote(w io.Writer, note string) {
	if strings.TrimSpace(note) == "" {
		return
	}
	fmt.Fprintf(w, "   note: %s\n", strings.ReplaceAll(strings.TrimSpace(note), "\n", "\n         "))
}

func solution(cat *catalog.Catalog, r pumpledger.Refill) string {
	var parts []string
	for _, s := range r.Solution {
		name, asTyped := drugName(cat, s.Drug)
		parts = append(parts, fmt.Sprintf("%s %s mcg/mL%s", name, s.MCGPerML, asTyped))
	}
	return strings.Join(parts, " + ")
}

// drugName is a drug as the catalog names it and, when something else was
// typed (a code, a brand), " (as typed: J2277)". A drug the catalog does not
// know (an entry recorded with another catalog) is shown as typed.
func drugName(cat *catalog.Catalog, typed string) (name, asTyped string) {
	if cat == nil {
		return typed, ""
	}
	d, ok := cat.Drug(typed)
	switch {
	case !ok:
		return typed, ""
	case strings.EqualFold(d.Name, strings.TrimSpace(typed)):
		return d.Name, ""
	}
	return d.Name, fmt.Sprintf(" (as typed: %s)", typed)
}

// dose is "ziconotide 2.4 mcg/day", with what was typed if it differs.
func dose(cat *catalog.Catalog, d pumpledger.Dose) string {
	name, asTyped := drugName(cat, d.Drug)
	return fmt.Sprintf("%s %s mcg/day%s", name, d.MCGPerDay, asTyped)
}

func printPlan(w io.Writer, drug vial.Drug, conc, fill, rinse decimal.Decimal, p vial.Plan) {
	fmt.Fprintf(w, "Least-waste containers for %s mL of %s at %s mcg/mL", fill, drug.Name, conc)
	if rinse.IsPositive() {
		fmt.Fprintf(w, " after a %s mL rinse", rinse)
	}
	fmt.Fprintln(w, ":")
	for _, it := range p.Items {
		verify := ""
		if it.Product.Verify {
			verify = "  (presentation inferred: check the carton)"
		}
		fmt.Fprintf(w, "  %d × NDC %s  %s, %s mcg in %s mL%s\n", it.Count, it.Product.Printed, it.Product.Labeler, it.Product.MCG(), it.Product.ML, verify)
	}
	fmt.Fprintf(w, "Opened %s mcg; rinse %s mcg; into the reservoir %s mcg (%s mL of drug + %s mL diluent); waste %s mcg.\n",
		p.OpenedMCG, p.RinseMCG, p.FillMCG, p.DrugML, p.DiluentML, p.WasteMCG)
	fmt.Fprintf(w, "List the vials in this order in the refill: containers are drawn in the order listed.\n")
}

// printers print each kind's line of a patient's history; a kind missing
// here shows its envelope alone.
var printers = map[pumpledger.Kind]func(w io.Writer, it clinic.Item, cat *catalog.Catalog){
	pumpledger.KindPatient:    printPatientItem,
	pumpledger.KindImplant:    printImplantItem,
	pumpledger.KindExplant:    printExplantItem,
	pumpledger.KindReprogram:  printReprogramItem,
	pumpledger.KindCorrection: printCorrectionItem,
	pumpledger.KindRefill:     printRefillItem,
	pumpledger.KindSubmission: printSubmissionItem,
}

// claimFrequencies word CLM05-3.
var claimFrequencies = map[string]string{"1": "original", "7": "replacement", "8": "void"}

func printSubmissionItem(w io.Writer, it clinic.Item, _ *catalog.Catalog) {
	var s pumpledger.Submission
	if err := it.Entry.DecodePayload(&s); err != nil {
		return
	}
	fmt.Fprintf(w, "   claim %s of %s sent as %s (frequency %s)", s.ClaimID, s.DateOfService, claimFrequencies[s.Frequency], s.Frequency)
	if s.Original != "" {
		fmt.Fprintf(w, " of claim %s", s.Original)
	}
	fmt.Fprintf(w, ": %d lines, $%s, interchange %09d sha256 %s, covered by the checkpoint of tree size %d\n", len(s.Lines), s.Total.StringFixed(2), s.Interchange, s.FileSHA256, s.TreeSize)
	fmt.Fprintf(w, "   visits %s\n", strings.Join(s.Entries, ", "))
	if p := s.Payer; p != nil {
		fmt.Fprintf(w, "   to %s (payer id %s, profile %s), member %s\n", p.Name, p.ID, p.Profile, p.MemberID)
	}
}

func printPatientItem(w io.Writer, it clinic.Item, _ *catalog.Catalog) {
	p, _ := it.Entry.Patient()
	fmt.Fprintf(w, "   registered %s: %s\n", p.MRN, p.Name)
}

func printImplantItem(w io.Writer, it clinic.Item, _ *catalog.Catalog) {
	p, _ := it.Entry.Implant()
	fmt.Fprintf(w, "   pump %s, model %s, implanted %s\n", p.Serial, p.Model, p.Date)
}

func printExplantItem(w io.Writer, it clinic.Item, _ *catalog.Catalog) {
	p, _ := it.Entry.Explant()
	fmt.Fprintf(w, "   pump %s explanted %s: %s\n", p.Serial, p.Date, p.Reason)
}

func printReprogramItem(w io.Writer, it clinic.Item, cat *catalog.Catalog) {
	p, _ := it.Entry.Reprogram()
	fmt.Fprintf(w, "   pump %s: %s by %s (%s)\n", p.PumpSerial, dose(cat, p.Dose), p.Clinician, p.Procedure)
	printNote(w, p.Note)
}

func printCorrectionItem(w io.Writer, it clinic.Item, _ *catalog.Catalog) {
	c := it.Correction
	fmt.Fprintf(w, "   voids %s: %s", c.Voids, c.Reason)
	if c.Replacement != "" {
		fmt.Fprintf(w, "; replaced by %s", c.Replacement)
	}
	fmt.Fprintln(w)
}

func printRefillItem(w io.Writer, it clinic.Item, cat *catalog.Catalog) {
	r, _ := it.Entry.Refill()
	fmt.Fprintf(w, "   pump %s: aspirated %s mL, filled %s mL of %s, dose %s (%s)\n", r.PumpSerial, r.ResidualML, r.FillML, solution(cat, r), dose(cat, r.Dose), r.Procedure)
	if r.Witness != "" { // who saw the waste discarded, for the JW line's documentation
		fmt.Fprintf(w, "   nurse %s, witness %s\n", r.Nurse, r.Witness)
	}
	printNote(w, r.Note)
	if rec := it.Record; rec != nil {
		for _, d := range rec.Drugs {
			m := ""
			if len(d.Modifiers) > 0 {
				m = " (modifier " + strings.Join(d.Modifiers, ", ") + ")"
			}
			fmt.Fprintf(w, "   %s: %s, %d JW units%s\n", d.Drug, unitCount(d.Units), d.WasteUnits, m)
		}
		if iv := rec.Interval; iv != nil {
			flag := ""
			if iv.DiscrepancyFlagged {
				flag = "  DISCREPANCY FLAGGED"
			}
			fmt.Fprintf(w, "   interval %s days: expected residual %s mL, discrepancy %s mL%s\n", iv.Days, iv.ExpectedResidualML, iv.DiscrepancyML, flag)
		}
		if rec.NextRefillDue != nil {
			fmt.Fprintf(w, "   next refill due %s\n", *rec.NextRefillDue)
		}
	}
	printDraws(w, "   ", it.Authorizations)
}
