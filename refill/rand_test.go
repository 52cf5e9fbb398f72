package refill_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/pumpledger/pumpledger/vial"
	"github.com/shopspring/decimal"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// randomDecimal is a decimal in [lo, hi) with up to places decimal places.
func randomDecimal(r *rand.Rand, lo, hi decimal.Decimal, places int32) decimal.Decimal {
	span := hi.Sub(lo).Shift(places).IntPart()
	return lo.Add(decimal.New(r.Int64N(span), -places))
}

// randomRefill makes a refill of ziconotide, morphine or both from random
// single-dose containers with whole-unit contents, listed in a random order,
// enough of them for the (random) rinse and fill. ok is false when the drawn
// drug would not fit in the fill.
func randomRefill(r *rand.Rand, wholeUnit map[string][]string) (pumpledger.Refill, refill.History, bool) {
	model, _ := testCatalog.Pump([]string{"synchromed-ii-20", "synchromed-ii-40"}[r.IntN(2)])
	fill := randomDecimal(r, decimal.NewFromInt(1), model.ReservoirML, int32(r.IntN(3)))
	var drugs []string
	switch r.IntN(3) {
	case 0:
		drugs = []string{"ziconotide"}
	case 1:
		drugs = []string{"morphine"}
	default:
		drugs = []string{"ziconotide", "morphine"}
	}
	naive := r.IntN(3) == 0
	rinse := decimal.Zero
	if naive && drugs[0] == "ziconotide" {
		rinse = decimal.NewFromInt(int64(r.IntN(4) * 2)) // 0, 2, 4 or 6 mL
	}
	in := pumpledger.Refill{
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", r.IntN(1_000_000_000)), MRN: "MRN-RAND", PumpSerial: "RAND", Nurse: "n",
		PerformedAt: pumpledger.NewInstant(now.Add(-24 * time.Hour)), ResidualML: decimal.Zero, RinseML: rinse, FillML: fill, Procedure: "95990",
	}
	drugML := decimal.Zero
	for k, name := range drugs {
		var conc decimal.Decimal
		if name == "ziconotide" {
			conc = randomDecimal(r, decimal.RequireFromString("0.5"), decimal.NewFromInt(25), int32(r.IntN(4)))
		} else {
			conc = randomDecimal(r, decimal.NewFromInt(100), decimal.NewFromInt(25000), int32(r.IntN(3)))
		}
		in.Solution = append(in.Solution, pumpledger.SolutionDrug{Drug: name, MCGPerML: conc})
		drugRinse := decimal.Zero
		if k == 0 {
			drugRinse = rinse
		}
		// Add random containers until the draw succeeds.
		var cs []vial.Container
		for len(cs) < 60 {
			printed := wholeUnit[name][r.IntN(len(wholeUnit[name]))]
			p, _ := testCatalog.Product(mustNDC(printed))
			n := 1 + r.IntN(2)
			in.Vials = append(in.Vials, pumpledger.VialUse{NDC: printed, Count: n, Lot: "R"})
			for range n {
				cs = append(cs, vial.Container{Product: p})
			}
			d, err := vial.DrawOrdered(cs, drugRinse, conc.Mul(fill))
			if err == nil {
				drugML = drugML.Add(d.FillML)
				break
			}
		}
	}
	if drugML.GreaterThan(fill) {
		return in, refill.History{}, false
	}
	in.DiluentML = fill.Sub(drugML)
	in.Dose = pumpledger.Dose{Drug: drugs[0], MCGPerDay: randomDecimal(r, decimal.Zero, decimal.NewFromInt(20), 1)}
	h := refill.History{Model: model, AlarmML: model.AlarmML, Held: map[string]bool{}}
	if !naive {
		for _, d := range drugs {
			h.Held[d] = true
		}
		prev := refill.FillOf(testCatalog, in)
		prev.At = in.PerformedAt.UTC.Add(-30 * 24 * time.Hour)
		prev.Dose.At = prev.At
		h.Last = &prev
		h.Doses = []pump.DoseChange{prev.Dose}
		in.ResidualML = randomDecimal(r, decimal.Zero, fill, 1)
	}
	return in, h, true
}

func mustNDC(s string) vial.NDC {
	n, err := vial.ParseNDC(s)
	if err != nil {
		panic(err)
	}
	return n
}
