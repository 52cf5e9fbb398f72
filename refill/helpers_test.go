package refill_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/pump"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func at(s string) pumpledger.Instant {
	i, err := pumpledger.ParseInstant(s)
	if err != nil {
		panic(err)
	}
	return i
}

var testCatalog = func() *catalog.Catalog {
	f, err := os.Open("../testdata/catalog-test.json")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	c, err := catalog.Load(f, "catalog-test.json")
	if err != nil {
		panic(err)
	}
	return c
}()

// entry is one earlier entry of the pump: a refill or a dose change.
type entry struct {
	Refill    *pumpledger.Refill
	Reprogram *pumpledger.Reprogram
}

func (e entry) at() time.Time {
	if e.Refill != nil {
		return e.Refill.PerformedAt.UTC
	}
	return e.Reprogram.PerformedAt.UTC
}

// historyOf builds what the ledger hands Derive: the last fill, the dose
// changes since, every dose ever programmed, and the drugs the pump has held.
// alarm "" means the model's threshold.
func historyOf(t testing.TB, cat *catalog.Catalog, model, alarm string, entries ...entry) refill.History {
	t.Helper()
	m, ok := cat.Pump(model)
	if !ok {
		t.Fatalf("no pump model %q", model)
	}
	h := refill.History{Model: m, AlarmML: m.AlarmML, Held: map[string]bool{}}
	if alarm != "" {
		h.AlarmML = dec(alarm)
	}
	for i, e := range entries {
		if i > 0 && e.at().Before(entries[i-1].at()) {
			t.Fatalf("history entry %d is before the one above it", i)
		}
		switch {
		case e.Refill != nil:
			f := refill.FillOf(cat, *e.Refill)
			// As the ledger loads a pump: each fill's limit from what the
			// pump held before it. A history begins on a pump already on
			// therapy unless its first fill rinsed it (a naive pump).
			if i == 0 && !e.Refill.RinseML.IsPositive() {
				for drug := range f.MCGPerML {
					h.Held[drug] = true
				}
			}
			days, drug := refill.HeldStability(cat, *e.Refill, f)
			f.StabilityDays, f.StabilityDrug = refill.FillStability(cat, *e.Refill, f, h.Held, days, drug)
			h.Last = &f
			h.Changes = nil
			h.Doses = append(h.Doses, f.Dose)
		case e.Reprogram != nil:
			d, ok := cat.Drug(e.Reprogram.Dose.Drug)
			if !ok {
				t.Fatalf("history: unknown drug %q", e.Reprogram.Dose.Drug)
			}
			c := pump.DoseChange{At: e.Reprogram.PerformedAt.UTC, Drug: d.Name, MCGPerDay: e.Reprogram.Dose.MCGPerDay}
			h.Changes = append(h.Changes, c)
			h.Doses = append(h.Doses, c)
		}
	}
	return h
}

// zic returns a ziconotide refill: fill mL at conc mcg/mL, dose mcg/day, from vials.
func zic(when, fill, conc, dose string, vials ...pumpledger.VialUse) pumpledger.Refill {
	return pumpledger.Refill{
		ID: "00000000-0000-4000-8000-000000000001", MRN: "MRN-1001", PumpSerial: "NGV123456", PerformedAt: at(when),
		Nurse: "jdoe", Witness: "asmith", ResidualML: dec("0"), RinseML: dec("0"), FillML: dec(fill),
		Solution: []pumpledger.SolutionDrug{{Drug: "ziconotide", MCGPerML: dec(conc)}}, Vials: vials,
		DiluentML: decimal.Zero, Dose: pumpledger.Dose{Drug: "ziconotide", MCGPerDay: dec(dose)}, Procedure: "95990",
	}
}

func vials(ndc string, n int) pumpledger.VialUse {
	return pumpledger.VialUse{NDC: ndc, Count: n, Lot: "LOT1", Expires: "2030-01-31"}
}

func reprogram(when, dose string) *pumpledger.Reprogram {
	return &pumpledger.Reprogram{ID: "00000000-0000-4000-8000-0000000000ff", MRN: "MRN-1001", PumpSerial: "NGV123456", PerformedAt: at(when),
		Clinician: "drsmith", Dose: pumpledger.Dose{Drug: "ziconotide", MCGPerDay: dec(dose)}, Procedure: "62368"}
}

func hasWarning(ws []string, sub string) bool {
	for _, w := range ws {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}
