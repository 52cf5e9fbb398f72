package refill_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/refill"
)

// A dose change bills its procedure code once, on its date of service on
// the clinic's wall clock, with the catalog's description.
func TestReprogramLines(t *testing.T) {
	p := reprogram("2026-03-08T22:30:00-05:00", "2.4") // 9 March in UTC
	ls := refill.ReprogramLines(defaultCatalog, *p)
	want := billing.Line{DateOfService: "2026-03-08", MRN: "MRN-1001", EntryID: p.ID, Code: "62368", Modifiers: []string{}, Units: 1,
		Description: ls[0].Description}
	if len(ls) != 1 || !reflect.DeepEqual(ls[0], want) || !strings.Contains(ls[0].Description, "reprogramming") {
		t.Errorf("ReprogramLines = %+v, want one line %+v with the 62368 description", ls, want)
	}
}
