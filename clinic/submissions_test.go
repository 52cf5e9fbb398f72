package clinic_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/shopspring/decimal"
)

// The claims sent in a period, by date of service, patient, then as
// recorded; each one's state is what the later submissions of its claim
// made it: replaced by a 7, voided by an 8, sent again after a void; a
// claim outside the range, or voided by a correction, is not listed, and a bad range is refused
// naming its field.
func TestSubmissions(t *testing.T) {
	db := newLedger(t, catalog.Default())
	sub := func(id, mrn, date, freq string, ic int64) pumpledger.Submission {
		claim := mrn + "-" + strings.ReplaceAll(date, "-", "")
		s := pumpledger.Submission{ID: id, MRN: mrn, ClaimID: claim, DateOfService: date, Frequency: freq, Entries: []string{"v-" + id},
			Lines: []pumpledger.SubmittedLine{{EntryID: "v-" + id, Code: "95990", Units: 1, Charge: decimal.RequireFromString("180")}},
			Total: decimal.RequireFromString("180"), Interchange: ic, FileSHA256: fmt.Sprintf("%064d", ic), TreeSize: ic}
		if freq != "1" {
			s.Original = claim
		}
		return s
	}
	// Three interchanges, in the order sent.
	for _, ic := range [][]pumpledger.Submission{
		{sub("a", "MRN-2", "2026-03-05", "1", 10), sub("b", "MRN-1", "2026-03-05", "1", 10), sub("c", "MRN-1", "2026-03-02", "1", 10)},
		{sub("d", "MRN-1", "2026-03-02", "7", 20), sub("e", "MRN-2", "2026-03-05", "8", 20), sub("f", "MRN-3", "2026-04-01", "1", 20)},
		{sub("g", "MRN-2", "2026-03-05", "1", 30), sub("h", "MRN-4", "2026-03-10", "1", 30)},
	} {
		if err := db.RecordSubmissions(clerk(), ic); err != nil {
			t.Fatal(err)
		}
	}
	// One recorded by mistake (the file never went out) and voided: gone,
	// as the next interchange does not count it.
	if _, err := db.Correct(clerk(), "h", "the file was never sent", clinic.Replacement{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, from, to string
		want           []string // id frequency state [replaces@interchange] [>superseded by]
		err            string
	}{
		{name: "March", from: "2026-03-01", to: "2026-03-31", want: []string{
			"c 1 replaced >d", "d 7 current c@10", "b 1 current", "a 1 voided >e", "e 8 resent a@10 >g", "g 1 current e@20"}},
		{name: "one day", from: "2026-03-02", to: "2026-03-02", want: []string{"c 1 replaced >d", "d 7 current c@10"}},
		{name: "none sent", from: "2026-03-06", to: "2026-03-31", want: []string{}},
		{name: "April", from: "2026-04-01", to: "2026-04-30", want: []string{"f 1 current"}},
		{name: "to before from", from: "2026-03-31", to: "2026-03-01", err: "to 2026-03-01 is before the first date, 2026-03-31; swap the two dates."},
		{name: "not a date", from: "March", to: "2026-03-31", err: `from must be a date like 2026-03-01, not "March".`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Submissions(context.Background(), tt.from, tt.to)
			if tt.err != "" {
				if pumpledger.ErrorMessage(err) != tt.err || pumpledger.ErrorCode(err) != pumpledger.EINVALID {
					t.Errorf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rows := []string{}
			for _, c := range got {
				r := c.ID + " " + c.Frequency + " " + c.State
				if c.Replaces != "" {
					r += fmt.Sprintf(" %s@%d", c.Replaces, c.ReplacesInterchange)
				}
				if c.SupersededBy != "" {
					r += " >" + c.SupersededBy
				}
				rows = append(rows, r)
				if c.RecordedBy != "clerk" || c.RecordedAt.IsZero() || c.Lines != 1 || !c.Total.Equal(decimal.NewFromInt(180)) || c.FileSHA256 == "" {
					t.Errorf("%s: %+v", c.ID, c)
				}
			}
			if strings.Join(rows, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
