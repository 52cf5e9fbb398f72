package vial

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
)

// VolumeScale is the decimal places kept when a volume comes from dividing an
// amount by a concentration (0.000001 mL); nothing is measured that finely.
const VolumeScale = 6

// Container is one opened container, in the order it was drawn.
type Container struct {
	Product Product
	Line    int    // index of the vials[] line it came from
	Lot     string // lot number as recorded
}

// Drawn is what happened to one container: drawn for the rinse (discarded),
// drawn into the reservoir, left behind.
type Drawn struct {
	Container
	RinseML  decimal.Decimal
	RinseMCG decimal.Decimal
	FillMCG  decimal.Decimal
	FillML   decimal.Decimal
	LeftMCG  decimal.Decimal
}

// Draw is the whole draw of one drug.
type Draw struct {
	Containers []Drawn
	OpenedMCG  decimal.Decimal // labeled content of every container opened
	RinseMCG   decimal.Decimal // drawn for the rinse and discarded
	FillMCG    decimal.Decimal // put in the reservoir: the administered amount
	FillML     decimal.Decimal // drug volume put in the reservoir
	// WasteMCG is what is left in single-dose containers, discarded;
	// KeptMCG what is left in multi-dose containers, kept for later use.
	WasteMCG decimal.Decimal
	KeptMCG  decimal.Decimal
}

// ErrShort means the containers hold less than the rinse and the fill need.
var ErrShort = errors.New("the containers hold less than is needed")

// ShortError says by how much the containers fall short.
type ShortError struct {
	NeedMCG, HaveMCG decimal.Decimal
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("%s: %s mcg needed, %s mcg opened", ErrShort, e.NeedMCG, e.HaveMCG)
}
func (e *ShortError) Unwrap() error { return ErrShort }

// DrawOrdered draws one drug from containers in the order given: first the
// rinse (rinseML, by volume), then fillMCG into the reservoir, each container
// emptied before the next is touched (SPEC §7). What remains is waste in a
// single-dose container and kept in a multi-dose one.
func DrawOrdered(containers []Container, rinseML, fillMCG decimal.Decimal) (Draw, error) {
	d := Draw{Containers: make([]Drawn, len(containers))}
	left := make([]decimal.Decimal, len(containers)) // mL left in each
	rinseMCGNeed := decimal.Zero
	for i, c := range containers {
		d.Containers[i].Container = c
		left[i] = c.Product.ML
		d.OpenedMCG = d.OpenedMCG.Add(c.Product.MCG())
	}
	// Rinse: by volume, in order.
	need := rinseML
	for i := range containers {
		if !need.IsPositive() {
			break
		}
		take := decimal.Min(need, left[i])
		d.Containers[i].RinseML = take
		d.Containers[i].RinseMCG = take.Mul(containers[i].Product.MCGPerML)
		left[i] = left[i].Sub(take)
		need = need.Sub(take)
		d.RinseMCG = d.RinseMCG.Add(d.Containers[i].RinseMCG)
	}
	if need.IsPositive() {
		// Price the missing rinse at the last container's strength to say how short.
		rinseMCGNeed = need.Mul(lastStrength(containers))
		return d, &ShortError{NeedMCG: d.RinseMCG.Add(rinseMCGNeed).Add(fillMCG), HaveMCG: d.OpenedMCG}
	}
	// Fill: by amount, in order.
	needMCG := fillMCG
	for i, c := range containers {
		have := left[i].Mul(c.Product.MCGPerML)
		take := decimal.Min(needMCG, have)
		if take.IsPositive() {
			d.Containers[i].FillMCG = take
			if take.Equal(have) {
				d.Containers[i].FillML = left[i]
			} else {
				d.Containers[i].FillML = take.DivRound(c.Product.MCGPerML, VolumeScale)
			}
			needMCG = needMCG.Sub(take)
		}
		d.Containers[i].LeftMCG = have.Sub(take)
		d.FillMCG = d.FillMCG.Add(take)
		d.FillML = d.FillML.Add(d.Containers[i].FillML)
		if c.Product.SingleDose {
			d.WasteMCG = d.WasteMCG.Add(d.Containers[i].LeftMCG)
		} else {
			d.KeptMCG = d.KeptMCG.Add(d.Containers[i].LeftMCG)
		}
	}
	if needMCG.IsPositive() {
		return d, &ShortError{NeedMCG: d.RinseMCG.Add(fillMCG), HaveMCG: d.OpenedMCG}
	}
	return d, nil
}

func lastStrength(cs []Container) decimal.Decimal {
	if len(cs) == 0 {
		return decimal.Zero
	}
	return cs[len(cs)-1].Product.MCGPerML
}

// SingleDoseRinseMCG is the part of the rinse drawn from single-dose
// containers: discarded drug that JW reports.
func (d Draw) SingleDoseRinseMCG() decimal.Decimal {
	sum := decimal.Zero
	for _, c := range d.Containers {
		if c.Product.SingleDose {
			sum = sum.Add(c.RinseMCG)
		}
	}
	return sum
}

// AnySingleDose reports whether any container was single-dose (JW/JZ apply).
func (d Draw) AnySingleDose() bool {
	for _, c := range d.Containers {
		if c.Product.SingleDose {
			return true
		}
	}
	return false
}
