package refill_test

import (
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/refill"
)

var clockNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// In an admixture the dose is given in one drug, but it sets the others too:
// 20 mg/day of morphine at 5 mg/mL is 4 mL/day, which at 2.5 mcg/mL is
// 10 mcg/day of ziconotide, four times the label's starting maximum.
func TestAdmixtureDoseCheckedAgainstEveryLabel(t *testing.T) {
	r := zic("2026-03-31T09:00:00Z", "20", "2.5", "0", vials("70720-720-10", 1), vials("99999-101-01", 1))
	r.Solution = append(r.Solution, pumpledger.SolutionDrug{Drug: "morphine", MCGPerML: dec("5000")})
	r.DiluentML = dec("15.5") // 0.5 mL of ziconotide + 4 mL of morphine
	r.Dose = pumpledger.Dose{Drug: "morphine", MCGPerDay: dec("20000")}
	rec, err := refill.Derive(testCatalog, r, historyOf(t, testCatalog, "synchromed-ii-20", ""), clockNow)
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(rec.Warnings, "The morphine dose gives ziconotide 10 mcg/day: Starting dose 10 mcg/day of ziconotide is above") {
		t.Errorf("no ziconotide starting-dose warning from the morphine dose: %q", rec.Warnings)
	}
	r.Dose.MCGPerDay = dec("4800") // 0.96 mL/day → 2.4 mcg/day: at the limit, no warning
	rec, err = refill.Derive(testCatalog, r, historyOf(t, testCatalog, "synchromed-ii-20", ""), clockNow)
	if err != nil {
		t.Fatal(err)
	}
	if hasWarning(rec.Warnings, "Starting dose") {
		t.Errorf("2.4 mcg/day of ziconotide warned as above 2.4: %q", rec.Warnings)
	}
}

// A rinse from a drug whose label asks for none is reported as JW, and said.
func TestRinseOfDrugWithoutLabelRinseWarned(t *testing.T) {
	r := zic("2026-03-31T09:00:00Z", "20", "5000", "1000", vials("99999-101-01", 1))
	r.Solution[0].Drug = "morphine"
	r.Dose.Drug = "morphine"
	r.RinseML = dec("3")
	r.DiluentML = dec("16")
	rec, err := refill.Derive(testCatalog, r, historyOf(t, testCatalog, "synchromed-ii-20", ""), clockNow)
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(rec.Warnings, "no drug of the solution has a label rinse") {
		t.Errorf("no warning for a morphine rinse: %q", rec.Warnings)
	}
	if rec.Drugs[0].RinseMCG.String() != "75000" || rec.Drugs[0].WasteUnits != 40 {
		t.Errorf("rinse %s mcg, JW %d units; want 75000 mcg (3 mL × 25 mg/mL) and 40 units ((500000−100000−75000 waste + 75000 rinse) ÷ 10000)",
			rec.Drugs[0].RinseMCG, rec.Drugs[0].WasteUnits)
	}
}

// A change given in morphine is also a ziconotide step: 1.2 → 2.4 (via
// 4800 mcg/day of morphine) → 4.8 is two steps of 2.4, within the label.
func TestAdmixtureStepsCountedAcrossDrugs(t *testing.T) {
	fill := zic("2026-02-01T09:00:00Z", "20", "2.5", "1.2", vials("70720-720-10", 1), vials("99999-101-01", 1))
	fill.Solution = append(fill.Solution, pumpledger.SolutionDrug{Drug: "morphine", MCGPerML: dec("5000")})
	fill.DiluentML = dec("15.5")
	viaMorphine := reprogram("2026-02-05T09:00:00Z", "4800")
	viaMorphine.Dose.Drug = "morphine"
	h := historyOf(t, testCatalog, "synchromed-ii-20", "", entry{Refill: &fill}, entry{Reprogram: viaMorphine})
	w, err := refill.CheckReprogram(testCatalog, *reprogram("2026-02-07T09:00:00Z", "4.8"), h, clockNow)
	if err != nil {
		t.Fatal(err)
	}
	if hasWarning(w, "Increase of") {
		t.Errorf("a 2.4 mcg/day step warned as larger: %q", w)
	}
	// 2.4 → 7.2 directly is a 4.8 step.
	if w, _ := refill.CheckReprogram(testCatalog, *reprogram("2026-02-07T09:00:00Z", "7.2"), h, clockNow); !hasWarning(w, "Increase of 4.8") {
		t.Errorf("a 4.8 mcg/day step from 2.4 not warned: %q", w)
	}
}

// A pump that held ziconotide before its first recorded fill is not starting.
func TestHeldDrugIsNotAStart(t *testing.T) {
	r := zic("2026-03-31T09:00:00Z", "20", "25", "6", vials("70720-723-10", 1))
	h := historyOf(t, defaultCatalog, "synchromed-ii-20", "")
	rec, err := refill.Derive(defaultCatalog, r, h, clockNow)
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(rec.Warnings, "Starting dose 6") {
		t.Fatalf("naive start at 6 mcg/day not warned: %q", rec.Warnings)
	}
	h.Held["ziconotide"] = true
	if rec, _ = refill.Derive(defaultCatalog, r, h, clockNow); hasWarning(rec.Warnings, "Starting dose") {
		t.Errorf("held before: still a starting-dose warning: %q", rec.Warnings)
	}
}
