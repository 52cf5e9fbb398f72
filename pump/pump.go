// Package pump holds pump models and the arithmetic of a reservoir over time:
// the volume a programmed dose delivers, the residual expected at the next
// refill and its discrepancy with what was aspirated, when the next refill is
// due, and the label's limits on dose changes. Elapsed time is real (UTC) time.
package pump

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Scale is the decimal places kept for a figure that comes out of a division
// (days from seconds, mL from mcg/day over mcg/mL): 0.0001 mL, 0.0001 day
// (9 s). Exact results (the usual case) print exactly; others are rounded
// half-up here and nowhere else.
const Scale = 4

// workScale is the precision of intermediate quotients, far below Scale.
const workScale = 16

var secondsPerDay = decimal.NewFromInt(86400)

// Model is a pump model (SPEC §4).
type Model struct {
	ID          string
	Device      string
	ReservoirML decimal.Decimal
	// AlarmML is the reservoir volume at which a refill is due (low-reservoir
	// alarm or the controller's reminder), unless the pump was programmed with
	// another at implant.
	AlarmML decimal.Decimal
	// DiscrepancyML is the largest |aspirated − expected| residual not worth
	// evaluating; above it the discrepancy is flagged.
	DiscrepancyML decimal.Decimal
	Source        string
	// LabelledDrugs are the drugs the device is labelled for (catalog drug
	// names, or "saline"), and LabelledSource where that comes from. Nil: the
	// catalog says nothing (a catalog pinned before the matrix), so no drug
	// is called off-label.
	LabelledDrugs  []string
	LabelledSource string
}

// OffLabel reports whether the model's labelling is known and leaves drug out.
func (m Model) OffLabel(drug string) bool {
	if m.LabelledDrugs == nil {
		return false
	}
	for _, d := range m.LabelledDrugs {
		if d == drug {
			return false
		}
	}
	return true
}

// MLPerDay is the volume a dose of mcgPerDay delivers at mcgPerML.
func MLPerDay(mcgPerDay, mcgPerML decimal.Decimal) decimal.Decimal {
	return mcgPerDay.DivRound(mcgPerML, Scale)
}

// Days is the real elapsed time from a to b in days.
func Days(a, b time.Time) decimal.Decimal {
	return seconds(a, b).DivRound(secondsPerDay, Scale)
}

func seconds(a, b time.Time) decimal.Decimal {
	return decimal.NewFromInt(int64(b.Sub(a) / time.Second))
}

// Fill is what a refill left in the reservoir and the dose it was programmed at.
type Fill struct {
	At       time.Time
	Offset   int // seconds east of UTC of the wall clock At was written in: display only
	ML       decimal.Decimal
	MCGPerML map[string]decimal.Decimal // per drug of the solution
	Dose     DoseChange                 // At is the fill's time
	// StabilityDays is how long the fill may stay in the reservoir (0: no
	// limit known), and StabilityDrug the drug that sets it.
	StabilityDays int
	StabilityDrug string
}

// DoseChange is a dose programmed at a time, in mcg/day of one drug of the
// solution; the pump's volume rate follows from that drug's concentration.
type DoseChange struct {
	At        time.Time
	Drug      string
	MCGPerDay decimal.Decimal
}

// Segment is one stretch of an interval at one programmed rate.
type Segment struct {
	From, To  time.Time
	Drug      string
	MCGPerDay decimal.Decimal
	MLPerDay  decimal.Decimal
	Days      decimal.Decimal
	ML        decimal.Decimal // volume the pump should have delivered
}

// Interval reconciles one fill with the residual aspirated at the next refill.
type Interval struct {
	From, To           time.Time
	Days               decimal.Decimal
	Segments           []Segment
	FillML             decimal.Decimal
	ExpectedResidualML decimal.Decimal
	ResidualML         decimal.Decimal
	// DiscrepancyML = aspirated − expected: positive, more left than expected
	// (under-delivery: a stall, an occlusion); negative, less (over-delivery,
	// or drug that went into the pocket instead of the pump).
	DiscrepancyML      decimal.Decimal
	ThresholdML        decimal.Decimal
	Flagged            bool
	InfusedMCG         map[string]decimal.Decimal // (fill − aspirated) × concentration
	ExpectedInfusedMCG map[string]decimal.Decimal // Σ dose × days, as delivered
	// EmptyAt is when the reservoir should have run dry, if before To.
	EmptyAt *time.Time
}

// Reconcile computes the interval from prev to a refill at `at` where residual
// mL were aspirated. changes are the dose changes programmed after prev.At and
// up to at, in any order; threshold is the model's discrepancy threshold.
func Reconcile(prev Fill, changes []DoseChange, at time.Time, residual, threshold decimal.Decimal) (Interval, error) {
	if at.Before(prev.At) {
		return Interval{}, fmt.Errorf("refill at %s is before the previous fill at %s", at.Format(time.RFC3339), prev.At.Format(time.RFC3339))
	}
	doses := append([]DoseChange{prev.Dose}, sortedBetween(changes, prev.At, at)...)
	iv := Interval{From: prev.At, To: at, Days: Days(prev.At, at), FillML: prev.ML, ResidualML: residual, ThresholdML: threshold,
		InfusedMCG: map[string]decimal.Decimal{}, ExpectedInfusedMCG: map[string]decimal.Decimal{}}
	delivered := decimal.Zero // exact to workScale; rounded once at the end
	for i, d := range doses {
		end := at
		if i+1 < len(doses) {
			end = doses[i+1].At
		}
		conc, ok := prev.MCGPerML[d.Drug]
		if !ok || !conc.IsPositive() {
			return Interval{}, fmt.Errorf("the dose at %s is of %s, which the fill does not hold", d.At.Format(time.RFC3339), d.Drug)
		}
		// mL = mcg/day × seconds / (mcg/mL × 86400): one division.
		ml := d.MCGPerDay.Mul(seconds(d.At, end)).DivRound(conc.Mul(secondsPerDay), workScale)
		if iv.EmptyAt == nil && delivered.Add(ml).GreaterThan(prev.ML) && d.MCGPerDay.IsPositive() {
			// Seconds into this segment at which the reservoir runs dry.
			s := prev.ML.Sub(delivered).Mul(conc).Mul(secondsPerDay).Div(d.MCGPerDay).IntPart()
			t := d.At.Add(time.Duration(s) * time.Second)
			iv.EmptyAt = &t
		}
		delivered = delivered.Add(ml)
		iv.Segments = append(iv.Segments, Segment{From: d.At, To: end, Drug: d.Drug, MCGPerDay: d.MCGPerDay,
			MLPerDay: MLPerDay(d.MCGPerDay, conc), Days: Days(d.At, end), ML: ml.Round(Scale)})
	}
	delivered = decimal.Min(delivered, prev.ML)
	iv.ExpectedResidualML = prev.ML.Sub(delivered).Round(Scale)
	iv.DiscrepancyML = residual.Sub(iv.ExpectedResidualML)
	iv.Flagged = iv.DiscrepancyML.Abs().GreaterThan(threshold)
	for drug, conc := range prev.MCGPerML {
		iv.InfusedMCG[drug] = prev.ML.Sub(residual).Mul(conc)
		iv.ExpectedInfusedMCG[drug] = delivered.Mul(conc).Round(Scale)
	}
	return iv, nil
}

// sortedBetween returns the changes in (from, to], oldest first; a change at
// the same instant as another keeps its given order.
func sortedBetween(cs []DoseChange, from, to time.Time) []DoseChange {
	var out []DoseChange
	for _, c := range cs {
		if c.At.After(from) && !c.At.After(to) {
			out = append(out, c)
		}
	}
	for i := 1; i < len(out); i++ { // insertion sort: stable, and lists are short
		for j := i; j > 0 && out[j].At.Before(out[j-1].At); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// NextRefill is when the next refill is due and why (one plain phrase): the
// earlier of the time the reservoir reaches alarmML at the dose programmed in
// fill, and stabilityDays after the fill (0: no limit). ok is false when
// neither applies (no dose and no stability limit). The clinic's date and the
// rest of what a due date says are refill.Due's.
func NextRefill(fill Fill, alarmML decimal.Decimal, stabilityDays int) (at time.Time, reason string, ok bool) {
	if stabilityDays > 0 {
		at = fill.At.Add(time.Duration(stabilityDays) * 24 * time.Hour)
		reason = fmt.Sprintf("the drug's stability limit of %d days after this fill", stabilityDays)
		ok = true
	}
	conc := fill.MCGPerML[fill.Dose.Drug]
	if fill.Dose.MCGPerDay.IsPositive() && conc.IsPositive() {
		usable := decimal.Max(fill.ML.Sub(alarmML), decimal.Zero)
		// seconds = usable mL × mcg/mL × 86400 / (mcg/day), rounded down: due no later.
		s := usable.Mul(conc).Mul(secondsPerDay).Div(fill.Dose.MCGPerDay).Floor()
		if s.LessThan(decimal.NewFromInt(1 << 40)) {
			t := fill.At.Add(time.Duration(s.IntPart()) * time.Second)
			if !ok || t.Before(at) {
				at, reason = t, fmt.Sprintf("the reservoir reaches the %s mL refill threshold at %s mL/day",
					alarmML, MLPerDay(fill.Dose.MCGPerDay, conc))
				ok = true
			}
		}
	}
	return at, reason, ok
}
