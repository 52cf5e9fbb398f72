package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger"
)

// Below the command line, a refusal names the field and its value, never a
// flag: the same ledger serves other callers (a web form) that have none.
func TestBillRefusalsNameFields(t *testing.T) {
	db, _, _ := openTest(t)
	for _, tc := range []struct{ from, to, field string }{
		{"2026-13-01", "2026-03-31", "from"},
		{"2026-03-01", "03/31/2026", "to"},
		{"2026-03-31", "2026-03-01", "to"},
	} {
		_, err := db.Bill(bg, tc.from, tc.to)
		var e *pumpledger.Error
		if !errors.As(err, &e) || e.Code != pumpledger.EINVALID || e.Field != tc.field ||
			strings.Contains(e.Message, "--") || !strings.HasPrefix(e.Message, tc.field+" ") {
			t.Errorf("Bill(%s, %s) = %v; want an EINVALID on %s naming the field, no flag", tc.from, tc.to, err, tc.field)
		}
	}
}
