package billing

import (
	"slices"

	"github.com/pumpledger/pumpledger"
)

// Compounding is how a payer wants a compounded pump fill (one agent at a new
// concentration, or an admixture) billed (SPEC §8).
type Compounding string

const (
	// PerDrug bills each drug of the fill on its own code, as off-the-shelf.
	PerDrug Compounding = "per-drug"
	// J7799 bills the fill as one NOC line, quantity 1, the drugs in its
	// narrative (CMS article A54100).
	J7799 Compounding = "J7799"
	// J3490 is the same one line under J3490 (First Coast L31254, WPS).
	J3490 Compounding = "J3490"
)

// Compoundings lists the values, in the order messages name them.
var Compoundings = []Compounding{PerDrug, J7799, J3490}

// JWJZ says whether a payer wants the JW/JZ modifiers on drugs from
// single-dose containers. No contractor text settles it for KD pump drugs
// (SPEC §8): it is the payer's setting.
type JWJZ string

const (
	JWJZRequired JWJZ = "required"
	JWJZNotUsed  JWJZ = "not-used"
)

// JWJZs lists the values, in the order messages name them.
var JWJZs = []JWJZ{JWJZRequired, JWJZNotUsed}

// DocumentationKinds are the clinical records a payer may need on file
// before it covers pump therapy (SPEC §8, §9).
var DocumentationKinds = []pumpledger.Kind{
	pumpledger.KindDiagnosis, pumpledger.KindTherapy, pumpledger.KindTrial,
	pumpledger.KindConsent, pumpledger.KindAssessment, pumpledger.KindAuthorization,
}

// Payer is a payer profile of the catalog: how one payer wants a pump visit
// billed and what it needs on file (SPEC §10). The catalog checks every field
// when it loads; the claim rules read it.
type Payer struct {
	ID            string
	Name          string
	KDOnPumpDrugs bool // the KD modifier on every drug given through a pump
	Compounded    Compounding
	JWJZ          JWJZ
	// CodeOverrides bills a drug (by its catalog name) under another HCPCS
	// code than the catalog's, for a payer that wants it (ziconotide → J2277).
	CodeOverrides map[string]string
	PriorAuth     []string         // HCPCS codes billed only under a prior authorization
	MUE           map[string]int64 // HCPCS code → most units a day without days-of-therapy documented
	// TimelyFilingDays is how long after the date of service a claim may be filed.
	TimelyFilingDays int
	Documentation    []pumpledger.Kind // the clinical records coverage needs on file
	Source           string
}

// Code is the code this payer wants for a drug the catalog bills as code.
func (p Payer) Code(drug, code string) string {
	if c, ok := p.CodeOverrides[drug]; ok {
		return c
	}
	return code
}

// NeedsPriorAuth says whether a line under code needs a prior authorization.
func (p Payer) NeedsPriorAuth(code string) bool { return slices.Contains(p.PriorAuth, code) }

// Needs says whether coverage needs a record of kind k on file.
func (p Payer) Needs(k pumpledger.Kind) bool { return slices.Contains(p.Documentation, k) }

// MUEUnits is the payer's units-per-day limit for code, if it set one.
func (p Payer) MUEUnits(code string) (int64, bool) {
	u, ok := p.MUE[code]
	return u, ok
}
