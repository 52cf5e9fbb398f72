package fhir

import (
	"testing"

	"github.com/pumpledger/pumpledger/catalog"
)

// A prior therapy is a drug therapy when its text names a drug: a word of
// drugWords (opioids too) or a drug of the catalog.
func TestIsDrug(t *testing.T) {
	cat := catalog.Default()
	for _, c := range []struct {
		therapy string
		want    bool
	}{
		{"oral opioids", true},
		{"Gabapentin", true},
		{"intrathecal morphine", true},
		{"intrathecal ziconotide trial", true},
		{"NSAIDs", true},
		{"long-acting opiates", true},
		{"spinal cord stimulator", false},
		{"physical therapy", false},
		{"lumbar fusion", false},
		{"", false},
	} {
		if got := isDrug(cat, c.therapy); got != c.want {
			t.Errorf("isDrug(%q) = %v, want %v", c.therapy, got, c.want)
		}
	}
}
