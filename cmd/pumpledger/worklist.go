package main

import (
	"context"
	"fmt"
	"io"

	"github.com/pumpledger/pumpledger/clinic"
)

// worklist prints the pumps due for refill and the discrepancies awaiting
// review, most urgent first.
func (a *app) worklist(args []string) error {
	fs := a.flags("worklist")
	within := fs.Int("within", clinic.WorklistDays, "list pumps due within this many days")
	asOf := fs.String("as-of", "", "the worklist's date YYYY-MM-DD (default today)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	var items []clinic.WorkItem
	var day string
	if err := a.read(func(db clinic.Ledger) (err error) {
		if day = *asOf; day == "" {
			day = db.Today()
		}
		items, err = db.Worklist(context.Background(), day, *within)
		return err
	}); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, items)
	}
	printWorklist(a.stdout, day, *within, items)
	return nil
}

var whyText = map[string]string{
	clinic.DueReservoir:  "refill: reservoir threshold",
	clinic.DueStability:  "refill: stability limit",
	clinic.DueNaive:      "refill: first refill of a pump new to the drug",
	clinic.DueDoseChange: "refill now, after a dose change",
}

func printWorklist(w io.Writer, day string, within int, items []clinic.WorkItem) {
	fmt.Fprintf(w, "Worklist of %s: pumps due within %d days or overdue, and residual discrepancies not yet reviewed.\n", day, within)
	if len(items) == 0 {
		fmt.Fprintln(w, "Nothing to do.")
		return
	}
	for _, it := range items {
		fmt.Fprintln(w)
		if it.Why == clinic.DueReview {
			fmt.Fprintf(w, "%s  %-16s  %s pump %s: review the discrepancy of refill %s\n", it.Due, when(it), it.MRN, it.Serial, it.Refill)
			fmt.Fprintf(w, "    %s\n    Record what was found with `pumpledger review add`.\n", it.Reason)
			continue
		}
		fmt.Fprintf(w, "%s  %-16s  %s pump %s: %s\n", it.Due, when(it), it.MRN, it.Serial, whyText[it.Why])
		fmt.Fprintf(w, "    due: %s\n", it.Reason)
		dose := ""
		if it.Dose != nil {
			dose = fmt.Sprintf(", %s %s mcg/day", it.Dose.Drug, it.Dose.MCGPerDay)
			if it.MLPerDay.Valid {
				dose += fmt.Sprintf(" at %s mL/day", it.MLPerDay.Decimal)
			}
		}
		fmt.Fprintf(w, "    last refill %s%s", it.LastRefill, dose)
		if it.ExpectedML.Valid {
			fmt.Fprintf(w, "; expected in the reservoir today %s mL", it.ExpectedML.Decimal)
		}
		fmt.Fprintln(w)
	}
}

// when says how far the date is, in days.
func when(it clinic.WorkItem) string {
	switch {
	case it.Days == 0:
		return "today"
	case it.Days == 1:
		return "tomorrow"
	case it.Days > 0:
		return fmt.Sprintf("in %d days", it.Days)
	case it.Days == -1:
		return "1 day ago"
	}
	return fmt.Sprintf("%d days ago", -it.Days)
}
