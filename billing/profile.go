package billing

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// A payer's profile applied to one visit's lines (SPEC §8, §10). The lines
// come from the refill as the catalog bills them (per drug, JW/JZ); the
// profile then:
//
//   - bills an admixture (two or more drugs in the fill) as ONE line of the
//     profile's NOC code, quantity 1, modifier KD, the drugs and the amounts
//     administered in its narrative, in mg or mcg, never "ug", where the
//     profile says J7799 (CMS article A54100: "compounded drugs ... must be
//     billed with HCPCS code J7799 with the KD modifier ... even though the
//     compound ... includes a drug with a specific HCPCS code") or J3490
//     (First Coast L31254, WPS). A single drug diluted with saline at the
//     bedside is billed under its own code: it is not a pharmacy compound
//     of two agents. (Our reading; a profile that disagrees bills per-drug.)
//   - puts KD on every pump drug line where kd_on_pump_drugs is set (A54100:
//     "any drug, compounded or non-compounded, that is administered through
//     an infusion pump must be reported with the KD modifier");
//   - bills a drug under the profile's code_overrides (ziconotide → J2277);
//   - where jw_jz is "not-used", drops JZ and bills what was discarded on
//     the line of what was given from the same NDC (the payer does not pay
//     waste apart, and does not want the modifiers);
//   - keeps each line's NDC (the compounded line names them in its
//     narrative instead: an 837P line carries one NDC).
//
// Service lines are left as they are.

// KD is the modifier of a drug given through an implanted infusion pump
// (DME pricing).
const KD = "KD"

// MaxNarrative is the longest narrative a line carries: X12 SV101-7 (the
// procedure's description) holds 80 characters.
const MaxNarrative = 80

// ApplyProfile returns the visit's lines as payer p bills them; lines is
// not changed. drugUnitMCG gives a drug's billing unit in mcg (from the
// catalog), to word each amount in mg or mcg.
func ApplyProfile(lines []Line, p Payer, drugUnitMCG func(drug string) decimal.Decimal) []Line {
	var drugs []string
	for _, l := range lines {
		if l.Drug != "" && !slices.Contains(drugs, l.Drug) {
			drugs = append(drugs, l.Drug)
		}
	}
	out := make([]Line, 0, len(lines))
	if len(drugs) >= 2 && p.Compounded != PerDrug {
		return append(compounded(lines, drugs, p, drugUnitMCG), services(lines)...)
	}
	for _, l := range lines {
		l.Modifiers = slices.Clone(l.Modifiers)
		if l.Drug == "" {
			out = append(out, l)
			continue
		}
		l.Code = p.Code(l.Drug, l.Code)
		if p.JWJZ == JWJZNotUsed {
			if slices.Contains(l.Modifiers, JW) {
				// Onto the line given from the same NDC, if there is one.
				if i := slices.IndexFunc(out, func(o Line) bool { return o.Drug == l.Drug && o.NDC == l.NDC && !slices.Contains(o.Modifiers, JW) }); i >= 0 {
					out[i].Units += l.Units
					out[i].NDCQty = out[i].NDCQty.Add(l.NDCQty)
					out[i].MCG = out[i].MCG.Add(l.MCG)
					out[i].Description += "; with " + l.Description
					continue
				}
			}
			l.Modifiers = slices.DeleteFunc(l.Modifiers, func(m string) bool { return m == JW || m == JZ })
		}
		if p.KDOnPumpDrugs && !slices.Contains(l.Modifiers, KD) {
			l.Modifiers = append([]string{KD}, l.Modifiers...)
		}
		out = append(out, l)
	}
	return out
}

// compounded is an admixture's one NOC line.
func compounded(lines []Line, drugs []string, p Payer, drugUnitMCG func(string) decimal.Decimal) []Line {
	given := map[string]decimal.Decimal{}
	thrown := map[string]decimal.Decimal{}
	var ndcs []string
	var first Line
	for _, l := range lines {
		if l.Drug == "" {
			continue
		}
		if first.DateOfService == "" {
			first = l
		}
		if slices.Contains(l.Modifiers, JW) {
			thrown[l.Drug] = thrown[l.Drug].Add(l.MCG)
		} else {
			given[l.Drug] = given[l.Drug].Add(l.MCG)
		}
		if l.NDC != "" && !slices.Contains(ndcs, l.NDC) {
			ndcs = append(ndcs, l.NDC)
		}
	}
	var parts, waste []string
	for _, d := range drugs {
		parts = append(parts, d+" "+Amount(given[d], drugUnitMCG(d)))
		if thrown[d].IsPositive() {
			waste = append(waste, d+" "+Amount(thrown[d], drugUnitMCG(d)))
		}
	}
	l := Line{DateOfService: first.DateOfService, MRN: first.MRN, EntryID: first.EntryID, Code: string(p.Compounded),
		Modifiers: []string{}, Units: 1, Narrative: strings.Join(parts, " + ")}
	if p.KDOnPumpDrugs {
		l.Modifiers = []string{KD}
	}
	l.Description = fmt.Sprintf("compounded intrathecal admixture given through an implanted pump: %s (NDC %s)", l.Narrative, strings.Join(ndcs, ", "))
	if len(waste) > 0 {
		l.Description += "; discarded from single-dose containers: " + strings.Join(waste, ", ")
	}
	return []Line{l}
}

func services(lines []Line) []Line {
	var out []Line
	for _, l := range lines {
		if l.Drug == "" {
			l.Modifiers = slices.Clone(l.Modifiers)
			out = append(out, l)
		}
	}
	return out
}

// Amount words an amount of a drug for a claim narrative: in mg where the
// drug bills by the mg or more (unitMCG ≥ 1000: morphine's unit is 10 mg),
// else in mcg; never "ug", which payers and the ISMP list as error-prone.
// Exact: 20000 mcg is "20 mg", 12500 mcg "12.5 mg".
func Amount(mcg, unitMCG decimal.Decimal) string {
	if unitMCG.GreaterThanOrEqual(decimal.NewFromInt(1000)) {
		return mcg.Shift(-3).String() + " mg"
	}
	return mcg.String() + " mcg"
}
