package main

import (
	"strings"
	"testing"
)

// plan recommends only fills the Prialt label allows (SPEC §8): a naive
// pump's first fill is 25 mcg/mL undiluted, never topped up from 100 mcg/mL
// vials, and a cheaper plan the label rules out is named with what it
// breaks. Each rule: a case where it bites and a near miss.
func TestPlanFollowsTheLabel(t *testing.T) {
	c := noLedger(t)
	const src = " (Prialt US label, DailyMed b025d8ed, 2.1)"
	tests := []struct {
		name   string
		args   []string
		code   int
		want   []string // lines of stdout, or the stderr sentence
		absent []string
	}{
		{"naive 25 mcg/mL: undiluted, the mixed plan named", []string{"--mcg-per-ml", "25", "--fill-ml", "20", "--rinse-ml", "6"}, 0,
			[]string{"  2 × NDC 70720-723-10  TerSera, 500 mcg in 20 mL  (presentation inferred: check the carton)",
				"Not recommended: 1 × NDC 70720-723-10 + 2 × NDC 70720-720-10 would discard 200 mcg instead of 500, but a pump new to ziconotide is first filled with 25 mcg/mL undiluted, not 25 mcg/mL diluted from 100 mcg/mL containers" + src + "."},
			[]string{"70720-720-10  TerSera"}},
		{"naive 25 mcg/mL that needs no top-up: nothing ruled out", []string{"--mcg-per-ml", "25", "--fill-ml", "14", "--rinse-ml", "6"}, 0,
			[]string{"  1 × NDC 70720-723-10  TerSera, 500 mcg in 20 mL  (presentation inferred: check the carton)"},
			[]string{"Not recommended"}},
		{"naive at 5 mcg/mL: no plan the label allows", []string{"--mcg-per-ml", "5", "--fill-ml", "20", "--rinse-ml", "6"}, 1,
			[]string{"pumpledger: No plan the ziconotide label allows gives 20 mL at 5 mcg/mL after a 6 mL rinse: a pump new to ziconotide is first filled with 25 mcg/mL undiluted, not 5 mcg/mL diluted from 25 mcg/mL containers" + src + "; plan --mcg-per-ml 25."}, nil},
		{"5 mcg/mL for a pump on ziconotide: from 100 mcg/mL", []string{"--mcg-per-ml", "5", "--fill-ml", "20"}, 0,
			[]string{"  1 × NDC 70720-720-10  TerSera, 100 mcg in 1 mL"}, []string{"Not recommended", "70720-723-10"}},
		{"22.5 mcg/mL: the 25 mcg/mL vial is not diluted", []string{"--mcg-per-ml", "22.5", "--fill-ml", "18"}, 0,
			[]string{"  1 × NDC 68118-722-10  Esteve, 500 mcg in 5 mL"}, []string{"70720-723-10"}},
		{"100 mcg/mL undiluted: for an established dose", []string{"--mcg-per-ml", "100", "--fill-ml", "20"}, 0,
			[]string{"Undiluted 100 mcg/mL is for a dose already established (no change in 14 days); until then the label dilutes it with preservative-free 0.9% sodium chloride" + src + "."}, nil},
		{"50 mcg/mL, diluted from 100: no note", []string{"--mcg-per-ml", "50", "--fill-ml", "20"}, 0,
			[]string{"  2 × NDC 68118-722-10  Esteve, 500 mcg in 5 mL"}, []string{"established", "Not recommended"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := c.run("", append([]string{"plan", "--drug", "ziconotide"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errs)
			}
			lines := strings.Split(out+errs, "\n")
			for _, w := range tt.want {
				if !hasLine(lines, w) {
					t.Errorf("no line\n%s\nin\n%s%s", w, out, errs)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out, a) {
					t.Errorf("%q in\n%s", a, out)
				}
			}
		})
	}
}

func hasLine(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}
