package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/pumpledger/pumpledger/clinic"
)

// submissions lists the claims sent for a period's dates of service, every
// patient's, each with where it stands now (replaced, voided or current).
func (a *app) submissions(args []string) error {
	fs := a.flags("submissions")
	from := fs.String("from", "", "first date of service YYYY-MM-DD")
	to := fs.String("to", "", "last date of service YYYY-MM-DD")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := a.parse(fs, args, "from", "to"); err != nil {
		return err
	}
	var sent []clinic.SentClaim
	if err := a.read(func(db clinic.Ledger) (err error) {
		sent, err = db.Submissions(context.Background(), *from, *to)
		return err
	}); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, sent)
	}
	printSubmissions(a.stdout, *from, *to, sent)
	return nil
}

// printSubmissions is the claims sent as a table, one row each: the file
// by its control number and the start of its hash (--json has it whole).
func printSubmissions(w io.Writer, from, to string, sent []clinic.SentClaim) {
	fmt.Fprintf(w, "Claims sent for dates of service %s to %s: %d.\n", from, to, len(sent))
	if len(sent) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "date\tmrn\tclaim\tsent as\ttotal\tlines\tinterchange\tsha256\trecorded\tby\tstate")
	for _, c := range sent {
		as := c.Frequency + " " + claimFrequencies[c.Frequency]
		if c.Replaces != "" {
			as += fmt.Sprintf(" of %09d", c.ReplacesInterchange)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%09d\t%.12s\t%s\t%s\t%s\n", c.DateOfService, c.MRN, c.ClaimID, as, c.Total.StringFixed(2), c.Lines,
			c.Interchange, c.FileSHA256, c.RecordedAt.UTC().Format("2006-01-02 15:04Z"), c.RecordedBy, c.State)
	}
	tw.Flush()
}
