package pumpledger_test

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pumpledger/pumpledger"
)

// An input that cannot be read is refused naming the field, not a flag:
// the parsers serve callers other than the command line.
func TestUnreadableInputNamesNoFlag(t *testing.T) {
	_, err := pumpledger.ParseRefill(iotest.ErrReader(errors.New("disk gone")))
	var e *pumpledger.Error
	if !errors.As(err, &e) || e.Field != "file" || strings.Contains(e.Message, "--") {
		t.Errorf("ParseRefill of a failing reader = %v; want an error on file naming no flag", err)
	}
}
