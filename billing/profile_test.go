package billing_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pumpledger/pumpledger/billing"
	"github.com/shopspring/decimal"
)

// A visit's lines as the catalog bills them, by hand: the refill service,
// then each drug's administered line and its JW line, one per NDC.
const (
	ndcZ  = "70720072010" // ziconotide 100 mcg/mL
	ndcZ5 = "68118072210" // ziconotide 500 mcg/5 mL
	ndcM  = "00641612345" // morphine
)

func svc(mods ...string) billing.Line {
	return billing.Line{DateOfService: "2026-03-02", MRN: "MRN-1", EntryID: "e1", Code: "95990", Modifiers: append([]string{}, mods...), Units: 1,
		Description: "Pump refill and maintenance"}
}

// drugLine is a drug's line: units of code from ndc, qty mL, mcg of drug.
func drugLine(drug, code, ndc string, units int64, qty, mcg, desc string, mods ...string) billing.Line {
	return billing.Line{DateOfService: "2026-03-02", MRN: "MRN-1", EntryID: "e1", Code: code, Modifiers: append([]string{}, mods...), Units: units,
		NDC: ndc, NDCQty: decimal.RequireFromString(qty), NDCUnit: "ML", Drug: drug, Description: desc, MCG: decimal.RequireFromString(mcg)}
}

func zic(ndc string, units int64, qty, mcg string, mods ...string) billing.Line {
	desc := "ziconotide " + mcg + " mcg given"
	if slices.Contains(mods, billing.JW) {
		desc = "ziconotide " + mcg + " mcg discarded"
	}
	return drugLine("ziconotide", "J2278", ndc, units, qty, mcg, desc, mods...)
}

func mor(units int64, qty, mcg string, mods ...string) billing.Line {
	return drugLine("morphine", "J2274", ndcM, units, qty, mcg, "morphine "+mcg+" mcg given", mods...)
}

// unitMCG is the catalog's billing units: ziconotide 1 mcg, morphine 10 mg.
func unitMCG(drug string) decimal.Decimal {
	if drug == "morphine" {
		return decimal.NewFromInt(10000)
	}
	return decimal.NewFromInt(1)
}

func profile(id string, edit func(*billing.Payer)) billing.Payer {
	p := billing.Payer{ID: id, Name: id, KDOnPumpDrugs: true, Compounded: billing.J7799, JWJZ: billing.JWJZRequired}
	if edit != nil {
		edit(&p)
	}
	return p
}

var (
	medicare   = profile("medicare-part-b", nil)
	commercial = profile("commercial", func(p *billing.Payer) { p.KDOnPumpDrugs, p.Compounded = false, billing.PerDrug })
	fcso       = profile("fcso", func(p *billing.Payer) { p.Compounded = billing.J3490 })
	noKD3490   = profile("j3490-no-kd", func(p *billing.Payer) { p.KDOnPumpDrugs, p.Compounded = false, billing.J3490 })
	override   = profile("j2277", func(p *billing.Payer) {
		p.KDOnPumpDrugs, p.Compounded, p.CodeOverrides = false, billing.PerDrug, map[string]string{"ziconotide": "J2277"}
	})
	notUsed = profile("no-jwjz", func(p *billing.Payer) { p.JWJZ = billing.JWJZNotUsed })
)

// with is l with its code and modifiers changed.
func with(l billing.Line, code string, mods ...string) billing.Line {
	if code != "" {
		l.Code = code
	}
	l.Modifiers = append([]string{}, mods...)
	return l
}

// compoundedLine is the one NOC line of an admixture.
func compoundedLine(code, narrative, desc string, mods ...string) billing.Line {
	return billing.Line{DateOfService: "2026-03-02", MRN: "MRN-1", EntryID: "e1", Code: code, Modifiers: append([]string{}, mods...), Units: 1,
		Narrative: narrative, Description: desc}
}

const admixture = "compounded intrathecal admixture given through an implanted pump: "

func TestApplyProfile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		payer billing.Payer
		in    []billing.Line
		want  []billing.Line
	}{
		{name: "KD on the drug line, before its JZ; the service line as it was", payer: medicare,
			in:   []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ)},
			want: []billing.Line{svc(), with(zic(ndcZ, 100, "1", "100"), "", billing.KD, billing.JZ)}},
		{name: "KD not added twice", payer: medicare,
			in:   []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ, billing.KD)},
			want: []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ, billing.KD)}},
		{name: "KD on the administered and the JW line", payer: medicare,
			in:   []billing.Line{svc(), zic(ndcZ, 150, "1.5", "150"), zic(ndcZ, 50, "0.5", "50", billing.JW)},
			want: []billing.Line{svc(), with(zic(ndcZ, 150, "1.5", "150"), "", billing.KD), with(zic(ndcZ, 50, "0.5", "50", billing.JW), "", billing.KD, billing.JW)}},
		{name: "no KD where the payer asks none", payer: commercial,
			in:   []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ)},
			want: []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ)}},
		{name: "a service line's own modifiers are kept", payer: medicare,
			in:   []billing.Line{svc("59"), zic(ndcZ, 100, "1", "100", billing.JZ)},
			want: []billing.Line{svc("59"), with(zic(ndcZ, 100, "1", "100"), "", billing.KD, billing.JZ)}},

		{name: "the payer's code for ziconotide; morphine keeps the catalog's", payer: override,
			in:   []billing.Line{svc(), zic(ndcZ, 150, "1.5", "150"), zic(ndcZ, 50, "0.5", "50", billing.JW), mor(2, "1", "20000", billing.JZ)},
			want: []billing.Line{svc(), with(zic(ndcZ, 150, "1.5", "150"), "J2277"), with(zic(ndcZ, 50, "0.5", "50", billing.JW), "J2277", billing.JW), mor(2, "1", "20000", billing.JZ)}},

		{name: "JW and JZ not used: the waste billed on the line given from its NDC", payer: notUsed,
			in: []billing.Line{svc(), zic(ndcZ, 150, "1.5", "150"), zic(ndcZ, 50, "0.5", "50", billing.JW)},
			want: []billing.Line{svc(), func() billing.Line {
				l := with(zic(ndcZ, 200, "2", "200"), "", billing.KD)
				l.Description = "ziconotide 150 mcg given; with ziconotide 50 mcg discarded"
				return l
			}()}},
		{name: "JW and JZ not used: JZ dropped", payer: notUsed,
			in:   []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ)},
			want: []billing.Line{svc(), with(zic(ndcZ, 100, "1", "100"), "", billing.KD)}},
		{name: "JW and JZ not used: waste of an NDC nothing was given from is its own line, without JW", payer: notUsed,
			in:   []billing.Line{svc(), zic(ndcZ, 100, "1", "100"), zic(ndcZ5, 400, "4", "400", billing.JW)},
			want: []billing.Line{svc(), with(zic(ndcZ, 100, "1", "100"), "", billing.KD), with(zic(ndcZ5, 400, "4", "400", billing.JW), "", billing.KD)}},

		{name: "an admixture as one J7799-KD line of quantity 1", payer: medicare,
			in: []billing.Line{svc(), zic(ndcZ, 150, "1.5", "150"), zic(ndcZ, 50, "0.5", "50", billing.JW), mor(2, "1", "20000", billing.JZ)},
			want: []billing.Line{compoundedLine("J7799", "ziconotide 150 mcg + morphine 20 mg",
				admixture+"ziconotide 150 mcg + morphine 20 mg (NDC 70720072010, 00641612345); discarded from single-dose containers: ziconotide 50 mcg", billing.KD), svc()}},
		{name: "an admixture as one J3490-KD line, amounts exact; the service line's modifiers kept", payer: fcso,
			in: []billing.Line{svc("59"), zic(ndcZ, 75, "0.75", "74.5"), zic(ndcZ5, 425, "4.25", "425.5", billing.JW), mor(2, "0.625", "12500", billing.JZ)},
			want: []billing.Line{compoundedLine("J3490", "ziconotide 74.5 mcg + morphine 12.5 mg",
				admixture+"ziconotide 74.5 mcg + morphine 12.5 mg (NDC 70720072010, 68118072210, 00641612345); discarded from single-dose containers: ziconotide 425.5 mcg", billing.KD), svc("59")}},
		{name: "an admixture of two NDCs of one drug given, nothing discarded", payer: medicare,
			in: []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ), zic(ndcZ5, 100, "1", "100", billing.JZ), mor(1, "0.5", "5000", billing.JZ)},
			want: []billing.Line{compoundedLine("J7799", "ziconotide 200 mcg + morphine 5 mg",
				admixture+"ziconotide 200 mcg + morphine 5 mg (NDC 70720072010, 68118072210, 00641612345)", billing.KD), svc()}},
		{name: "an admixture's NOC line without KD where the payer asks none", payer: noKD3490,
			in: []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ), mor(1, "0.5", "5000", billing.JZ)},
			want: []billing.Line{compoundedLine("J3490", "ziconotide 100 mcg + morphine 5 mg",
				admixture+"ziconotide 100 mcg + morphine 5 mg (NDC 70720072010, 00641612345)"), svc()}},
		{name: "an admixture per drug where the payer says so", payer: commercial,
			in:   []billing.Line{svc(), zic(ndcZ, 150, "1.5", "150"), zic(ndcZ, 50, "0.5", "50", billing.JW), mor(2, "1", "20000", billing.JZ)},
			want: []billing.Line{svc(), zic(ndcZ, 150, "1.5", "150"), zic(ndcZ, 50, "0.5", "50", billing.JW), mor(2, "1", "20000", billing.JZ)}},
		{name: "one drug diluted is not a compound: its own code with KD", payer: medicare,
			in:   []billing.Line{svc(), zic(ndcZ, 100, "1", "100", billing.JZ)},
			want: []billing.Line{svc(), with(zic(ndcZ, 100, "1", "100"), "", billing.KD, billing.JZ)}},
		{name: "a dose change's service line alone", payer: medicare,
			in:   []billing.Line{with(svc(), "62368")},
			want: []billing.Line{with(svc(), "62368")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := render(tc.in)
			got := billing.ApplyProfile(tc.in, tc.payer, unitMCG)
			if g, w := render(got), render(tc.want); !slices.Equal(g, w) {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
			for _, l := range got {
				if l.Narrative != "" && (ugRE.MatchString(l.Narrative) || len(l.Narrative) > billing.MaxNarrative) {
					t.Errorf("narrative %q", l.Narrative)
				}
			}
			// The input is not changed, nor shares its modifiers with the output.
			for i := range got {
				if len(got[i].Modifiers) > 0 {
					got[i].Modifiers[0] = "XX"
				}
				got[i].Modifiers = append(got[i].Modifiers, "YY")
			}
			if after := render(tc.in); !slices.Equal(before, after) {
				t.Errorf("input changed:\n%s\nwas:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
		})
	}
}

// ugRE is "ug" as a unit: the narrative says mcg or mg.
var ugRE = regexp.MustCompile(`(?i)\d\s*ug\b|\bug\b|µg`)

// render writes every field a payer reads of each line.
func render(lines []billing.Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, fmt.Sprintf("%s %s %s %s %v ×%d ndc=%q qty=%s %s drug=%q mcg=%s narrative=%q desc=%q",
			l.DateOfService, l.MRN, l.EntryID, l.Code, l.Modifiers, l.Units, l.NDC, l.NDCQty, l.NDCUnit, l.Drug, l.MCG, l.Narrative, l.Description))
	}
	return out
}

// Amount words an amount in mg for a drug billed by the mg or more, else
// in mcg, exactly.
func TestAmount(t *testing.T) {
	for _, tc := range []struct{ mcg, unit, want string }{
		{"150", "1", "150 mcg"},         // ziconotide, 1 mcg
		{"74.5", "1", "74.5 mcg"},       // a part mcg, as it is
		{"0.25", "1", "0.25 mcg"},       // less than one
		{"150.000", "1", "150 mcg"},     // trailing zeros of the figure dropped
		{"20000", "10000", "20 mg"},     // morphine, 10 mg
		{"12500", "10000", "12.5 mg"},   // exact, not rounded
		{"20000.000", "10000", "20 mg"}, // trailing zeros of the figure dropped
		{"1", "10000", "0.001 mg"},      // small, still exact
		{"1500", "1000", "1.5 mg"},      // clonidine, 1 mg: at the threshold
		{"2500", "4000", "2.5 mg"},      // hydromorphone, up to 4 mg
		{"999", "999", "999 mcg"},       // a unit just under 1 mg
		{"0", "10000", "0 mg"},
	} {
		got := billing.Amount(decimal.RequireFromString(tc.mcg), decimal.RequireFromString(tc.unit))
		if got != tc.want {
			t.Errorf("Amount(%s mcg, unit %s mcg) = %q, want %q", tc.mcg, tc.unit, got, tc.want)
		}
		if ugRE.MatchString(got) {
			t.Errorf("Amount(%s, %s) = %q says ug", tc.mcg, tc.unit, got)
		}
	}
}
