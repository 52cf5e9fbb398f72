package web

import (
	"reflect"
	"testing"

	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/clinic"
)

// A bill's lines are grouped by visit (entry), each finding shown once: a
// visit's beside the line of the code it names when only one line bills
// that code, else under the visit's lines; a finding of a visit with no
// line on its own. Held marks what the downloads hold back, a conflict of
// codes the whole claim.
func TestBillVisits(t *testing.T) {
	line := func(entry, mrn, date, code string) billing.Line {
		return billing.Line{EntryID: entry, MRN: mrn, DateOfService: date, Code: code}
	}
	finding := func(entry, mrn, date, code, rule, severity string) billing.Finding {
		return billing.Finding{EntryID: entry, MRN: mrn, DateOfService: date, Code: code, Rule: rule, Severity: severity, Message: rule + " " + code}
	}
	type shown struct {
		Held   []bool     // by line
		Beside [][]string // each line's findings, by message
		Under  []string   // the visit's
	}
	msgs := func(fs []billing.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Message)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		lines    []billing.Line
		findings []billing.Finding
		want     []shown
		unbilled []string
	}{
		{"a visit's finding once under its two lines",
			[]billing.Line{line("r1", "M1", "2026-03-01", "J2278"), line("r1", "M1", "2026-03-01", "95990")},
			[]billing.Finding{finding("r1", "M1", "2026-03-01", "", "no-coverage", billing.Warning)},
			[]shown{{Held: []bool{false, false}, Beside: [][]string{nil, nil}, Under: []string{"no-coverage "}}}, nil},
		{"a line's finding beside it; an error holds the visit",
			[]billing.Line{line("r1", "M1", "2026-03-01", "J2278"), line("r1", "M1", "2026-03-01", "95990")},
			[]billing.Finding{finding("r1", "M1", "2026-03-01", "J2278", "kd-missing", billing.Error)},
			[]shown{{Held: []bool{true, true}, Beside: [][]string{{"kd-missing J2278"}, nil}}}, nil},
		{"a code on two lines (two NDCs): the visit's",
			[]billing.Line{line("r1", "M1", "2026-03-01", "J2278"), line("r1", "M1", "2026-03-01", "J2278"), line("r1", "M1", "2026-03-01", "95990")},
			[]billing.Finding{finding("r1", "M1", "2026-03-01", "J2278", "mue", billing.Warning)},
			[]shown{{Held: []bool{false, false, false}, Beside: [][]string{nil, nil, nil}, Under: []string{"mue J2278"}}}, nil},
		{"two visits apart, a code no line bills, a visit with no line",
			[]billing.Line{line("r1", "M1", "2026-03-01", "J2278"), line("r2", "M2", "2026-03-01", "95990")},
			[]billing.Finding{finding("r2", "M2", "2026-03-01", "J2277", "auth-missing", billing.Error), finding("r3", "M3", "2026-03-02", "", "no-coverage", billing.Warning)},
			[]shown{{Held: []bool{false}, Beside: [][]string{nil}}, {Held: []bool{true}, Beside: [][]string{nil}, Under: []string{"auth-missing J2277"}}}, []string{"no-coverage "}},
		{"a conflict of codes holds the claim's other visit",
			[]billing.Line{line("r1", "M1", "2026-03-01", "95990"), line("d1", "M1", "2026-03-01", "62369")},
			[]billing.Finding{finding("d1", "M1", "2026-03-01", "", clinic.RuleCPTConflict, billing.Error)},
			[]shown{{Held: []bool{true}, Beside: [][]string{nil}}, {Held: []bool{true}, Beside: [][]string{nil}, Under: []string{clinic.RuleCPTConflict + " "}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			visits, unbilled := billVisits(tc.lines, tc.findings)
			var got []shown
			for _, v := range visits {
				var s shown
				for _, l := range v.Lines {
					s.Held = append(s.Held, l.Held)
					s.Beside = append(s.Beside, msgs(l.Beside))
				}
				s.Under = msgs(v.Findings)
				got = append(got, s)
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(msgs(unbilled), tc.unbilled) {
				t.Errorf("got %+v, unbilled %v\nwant %+v, unbilled %v", got, msgs(unbilled), tc.want, tc.unbilled)
			}
		})
	}
}
