package pump

import (
	"fmt"
	"time"

	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

// CheckDose returns the label warnings for programming next after history (the
// earlier doses of the same drug in this patient's pump, any order). An empty
// history means next is a starting dose, unless begun says the therapy began
// before the history does (a pump that held the drug elsewhere). Warnings
// never refuse: the label's limits are for the clinician to weigh, and the
// entry is recorded with them.
func CheckDose(drug vial.Drug, history []DoseChange, next DoseChange, begun bool) []string {
	l := drug.Label
	var warn []string
	past := sortedBetween(history, time.Time{}, next.At)
	var prev *DoseChange
	if len(past) > 0 {
		prev = &past[len(past)-1]
	}
	if prev == nil && !begun && l.StartMaxMCGPerDay.IsPositive() && next.MCGPerDay.GreaterThan(l.StartMaxMCGPerDay) {
		warn = append(warn, fmt.Sprintf("Starting dose %s mcg/day of %s is above the label's starting maximum of %s mcg/day.",
			next.MCGPerDay, drug.Name, l.StartMaxMCGPerDay))
	}
	if prev != nil && l.StepMaxMCGPerDay.IsPositive() && next.MCGPerDay.Sub(prev.MCGPerDay).GreaterThan(l.StepMaxMCGPerDay) {
		warn = append(warn, fmt.Sprintf("Increase of %s mcg/day of %s (from %s to %s) is above the label's largest step of %s mcg/day.",
			next.MCGPerDay.Sub(prev.MCGPerDay), drug.Name, prev.MCGPerDay, next.MCGPerDay, l.StepMaxMCGPerDay))
	}
	if prev != nil && next.MCGPerDay.GreaterThan(prev.MCGPerDay) {
		ups := increases(append(past, next))
		if l.MinHoursBetweenUps > 0 && len(ups) >= 2 {
			gap := ups[len(ups)-1].Sub(ups[len(ups)-2])
			if gap < time.Duration(l.MinHoursBetweenUps)*time.Hour {
				warn = append(warn, fmt.Sprintf("This is the second increase of %s within %d hours (the last was %s earlier); the label asks for at least %d hours between increases.",
					drug.Name, l.MinHoursBetweenUps, gap.Round(time.Minute), l.MinHoursBetweenUps))
			}
		}
		if l.MaxIncreasesPerWeek > 0 {
			n := 0
			for _, t := range ups {
				if next.At.Sub(t) < 7*24*time.Hour {
					n++
				}
			}
			if n > l.MaxIncreasesPerWeek {
				warn = append(warn, fmt.Sprintf("This is increase number %d of %s in 7 days; the label allows at most %d a week.",
					n, drug.Name, l.MaxIncreasesPerWeek))
			}
		}
	}
	if l.MaxMCGPerDay.IsPositive() && next.MCGPerDay.GreaterThan(l.MaxMCGPerDay) {
		warn = append(warn, fmt.Sprintf("Dose %s mcg/day of %s is above the label maximum of %s mcg/day.",
			next.MCGPerDay, drug.Name, l.MaxMCGPerDay))
	}
	return warn
}

// increases returns the times at which the dose went up, in order.
func increases(doses []DoseChange) []time.Time {
	var ups []time.Time
	last := decimal.Zero
	for i, d := range doses {
		if i > 0 && d.MCGPerDay.GreaterThan(last) {
			ups = append(ups, d.At)
		}
		last = d.MCGPerDay
	}
	return ups
}
