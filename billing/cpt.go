package billing

import (
	"fmt"
	"strings"
)

// CPT by what happened (SPEC §8). The pump-service codes say what the visit
// did: 62367 analysis without reprogramming or refill; 62368 with
// reprogramming; 62369/62370 with reprogramming and refill; 95990/95991
// refill and maintenance (analysis when performed, no reprogramming). A
// code that says otherwise than the record is a warning naming the code
// that fits; the biller decides, the bill is never changed.

// CPTMismatchRule is the rule id of a CPTMismatch (SPEC §10, "CPT not
// matching what was recorded").
const CPTMismatchRule = "cpt-mismatch"

// CPTBasis is the source of the rule.
const CPTBasis = "CPT descriptors of 62367-62370 and 95990/95991: 62367 analysis without reprogramming or refill, 62368 with reprogramming, 62369/62370 with reprogramming and refill, 95990/95991 refill and maintenance; First Coast LCD L31254 coding guidelines and article A55239 (SPEC §8)"

// DoseStep is what a visit did to the programmed dose, as the record shows.
type DoseStep int

const (
	// DoseUnknown: nothing to compare with (a pump's first fill), or the
	// same dose at new concentrations, which is reprogrammed or not as the
	// pump asks: no finding either way.
	DoseUnknown DoseStep = iota
	// DoseChanged: the dose programmed differs from the one in force just
	// before (the previous fill's, or a later dose change's).
	DoseChanged
	// DoseKept: the same dose of the same fill's concentrations: nothing
	// reprogrammed that the record shows.
	DoseKept
)

// CPTMismatch is a pump-service code that does not match what was recorded.
type CPTMismatch struct {
	Rule     string // CPTMismatchRule
	Severity string // "warning": the biller decides
	Code     string // the code billed
	Fits     string // the code that fits what was recorded
	Message  string // one plain sentence: what the code says and what happened
	Fix      string // one sentence naming the code that fits
	Basis    string // CPTBasis
}

// Warning is the finding as a refill's or dose change's warning: the
// message and the fix.
func (m CPTMismatch) Warning() string { return m.Message + " " + m.Fix }

// cptFits is, per code, the code that fits when the record contradicts it:
// a dose change coded without reprogramming, or a refill coded with
// reprogramming that kept the dose (the physician-skill codes pair up:
// 95991 with 62370).
var cptFits = map[string]struct {
	step       DoseStep // what contradicts the code
	fits, what string   // the code that fits, and what it is
	is         string   // what the billed code is
}{
	"62367": {DoseChanged, "62368", "analysis with reprogramming", "pump analysis without reprogramming"},
	"95990": {DoseChanged, "62369", "refill with reprogramming", "a pump refill without reprogramming"},
	"95991": {DoseChanged, "62370", "refill with reprogramming, physician or other qualified health care professional's skill", "a pump refill without reprogramming"},
	"62369": {DoseKept, "95990", "refill and maintenance", "a pump refill with reprogramming"},
	"62370": {DoseKept, "95991", "refill and maintenance, physician or other qualified health care professional's skill", "a pump refill with reprogramming"},
}

// CodeMismatch checks the pump-service code billed for one visit against
// what the visit did to the dose: a dose change coded 62367 (fits 62368), a
// refill that changed the dose coded 95990/95991 (fits 62369/62370), and a
// refill that kept the dose and concentrations coded 62369/62370 (fits
// 95990/95991). dose names the doses for the message: for DoseChanged "from
// 2.4 to 3 mcg/day of ziconotide", for DoseKept "2.4 mcg/day of ziconotide".
// 62368 with the dose kept is no finding: a reprogramming may change other
// settings than the dose. Codes of other families, and DoseUnknown, give
// none. It is pure: the refill's and dose change's warnings and the
// pre-billing check both call it.
func CodeMismatch(code string, step DoseStep, dose string) (CPTMismatch, bool) {
	f, ok := cptFits[code]
	if !ok || step == DoseUnknown || step != f.step {
		return CPTMismatch{}, false
	}
	m := CPTMismatch{Rule: CPTMismatchRule, Severity: "warning", Code: code, Fits: f.fits, Basis: CPTBasis}
	if step == DoseChanged {
		m.Message = fmt.Sprintf("Procedure %s is %s, but this visit changed the dose %s.", code, f.is, dose)
		m.Fix = fmt.Sprintf("Bill %s (%s), or correct the entry if the dose did not change.", f.fits, f.what)
	} else {
		m.Message = fmt.Sprintf("Procedure %s is %s, but this refill kept the dose at %s and the concentrations of the fill before.", code, f.is, dose)
		m.Fix = fmt.Sprintf("Bill %s (%s), unless the pump was reprogrammed otherwise: say how in the note.", f.fits, f.what)
	}
	return m, true
}

// IsCPTMismatch says whether a recorded warning is a CodeMismatch's (its
// Warning), for the pre-billing check that reads recorded warnings.
func IsCPTMismatch(w string) bool {
	return strings.HasPrefix(w, "Procedure ") && (strings.Contains(w, ", but this visit changed the dose") || strings.Contains(w, ", but this refill kept the dose"))
}
