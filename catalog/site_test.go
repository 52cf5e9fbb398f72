package catalog_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/catalog"
)

// The site's monitoring interval: absent or 0 is at every refill visit;
// a number of days from 1 to 365 is taken; anything else is refused with
// one sentence.
func TestAssessmentEveryDays(t *testing.T) {
	withInterval := func(v string) []byte {
		return bytes.Replace(catalog.DefaultJSON(), []byte(`"version": 1,`), []byte(`"version": 1, "assessment_every_days": `+v+`,`), 1)
	}
	if n := catalog.Default().AssessmentEveryDays(); n != 0 {
		t.Errorf("the default catalog assesses every %d days, want 0 (every refill visit)", n)
	}
	for _, tc := range []struct {
		v    string
		want int
		err  string
	}{
		{"0", 0, ""},
		{"30", 30, ""},
		{"365", 365, ""},
		{"366", 0, "assessment_every_days must be a whole number of days from 0 (at every refill visit) to 365"},
		{"-1", 0, "assessment_every_days must be a whole number"},
		{"7.5", 0, "assessment_every_days must be a whole number"},
		{`"30"`, 0, "assessment_every_days must be a whole number"},
	} {
		c, err := catalog.Load(bytes.NewReader(withInterval(tc.v)), "site.json")
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want %q", tc.v, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.v, err)
		case tc.err == "" && c.AssessmentEveryDays() != tc.want:
			t.Errorf("%s: %d days, want %d", tc.v, c.AssessmentEveryDays(), tc.want)
		}
	}
}
