package vial

import (
	"github.com/shopspring/decimal"
)

// Drug is one drug as billed: its HCPCS code and billing unit, plus what its
// label says about dosing and how long a filled reservoir stays usable. All
// amounts are in micrograms (mcg), the unit ziconotide is dosed in; a 10 mg
// billing unit is 10000 mcg.
type Drug struct {
	Name string // "ziconotide": the key input uses
	// Code is the HCPCS code exported on claims. It is data, not a constant: a
	// site or payer can replace it (SPEC §2 on J2277/J2278).
	Code string
	// Aliases are other codes or names a user may type for this drug ("J2277").
	Aliases []string
	// UnitMCG is one HCPCS billing unit in mcg (J2278: 1; J2274: 10000).
	// For "up to N" codes (J1170, up to 4 mg) it is N: the arithmetic is the
	// same, any part of a unit bills as one.
	UnitMCG  decimal.Decimal
	UnitText string // the code's own words: "1 mcg", "10 mg", "up to 4 mg"
	Label    Label
	Source   string
}

// Label holds the limits of a drug's label that the program checks. A zero
// limit means the label sets none. Breaking one is a warning the nurse sees and
// acknowledges; it never refuses the entry.
type Label struct {
	StartMaxMCGPerDay   decimal.Decimal // highest starting dose
	StepMaxMCGPerDay    decimal.Decimal // largest single increase
	MaxIncreasesPerWeek int             // most increases in any 7 days
	MinHoursBetweenUps  int             // least time between two increases
	MaxMCGPerDay        decimal.Decimal // highest dose
	// NaiveRinseML is the total rinse a pump new to this drug takes (3 × 2 mL);
	// NaiveRinseMCGPerML is the strength it is rinsed with (undiluted 25 mcg/mL).
	NaiveRinseML       decimal.Decimal
	NaiveRinseMCGPerML decimal.Decimal
	// Days a fill may stay in the reservoir: after a fill of a pump new to the
	// drug, after a diluted fill, after an undiluted one (ziconotide 14/40/84).
	NaiveRefillDays     int
	DilutedRefillDays   int
	UndilutedRefillDays int
	Source              string

	// How the label lets the drug be filled, each a warning when broken.
	// UndilutedOnly are strengths used only undiluted (ziconotide 25 mcg/mL).
	UndilutedOnly []decimal.Decimal
	// NaiveFillMCGPerML is the strength, undiluted, of the first fill of a
	// pump new to the drug (ziconotide 25 mcg/mL).
	NaiveFillMCGPerML decimal.Decimal
	// UndilutedOnceEstablished are strengths used undiluted only once a dose
	// is established (ziconotide 100 mcg/mL; diluted until then), and
	// EstablishedDays what established means here: no dose change in that
	// many days, the refill's own included. The label gives no number; the
	// catalog's is the site's reading.
	UndilutedOnceEstablished []decimal.Decimal
	EstablishedDays          int
	// Diluents are the names the diluent may be written as (the first is
	// the one the label names); empty: the label names none.
	Diluents []string
	// FillSource is the short citation of these fill rules, for warnings.
	FillSource string
}

// HasStrength reports whether strengths holds mcgPerML.
func HasStrength(strengths []decimal.Decimal, mcgPerML decimal.Decimal) bool {
	for _, s := range strengths {
		if s.Equal(mcgPerML) {
			return true
		}
	}
	return false
}

// StabilityDays is how long a fill of this drug may stay in the reservoir.
// naive: the pump had never held the drug before this fill; diluted: the fill
// is weaker than the containers it came from. Zero means the label sets none.
func (l Label) StabilityDays(naive, diluted bool) int {
	switch {
	case naive && l.NaiveRefillDays > 0:
		return l.NaiveRefillDays
	case diluted:
		return l.DilutedRefillDays
	default:
		return l.UndilutedRefillDays
	}
}

// Product is one container presentation with its NDC.
type Product struct {
	NDC        NDC
	Printed    string // the NDC as printed on the label, 70720-720-10
	Drug       string
	MCGPerML   decimal.Decimal
	ML         decimal.Decimal // labeled volume of one container
	SingleDose bool            // single-dose: what is left is discarded (JW/JZ apply)
	Labeler    string
	// Verify marks a presentation inferred from a listing rather than read off
	// a label; shown to the user, who should check the carton.
	Verify bool
	Source string
}

// MCG is the labeled content of one container.
func (p Product) MCG() decimal.Decimal { return p.MCGPerML.Mul(p.ML) }
