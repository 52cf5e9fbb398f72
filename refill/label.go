package refill

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/vial"
)

// The label's warnings begin with one of these, so that whoever reads them
// (the pre-billing check's off-label rule) knows them.
const (
	OffLabelPrefix = "Off-label: " // a drug the pump model is not labelled for
	LabelPrefix    = "Label: "     // a fill the drug's label does not use
)

// IsLabelWarning says whether a recorded warning is one of the label's.
func IsLabelWarning(w string) bool {
	return strings.HasPrefix(w, OffLabelPrefix) || strings.HasPrefix(w, LabelPrefix)
}

// fillWarnings are the label's device and dilution rules (SPEC §8), read
// from the catalog: a drug the pump model is not labelled for; a strength
// used only undiluted that is diluted; a naive pump's first fill that is not
// the label's; a strength used undiluted only once the dose is established,
// used undiluted before. Warnings, never refusals: the clinician decides.
func (d *deriver) fillWarnings() {
	d.diluentWarning()
	m := d.h.Model
	for k, drug := range d.drugs {
		if m.OffLabel(drug.Name) {
			device := m.Device
			if device == "" {
				device = m.ID
			}
			d.warn(OffLabelPrefix+"%s is labelled for %s, not %s (%s).", device, andList(m.LabelledDrugs), drug.Name, m.LabelledSource)
		}
		l, x, conc := drug.Label, d.rec.Drugs[k], d.conc[k]
		src := ""
		if l.FillSource != "" {
			src = " (" + l.FillSource + ")"
		}
		if x.Naive && l.NaiveFillMCGPerML.IsPositive() {
			if x.Diluted || !conc.Equal(l.NaiveFillMCGPerML) {
				d.warn(LabelPrefix+"this pump has not held %s before: the label's first fill is %s mcg/mL undiluted, and this one is %s%s.",
					drug.Name, l.NaiveFillMCGPerML, vial.DescribeFill(d.cont[k], conc), src)
			}
			continue // the first fill's rule says it all
		}
		for _, s := range vial.Strengths(d.cont[k]) {
			if vial.HasStrength(l.UndilutedOnly, s) && !s.Equal(conc) {
				d.warn(LabelPrefix+"the %s mcg/mL %s is diluted to %s mcg/mL in this fill; the label uses %s mcg/mL undiluted%s.", s, drug.Name, conc, s, src)
			}
		}
		if !x.Diluted && vial.HasStrength(l.UndilutedOnceEstablished, conc) && l.EstablishedDays > 0 {
			if why, ok := d.notEstablished(k); ok {
				diluent := "saline"
				if len(l.Diluents) > 0 {
					diluent = l.Diluents[0]
				}
				d.warn(LabelPrefix+"the %s mcg/mL %s is used undiluted before the dose is established (%s); the label dilutes it with %s until then%s.",
					conc, drug.Name, why, diluent, src)
			}
		}
	}
}

// notEstablished says why the dose of the k-th drug is not established: it
// changed, this refill included, within the label's EstablishedDays. A
// dose is established when it has not changed for that many days; a pump
// that held the drug elsewhere, with no dose recorded here, is taken as
// established (nothing says otherwise).
func (d *deriver) notEstablished(k int) (string, bool) {
	drug := d.drugs[k]
	days := drug.Label.EstablishedDays
	next := pump.DoseChange{At: d.in.PerformedAt.UTC, Drug: canonical(d.cat, d.in.Dose.Drug), MCGPerDay: d.in.Dose.MCGPerDay}
	fill := FillOf(d.cat, d.in)
	if next.Drug != drug.Name {
		var ok bool
		if next, ok = convert(next, fill.MCGPerML, drug.Name); !ok {
			return "", false
		}
	}
	hist := doseHistory(d.h, drug.Name)
	if len(hist) == 0 {
		return "", false
	}
	sort.SliceStable(hist, func(i, j int) bool { return hist[i].At.Before(hist[j].At) })
	changed, last := hist[0].At, hist[0].MCGPerDay
	for _, c := range hist[1:] {
		if !c.MCGPerDay.Equal(last) {
			changed, last = c.At, c.MCGPerDay
		}
	}
	if !next.MCGPerDay.Equal(last) {
		return fmt.Sprintf("this refill changes it from %s to %s mcg/day", last, next.MCGPerDay), true
	}
	if next.At.Sub(changed) < time.Duration(days)*24*time.Hour {
		on := changed.In(time.FixedZone("", d.in.PerformedAt.Offset)).Format(time.DateOnly)
		return fmt.Sprintf("it was set to %s mcg/day on %s, less than %d days before", last, on, days), true
	}
	return "", false
}

// diluentWarning: a diluted fill whose diluent is not one the label of a
// drug of the solution names. An entry naming none used the label's.
func (d *deriver) diluentWarning() {
	if !d.in.DiluentML.IsPositive() || d.in.Diluent == "" {
		return
	}
	given := strings.Join(strings.Fields(strings.ToLower(d.in.Diluent)), " ")
	for _, drug := range d.drugs {
		l := drug.Label
		if len(l.Diluents) == 0 {
			continue
		}
		ok := false
		for _, name := range l.Diluents {
			ok = ok || strings.Join(strings.Fields(strings.ToLower(name)), " ") == given
		}
		if !ok {
			src := ""
			if l.FillSource != "" {
				src = " (" + l.FillSource + ")"
			}
			d.warn(LabelPrefix+"the diluent is %q; the %s label dilutes with %s%s.", d.in.Diluent, drug.Name, l.Diluents[0], src)
		}
	}
}

// andList is "a, b and c".
func andList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
