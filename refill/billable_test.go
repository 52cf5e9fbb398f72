package refill_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/shopspring/decimal"
)

// A bill derives the lines of each billable shape once (ledger's billed):
// refill.Lines may depend on the procedure, the solution, each vial's NDC
// and count, the fill, rinse and diluent volumes and the dose's drug, and
// on the patient, date and entry only by copying them onto each line. This
// changes everything else, and the identity, of random refills (and some
// that Lines refuses), and wants the same lines or the same refusal.
func TestLinesDependOnBillableFields(t *testing.T) {
	r := newRand(20261127)
	wholeUnit := map[string][]string{}
	for _, p := range testCatalog.Products {
		if p.SingleDose {
			wholeUnit[p.Drug] = append(wholeUnit[p.Drug], p.Printed)
		}
	}
	checked, refused := 0, 0
	for i := range 3000 {
		in, _, ok := randomRefill(r, wholeUnit)
		if !ok {
			continue
		}
		switch i % 10 { // some Lines refuses: a refusal must not depend on the rest either
		case 1:
			in.Dose.Drug = "baclofen"
		case 2:
			in.DiluentML = in.DiluentML.Add(decimal.NewFromInt(3))
		case 3:
			in.Procedure = "62367"
		}
		want, wantErr := refill.Lines(testCatalog, in)

		other := in
		other.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		other.MRN, other.PumpSerial = "MRN-OTHER", "SERIAL-OTHER"
		other.Nurse, other.Witness, other.Note = "someone else", "", "a note"
		other.ResidualML = randomDecimal(r, decimal.Zero, decimal.NewFromInt(40), 1)
		other.Dose.MCGPerDay = randomDecimal(r, decimal.Zero, decimal.NewFromInt(30), 2)
		at := time.Date(2016+r.IntN(15), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), 0, 0, 0, time.UTC)
		other.PerformedAt = pumpledger.Instant{UTC: at, Offset: (r.IntN(27) - 12) * 3600}
		other.Vials = append([]pumpledger.VialUse(nil), in.Vials...)
		for k := range other.Vials {
			other.Vials[k].Lot = []string{"", "L1", "LOT-2"}[r.IntN(3)]
			other.Vials[k].Expires = []string{"", "2000-01-31", "2099-12-31"}[r.IntN(3)]
		}
		got, gotErr := refill.Lines(testCatalog, other)

		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("refill %d: Lines refused %v, with other non-billable fields %v", i, wantErr, gotErr)
		}
		if wantErr != nil {
			refused++
			continue
		}
		for k := range want {
			want[k].DateOfService, want[k].MRN, want[k].EntryID = other.PerformedAt.Date(), other.MRN, other.ID
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("refill %d: lines depend on a field that is not billable:\n got %+v\nwant %+v", i, got, want)
		}
		checked++
	}
	if checked < 1200 || refused < 300 {
		t.Fatalf("only %d refills compared and %d refusals: the generator changed", checked, refused)
	}
}

// A stored refill altered outside pumpledger may count any number of
// containers; deriving it must refuse, not try to open two billion.
func TestLinesRefusesCountsParsingWould(t *testing.T) {
	in := zic("2026-03-02T09:00:00-05:00", "20", "25", "2", vials("70720-723-10", 1))
	if _, err := refill.Lines(testCatalog, in); err != nil {
		t.Fatalf("the base refill: %v", err)
	}
	for _, n := range []int{0, -1, pumpledger.MaxVialCount + 1, 1 << 31} {
		in.Vials[0].Count = n
		_, err := refill.Lines(testCatalog, in)
		var e *pumpledger.Error
		if !errors.As(err, &e) || e.Field != "vials[0].count" {
			t.Errorf("count %d: %v, want a refusal of vials[0].count", n, err)
		}
	}
}
