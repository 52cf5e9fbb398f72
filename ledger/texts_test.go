package ledger_test

import (
	"errors"
	"testing"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
)

// TestStoredTextsRefused: every text that reaches an entry from outside the
// JSON inputs (who recorded it, a correction's or an explant's reason) is
// refused when it holds a control or invisible character, as the JSON inputs
// already are; nothing is written.
func TestStoredTextsRefused(t *testing.T) {
	db, _, _ := openTest(t)
	must(db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "MRN-1", Name: "Test Patient"}))
	must(db.Implant(as("clerk"), pumpledger.Implant{MRN: "MRN-1", Serial: "S1", Model: "synchromed-ii-20", Date: "2026-02-20"}))
	fill := must(db.RecordRefill(as("jdoe"), parseRefill(t, firstFill)))
	escape, zwsp := "jdoe\x1b[2J", "jdoe\u200b"
	tests := []struct {
		name, field string
		do          func() error
	}{
		{"patient recorded by an escape", "recorded_by", func() error {
			_, err := db.AddPatient(as(escape), pumpledger.Patient{MRN: "MRN-2", Name: "Other Patient"})
			return err
		}},
		{"implant recorded by a zero-width space", "recorded_by", func() error {
			_, err := db.Implant(as(zwsp), pumpledger.Implant{MRN: "MRN-1", Serial: "S2", Model: "synchromed-ii-20", Date: "2026-02-20"})
			return err
		}},
		{"correction recorded by an escape", "recorded_by", func() error {
			_, err := db.Correct(as(escape), fill.Entry.ID, "typo", clinic.Replacement{})
			return err
		}},
		{"correction reason with an escape", "reason", func() error {
			_, err := db.Correct(as("clerk"), fill.Entry.ID, "typo\x1b]0;pwned\x07", clinic.Replacement{})
			return err
		}},
		{"explant reason with an escape", "reason", func() error {
			_, err := db.Explant(as("clerk"), pumpledger.Explant{MRN: "MRN-1", Serial: "S1", Date: "2026-03-20", Reason: "\x1b[31minfection"})
			return err
		}},
		{"explant recorded by an escape", "recorded_by", func() error {
			_, err := db.Explant(as(escape), pumpledger.Explant{MRN: "MRN-1", Serial: "S1", Date: "2026-03-20", Reason: "infection"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := must(db.Size())
			err := tt.do()
			var e *pumpledger.Error
			if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Field != tt.field {
				t.Fatalf("err = %v, want EINVALID on %s", err, tt.field)
			}
			if after := must(db.Size()); after != before {
				t.Errorf("the ledger grew from %d to %d entries", before, after)
			}
		})
	}
	// A reason may run over lines, as a note may.
	must(db.Explant(as("clerk"), pumpledger.Explant{MRN: "MRN-1", Serial: "S1", Date: "2026-03-20", Reason: "infection;\n\tsee the chart"}))
}
