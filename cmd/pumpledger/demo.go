package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
)

// chartingDelay is when the demo's entries are recorded after the visit, so
// that its ledger reads like a clinic's (not every entry marked late).
const chartingDelay = 20 * time.Minute

func (a *app) demo(args []string) error {
	fs := a.flags("demo")
	patients := fs.Int("patients", demo.DefaultPatients, "patients, one pump each")
	months := fs.Int("months", demo.DefaultMonths, "months of history")
	seedS := fs.String("seed", "1", "seed; the same seed gives the same history")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	seed, err := strconv.ParseUint(*seedS, 10, 64)
	if err != nil {
		return usageErr("demo: --seed must be a whole number, not %q", *seedS)
	}
	if *patients < 1 || *patients > demo.MaxPatients {
		return usageErr("demo: --patients must be between 1 and %d", demo.MaxPatients)
	}
	if *months < 1 || *months > demo.MaxMonths {
		return usageErr("demo: --months must be between 1 and %d", demo.MaxMonths)
	}
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	if err := demo.Check(cat); err != nil {
		return pumpledger.Invalid("catalog", "The catalog lacks what the demo uses (%v); run the demo with the embedded catalog.", err)
	}
	events := demo.Generate(cat, demo.Options{Patients: *patients, Months: *months, Seed: seed, Until: time.Now().Add(-chartingDelay)})
	// The ledger clock follows the history: each entry is recorded shortly
	// after its visit, as a clinic would chart it.
	var clock time.Time
	a.noteCreation(true)
	db, err := ledger.Open(a.dbPath, ledger.Options{Catalog: cat, Now: func() time.Time { return clock }})
	if err != nil {
		return err
	}
	defer db.Close()
	// The demo backdates its ledger clock to its synthetic visits: it must
	// never write into a ledger that holds anything else, such as a clinic's.
	if n, err := db.Size(); err != nil {
		return err
	} else if n > 0 {
		return pumpledger.Invalid("db", "The ledger %s already holds %d entries; the demo fills only a new ledger, so give --db a new path.", a.dbPath, n)
	}
	counts := map[string]int{}
	var flagged []string
	// One transaction and one checkpoint per group of appends, not per
	// append: a demo of thousands of patients would otherwise spend minutes
	// in fsync. Every entry is still checked and derived as alone.
	err = db.Import(ledger.DefaultImportGroup, func() error {
		for i, ev := range events {
			clock = eventTime(events, i).Add(chartingDelay)
			var res ledger.Result
			switch ev.Kind {
			case demo.KindPatient:
				res, err = db.AddPatient(*ev.Patient, "demo-clerk")
			case demo.KindImplant:
				res, err = db.Implant(*ev.Implant, "demo-md1")
			case demo.KindRefill:
				res, err = db.RecordRefill(*ev.Refill)
				if err == nil && res.Record.Interval != nil && res.Record.Interval.DiscrepancyFlagged {
					flagged = append(flagged, fmt.Sprintf("%s pump %s on %s: discrepancy %s mL", ev.Refill.MRN, ev.Refill.PumpSerial, ev.Refill.PerformedAt.Date(), res.Record.Interval.DiscrepancyML))
				}
			case demo.KindReprogram:
				res, err = db.RecordReprogram(*ev.Reprogram)
			}
			if err != nil {
				return fmt.Errorf("demo event %d (%s): %w", i, ev.Kind, err)
			}
			if !res.Existing {
				counts[ev.Kind]++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	n, err := db.Size()
	if err != nil {
		return err
	}
	cp, err := db.Checkpoint()
	if err != nil {
		return err
	}
	first, last := span(events)
	w := a.stdout
	fmt.Fprintf(w, "Demo ledger %s (seed %d): %s\n", a.dbPath, seed, demo.Summary(events))
	fmt.Fprintf(w, "Recorded now: %d patients, %d pumps, %d refills, %d dose changes; the ledger holds %d entries, tree root %x….\n",
		counts[demo.KindPatient], counts[demo.KindImplant], counts[demo.KindRefill], counts[demo.KindReprogram], n, cp.Tree.Hash[:8])
	for _, f := range flagged {
		fmt.Fprintf(w, "Flagged for the nurse: %s.\n", f)
	}
	fmt.Fprintf(w, `
Try next:
  pumpledger --db %[1]s history --mrn MRN-1001
  pumpledger --db %[1]s bill --from %[2]s --to %[3]s --format csv
  pumpledger --db %[1]s bill --from %[2]s --to %[3]s --format x12
  pumpledger --db %[1]s verify
  pumpledger --db %[1]s checkpoint > checkpoint.txt
  pumpledger plan --drug ziconotide --mcg-per-ml 5 --fill-ml 20
`, a.dbPath, first, last)
	return nil
}

// eventTime is when an event happened: a visit's time, an implant's date; a
// patient is registered at the time of the event that follows it.
func eventTime(events []demo.Event, i int) time.Time {
	for ; i < len(events); i++ {
		ev := events[i]
		switch {
		case ev.Refill != nil:
			return ev.Refill.PerformedAt.UTC
		case ev.Reprogram != nil:
			return ev.Reprogram.PerformedAt.UTC
		case ev.Implant != nil:
			t, _ := pumpledger.ParseDate(ev.Implant.Date)
			return t
		}
	}
	return time.Now()
}

func span(events []demo.Event) (first, last string) {
	first, last = "2000-01-01", "2000-01-01"
	for i := range events {
		d := eventTime(events, i).Format(time.DateOnly)
		if first == "2000-01-01" || d < first {
			first = d
		}
		if d > last {
			last = d
		}
	}
	return first, last
}
