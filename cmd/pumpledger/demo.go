package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/billing"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/refill"
	"github.com/pumpledger/pumpledger/web"
)

// chartingDelay is when the demo's entries are recorded after the visit, so
// that its ledger reads like a clinic's (not every entry marked late).
const chartingDelay = 20 * time.Minute

// maxListed bounds the per-refill lines the demo prints (flagged, corrected).
const maxListed = 10

func (a *app) demo(args []string) error {
	fs := a.flags("demo")
	patients := fs.Int("patients", demo.DefaultPatients, "patients, one pump each")
	months := fs.Int("months", demo.DefaultMonths, "months of history")
	seedS := fs.String("seed", "1", "seed; the same seed gives the same history")
	users := fs.Bool("users", false, "also add a web app account for each role (nurse, witness, clinician, biller, auditor, admin), one password for all, printed once")
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
	// The accounts are added only beside a new ledger: checked before it
	// is filled, so a refusal leaves the ledger as it was.
	if _, err := os.Lstat(web.UsersPath(a.dbPath)); *users && err == nil {
		return pumpledger.Invalid("users", "The users file %s exists; the demo adds its accounts only beside a new ledger, so remove it or give --db a new path.", web.UsersPath(a.dbPath))
	}
	cat, err := a.catalogFile()
	if err != nil {
		return err
	}
	if cat == nil {
		cat = catalog.Default()
	}
	if err := demo.Check(cat); err != nil {
		return pumpledger.Invalid("catalog", "The catalog lacks what the demo uses (%v); run the demo with the embedded catalog.", err)
	}
	// The admixtures need morphine containers, which the embedded catalog
	// leaves to the site: the demo adds two synthetic ones, and its ledger
	// pins that catalog like any other.
	synthetic := demo.LacksMorphine(cat)
	if synthetic {
		catFile, err := demo.WithMorphine(cat.JSON())
		if err == nil {
			cat, err = catalog.Load(bytes.NewReader(catFile), "demo-catalog.json")
		}
		if err != nil {
			return pumpledger.Errorf(pumpledger.EINTERNAL, "demo catalog: %v", err)
		}
	}
	events := demo.Generate(cat, demo.Options{Patients: *patients, Months: *months, Seed: seed, Until: time.Now().Add(-chartingDelay), Records: true})
	// The ledger clock follows the history: each entry is recorded shortly
	// after its visit, as a clinic would chart it.
	var clock time.Time
	if len(events) > 0 {
		clock = demo.EventTime(events, 0)
	}
	if err := a.notServed("fill it with the demo"); err != nil {
		return err
	}
	db, err := clinic.Open(a.dbPath, ledger.Options{Now: func() time.Time { return clock }})
	if err != nil {
		return err
	}
	defer db.Close()
	// The demo backdates its ledger clock to its synthetic visits: it must
	// never write into a ledger that holds anything else, such as a clinic's.
	pinned, err := db.Catalogs(context.Background())
	if err != nil {
		return err
	}
	if n, err := db.Size(); err != nil {
		return err
	} else if n > int64(len(pinned)) {
		return pumpledger.Invalid("db", "The ledger %s already holds %d entries; the demo fills only a new ledger, so give --db a new path.", a.dbPath, n)
	}
	if p := pinned[len(pinned)-1]; !bytes.Equal(p.Content, cat.JSON()) {
		from := clock.Format(time.DateOnly)
		if _, err := db.AdoptCatalog(demoActor("demo-clerk"), cat.JSON(), "demo-catalog.json", "the demo's catalog: the embedded one plus synthetic morphine containers", from); err != nil {
			return err
		}
	}
	// The practice, so that the month's claims can be written as an 837P.
	if len(events) > 0 {
		if _, err := db.RecordSite(demoActor("demo-clerk"), demo.Site(clock.Format(time.DateOnly))); err != nil {
			return err
		}
	}
	counts := map[pumpledger.Kind]int{}
	tally := demoTally{refills: map[string]refillTally{}}
	var flagged []string // live refills flagged, by id
	flags := map[string]string{}
	var corrected []string
	// One transaction and one checkpoint per group of appends, not per
	// append: a demo of thousands of patients would otherwise spend minutes
	// in fsync. Every entry is still checked and derived as alone.
	err = db.Import(ledger.DefaultImportGroup, func() error {
		for i, ev := range events {
			clock = demo.EventTime(events, i).Add(chartingDelay)
			var res clinic.Result
			switch ev.Kind {
			case pumpledger.KindPatient:
				res, err = db.AddPatient(demoActor("demo-clerk"), *ev.Patient)
			case pumpledger.KindImplant:
				res, err = db.Implant(demoActor("demo-md1"), *ev.Implant)
			case pumpledger.KindRefill:
				res, err = db.RecordRefill(demoActor(ev.Refill.Nurse), *ev.Refill)
				if err == nil && res.Record != nil {
					tally.add(*ev.Refill, *res.Record)
					if iv := res.Record.Interval; iv != nil && iv.DiscrepancyFlagged {
						flagged = append(flagged, ev.Refill.ID)
						flags[ev.Refill.ID] = fmt.Sprintf("%s pump %s on %s: discrepancy %s mL", ev.Refill.MRN, ev.Refill.PumpSerial, ev.Refill.PerformedAt.Date(), iv.DiscrepancyML)
					}
				}
			case pumpledger.KindReprogram:
				res, err = db.RecordReprogram(demoActor(ev.Reprogram.Clinician), *ev.Reprogram)
			default:
				if ev.Record != nil {
					res, err = db.RecordClinical(demoActor("demo-clerk"), ev.Record)
				}
			case pumpledger.KindCorrection:
				c := ev.Correction
				res, err = db.Correct(demoActor(c.By), c.Voids, c.Reason, clinic.Replacement{Refill: c.Refill})
				if err == nil && res.Record != nil {
					tally.void(c.Voids)
					tally.add(*c.Refill, *res.Record)
					delete(flags, c.Voids)
					corrected = append(corrected, fmt.Sprintf("%s refill of %s: %s", c.Refill.MRN, c.Refill.PerformedAt.Date(), c.Reason))
				}
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
	password := ""
	if *users {
		if password, err = demoAccounts(web.UsersPath(a.dbPath)); err != nil {
			return err
		}
	}
	cp, err := db.Checkpoint()
	if err != nil {
		return err
	}
	first, last := span(events)
	w := a.stdout
	fmt.Fprintf(w, "Demo ledger %s (seed %d): %s\n", a.dbPath, seed, demo.Summary(events))
	fmt.Fprintf(w, "Recorded now: %d patients, %d pumps, %d refills, %d dose changes, %d %s; the ledger holds %d entries, tree root %x….\n",
		counts[pumpledger.KindPatient], counts[pumpledger.KindImplant], counts[pumpledger.KindRefill], counts[pumpledger.KindReprogram],
		counts[pumpledger.KindCorrection], plural(counts[pumpledger.KindCorrection], "correction", "corrections"), n, cp.Tree.Hash[:8])
	jw, jwRinse, jz := tally.lines()
	fmt.Fprintf(w, "The bill: %d JW lines for drug discarded from single-dose vials (%d of them at a naive pump's first fill, with its rinse; %d at other refills), %d lines with JZ.\n",
		jw, jwRinse, jw-jwRinse, jz)
	if synthetic {
		fmt.Fprintf(w, "The embedded catalog lists no morphine containers (they are left to the site), so the admixtures use two SYNTHETIC ones (labeler 99999, not real NDCs), in a catalog the ledger pins (`pumpledger --db %s catalog list`).\n", a.dbPath)
	}
	var live []string
	for _, id := range flagged {
		if f, ok := flags[id]; ok {
			live = append(live, f)
		}
	}
	if recs := counts[pumpledger.KindDiagnosis] + counts[pumpledger.KindCoverage] + counts[pumpledger.KindAuthorization] + counts[pumpledger.KindTherapy] +
		counts[pumpledger.KindTrial] + counts[pumpledger.KindConsent] + counts[pumpledger.KindAssessment] + counts[pumpledger.KindReview]; recs > 0 {
		fmt.Fprintf(w, "The clinical record: %d diagnoses, %d coverages, %d prior authorizations, %d prior therapies, %d trials, %d consents (signed forms attached as PDF), %d assessments, %d discrepancy %s. MRN-1001's record is complete; the others have the gaps a biller meets (an expired or overdrawn authorization, no consent, no diagnosis, a trial without its result, a month without coverage, an unwitnessed waste, a miscoded visit): see `chart` and `check`.\n",
			counts[pumpledger.KindDiagnosis], counts[pumpledger.KindCoverage], counts[pumpledger.KindAuthorization], counts[pumpledger.KindTherapy],
			counts[pumpledger.KindTrial], counts[pumpledger.KindConsent], counts[pumpledger.KindAssessment], counts[pumpledger.KindReview],
			plural(counts[pumpledger.KindReview], "review", "reviews"))
	}
	printCapped(w, "Flagged for the nurse: %s.\n", live)
	printCapped(w, "Corrected: %s.\n", corrected)
	from, to := tally.month(first, last)
	cmd := "pumpledger --db " + a.dbPath
	mrn := "MRN-1001"
	if len(corrected) > 0 {
		mrn = correctedMRN(events)
	}
	fmt.Fprintf(w, `
Try next:
  %[1]s bill --from %[2]s --to %[3]s
  %[1]s bill --from %[2]s --to %[3]s --format x12
  %[1]s bill --from %[2]s --to %[3]s --format 837p
  %[1]s history --mrn %[4]s
  %[1]s chart --mrn MRN-1001
  %[1]s chart --mrn MRN-1002
  %[1]s check --from %[2]s --to %[3]s
  %[1]s verify
  %[1]s checkpoint > checkpoint.txt
  pumpledger plan --drug ziconotide --mcg-per-ml 7.5 --fill-ml 20
`, cmd, from, to, mrn)
	if *users {
		fmt.Fprintf(w, `
The web app (%[1]s serve, then the address it prints) has a demo account for each role:
  %[2]s
all with the password %[3]s (shown only now; `+"`pumpledger user add`"+` makes real accounts).
`, cmd, strings.Join(demoUserList(), ", "), password)
	}
	return nil
}

// demoUsers are the demo's accounts: one of each role of the web app, and
// a second nurse to witness the first's waste.
var demoUsers = []struct {
	name string
	role pumpledger.Role
}{
	{"nurse", pumpledger.RoleNurse}, {"witness", pumpledger.RoleNurse}, {"clinician", pumpledger.RoleClinician},
	{"biller", pumpledger.RoleBiller}, {"auditor", pumpledger.RoleAuditor}, {"admin", pumpledger.RoleAdmin},
}

func demoUserList() []string {
	var out []string
	for _, u := range demoUsers {
		if string(u.role) == u.name {
			out = append(out, u.name)
		} else {
			out = append(out, fmt.Sprintf("%s (%s)", u.name, u.role))
		}
	}
	return out
}

// demoAccounts adds the demo's accounts to the users file at path, with
// one random password, which it returns: never a password known
// beforehand, even on a demo.
func demoAccounts(path string) (string, error) {
	password := rand.Text()
	for _, u := range demoUsers {
		if err := web.AddUser(path, u.name, u.role, []byte(password)); err != nil {
			return "", err
		}
	}
	return password, nil
}

// printCapped prints each of xs with format, at most maxListed of them.
func printCapped(w io.Writer, format string, xs []string) {
	for i, x := range xs {
		if i == maxListed {
			fmt.Fprintf(w, "… and %d more like these (see `history`).\n", len(xs)-maxListed)
			return
		}
		fmt.Fprintf(w, format, x)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// correctedMRN is the patient of the first correction.
func correctedMRN(events []demo.Event) string {
	for _, ev := range events {
		if ev.Correction != nil && ev.Correction.Refill != nil {
			return ev.Correction.Refill.MRN
		}
	}
	return "MRN-1001"
}

// demoTally is what the demo's live refills bill, to count the JW lines and
// to choose a month to show.
type demoTally struct {
	refills map[string]refillTally // by refill id; corrected refills replaced
}

type refillTally struct {
	month   string // YYYY-MM of the date of service
	jw, jz  int    // lines
	rinse   bool   // a naive pump's first fill
	admix   bool   // more than one drug
	wasteJW int    // JW lines of a refill without rinse
}

func (t *demoTally) add(r pumpledger.Refill, rec refill.Record) {
	x := refillTally{month: r.PerformedAt.Date()[:7], rinse: r.RinseML.IsPositive(), admix: len(r.Solution) > 1}
	for _, l := range rec.Lines {
		switch {
		case slices.Contains(l.Modifiers, billing.JW):
			x.jw++
			if !x.rinse {
				x.wasteJW++
			}
		case slices.Contains(l.Modifiers, billing.JZ):
			x.jz++
		}
	}
	t.refills[r.ID] = x
}

func (t *demoTally) void(id string) { delete(t.refills, id) }

func (t *demoTally) lines() (jw, jwRinse, jz int) {
	for _, x := range t.refills {
		jw += x.jw
		jz += x.jz
		if x.rinse {
			jwRinse += x.jw
		}
	}
	return jw, jwRinse, jz
}

// month is the calendar month, wholly inside the history from first to
// last, to show a bill of: among those with an admixture refill and JW lines
// at a refill other than a first fill, the one with the most refills (the
// latest of equals); else the one with the most refills; else the whole
// history.
func (t *demoTally) month(first, last string) (from, to string) {
	type stat struct{ refills, admix, wasteJW int }
	stats := map[string]*stat{}
	for _, x := range t.refills {
		s := stats[x.month]
		if s == nil {
			s = &stat{}
			stats[x.month] = s
		}
		s.refills++
		if x.admix {
			s.admix++
		}
		s.wasteJW += x.wasteJW
	}
	best, bestFull := "", false
	for m, s := range stats {
		start, err := time.Parse("2006-01", m)
		if err != nil {
			continue
		}
		end := start.AddDate(0, 1, -1)
		if start.Format(time.DateOnly) < first || end.Format(time.DateOnly) > last {
			continue
		}
		full := s.admix > 0 && s.wasteJW > 0
		better := best == "" || full && !bestFull
		if !better && full == bestFull {
			b := stats[best]
			better = s.refills > b.refills || s.refills == b.refills && m > best
		}
		if better {
			best, bestFull = m, full
		}
	}
	if best == "" {
		return first, last
	}
	start, _ := time.Parse("2006-01", best)
	return start.Format(time.DateOnly), start.AddDate(0, 1, -1).Format(time.DateOnly)
}

func span(events []demo.Event) (first, last string) {
	first, last = "2000-01-01", "2000-01-01"
	for i := range events {
		d := demo.EventTime(events, i).Format(time.DateOnly)
		if first == "2000-01-01" || d < first {
			first = d
		}
		if d > last {
			last = d
		}
	}
	return first, last
}

// demoActor is the context of the demo's synthetic staff member name, who
// records their own entries as a clinic's staff would.
func demoActor(name string) context.Context {
	return pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: name, Role: pumpledger.RoleClinic})
}
