package ledger_test

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/internal/sqlitepeer"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"
)

// The scale suite: ledgers of 100,000 and 1,000,000 entries (a large health
// system's years), and on each the operations people wait for, every one
// beside a baseline measured in the same run:
//
//	append, durable              in rounds with: a raw bbolt Put of the same
//	                             bytes, fsynced (x-bbolt); raw Puts of the keys
//	                             an append writes (x-layout: the floor of the
//	                             ledger's layout); the SQLite peer (x-sqlite,
//	                             -tags sqlitepeer)
//	append, 16 writers (Batch)   the same, by 16 writers (no layout)
//	append, late (one writer)    a refill dated before its pump's dose change:
//	                             the pump's chain re-derived; the same rounds
//	verify                       vs reading the file and SHA-256 hashing it
//	one patient's history        (goal: under 50 ms)
//	a month's bill               (goal: under 50 ms)
//	a month's pre-billing check  vs the bill of the same month, alternated in
//	                             rounds (goal: at most 2x the bill)
//	chart, ten years of records  vs a raw read of the same entries: their
//	                             index keys and stored bytes, decoded not at
//	                             all (x-baseline) or only their JSON
//	                             envelopes (x-envelopes); goal: under 50 ms
//
// Each reports its baseline and the ratio as metrics on its own line, and
// the peak heap during the operation (memory must stay flat as the ledger
// grows). Ledgers are built once (minutes for 1M) and kept in -scale.dir;
// `make bench-clean` removes them.
//
//	go test ./ledger -run '^$' -bench Scale -benchtime 20x
var (
	scaleSizes = flag.String("scale.sizes", cmp.Or(os.Getenv("PUMPLEDGER_SCALE_SIZES"), "100000,1000000"), "ledger sizes of the scale benchmarks, comma-separated (default $PUMPLEDGER_SCALE_SIZES)")
	scaleDir   = flag.String("scale.dir", cmp.Or(os.Getenv("PUMPLEDGER_SCALE_DIR"), filepath.Join(os.TempDir(), "pumpledger-scale")), "where the scale benchmarks keep their built ledgers (default $PUMPLEDGER_SCALE_DIR)")
)

// scaleFixtureVersion names the generator's output: bump it when the demo
// generator or the ledger format changes, so stale ledgers are rebuilt.
// 3: the chart patient (scale_chart_bench_test.go) recorded among the others.
const scaleFixtureVersion = 3

// scaleCatalog is the demo's: the embedded catalog with its synthetic
// morphine, which the admixture patients' refills need.
var scaleCatalog = sync.OnceValue(func() *catalog.Catalog {
	b, err := demo.WithMorphine(catalog.DefaultJSON())
	if err != nil {
		panic(err)
	}
	cat, err := catalog.Load(bytes.NewReader(b), "demo catalog")
	if err != nil {
		panic(err)
	}
	return cat
})

// openScale opens a scale ledger (it pins the demo's catalog).
func openScale(b *testing.B, path string, opt ledger.Options) *clinic.Service {
	b.Helper()
	db, err := clinic.Open(path, opt)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// The synthetic health system: patients, one pump each, over ten years
// from scaleStart; a ledger of n entries holds the first patients' whole
// histories (about 170 entries each: registration, implant, refills every
// 3 to 6 weeks, dose changes), recorded patient by patient, as a clinic
// importing its records would.
var scaleStart = time.Date(2016, 1, 4, 9, 0, 0, 0, time.FixedZone("", -5*3600))

const (
	scaleMonths        = 120
	scalePatientsChunk = 100 // generated at a time, to keep memory flat
)

type scaleLedger struct {
	path    string
	entries int64
	mrns    []string // a few patients, for history
	serials []string // their pumps, for appends
	pumpMRN []string // each pump's patient
	month   [2]string
}

var (
	scaleMu    sync.Mutex
	scaleBuilt = map[int]*scaleLedger{}
)

func scaleSizesList(b *testing.B) []int {
	var out []int
	for _, s := range strings.Split(*scaleSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1000 {
			b.Fatalf("-scale.sizes: %q is not a size of at least 1000", s)
		}
		out = append(out, n)
	}
	return out
}

// scaleFixture returns the ledger of n entries, building it if it is not
// kept yet.
func scaleFixture(b *testing.B, n int) *scaleLedger {
	b.Helper()
	scaleMu.Lock()
	defer scaleMu.Unlock()
	if l := scaleBuilt[n]; l != nil {
		return l
	}
	if err := os.MkdirAll(*scaleDir, 0o700); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(*scaleDir, fmt.Sprintf("ledger-%d-f%d-s%d.db", n, scaleFixtureVersion, ledger.SchemaVersion))
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		if err := buildScaleLedger(path+".tmp", n); err != nil {
			b.Fatalf("build %d-entry ledger: %v", n, err)
		}
		for _, suf := range []string{"", ".key", ".pub"} {
			if err := os.Rename(path+".tmp"+suf, path+suf); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("built a %d-entry ledger in %s: %s", n, time.Since(start).Round(time.Second), path)
	}
	db := openScale(b, path, ledger.Options{ReadOnly: true})
	defer db.Close()
	l := &scaleLedger{path: path}
	var err error
	if l.entries, err = db.Size(); err != nil {
		b.Fatal(err)
	}
	// Patients whose whole history is in every size: the first chunk's,
	// one pump for each of 16 writers.
	for i := range 16 {
		mrn := scaleMRN(0, 1001+i)
		l.mrns = append(l.mrns, mrn)
		items, err := db.History(bg, mrn)
		if err != nil {
			b.Fatalf("history of %s: %v", mrn, err)
		}
		for _, it := range items {
			if it.Entry.Kind == ledger.KindImplant {
				im, _ := it.Entry.Implant()
				l.serials = append(l.serials, im.Serial)
				l.pumpMRN = append(l.pumpMRN, mrn)
			}
		}
	}
	// A month of the fifth year: every patient of the ledger is on therapy.
	l.month = [2]string{"2021-03-01", "2021-03-31"}
	scaleBuilt[n] = l
	return l
}

func scaleMRN(chunk, mrn int) string { return fmt.Sprintf("HS%03d-%d", chunk, mrn) }

// buildScaleLedger records demo histories, chunk by chunk of patients, each
// patient's events together, until the ledger holds n entries. Every entry is
// checked and derived as a clinic's would be; only the commits are grouped
// (Import) and not fsynced (the build is not what is measured).
func buildScaleLedger(path string, n int) error {
	os.Remove(path)
	os.Remove(path + ".key")
	os.Remove(path + ".pub")
	cat := scaleCatalog()
	var clock time.Time
	db, err := clinic.Create(as("clerk"), path, ledger.Options{NoSync: true, Now: func() time.Time { return clock }}, cat)
	if err != nil {
		return err
	}
	defer db.Close()
	chart, err := chartSteps(cat)
	if err != nil {
		return err
	}
	var count int64
	// The chart patient's k-th entry is recorded once the ledger holds k
	// shares of nine tenths of n: spread over the file, all of it in.
	next := 0
	nextChart := func() error {
		for next < len(chart) && count >= int64(n)*9/10*int64(next)/int64(len(chart)) {
			step := chart[next]
			next++
			res, err := step.rec(db, &clock)
			if err != nil {
				return fmt.Errorf("the chart patient, at %s: %w", step.at.Format(time.RFC3339), err)
			}
			if !res.Existing {
				count++
			}
		}
		return nil
	}
	err = db.Import(5000, func() error {
		for chunk := 0; count < int64(n); chunk++ {
			events := demo.Generate(cat, demo.Options{Patients: scalePatientsChunk, Months: scaleMonths, Seed: uint64(chunk + 1), Start: scaleStart})
			if len(events) == 0 {
				return fmt.Errorf("the demo generator gave no events")
			}
			renameChunk(events, chunk)
			sort.SliceStable(events, func(i, j int) bool { return eventMRN(events[i]) < eventMRN(events[j]) })
			for _, ev := range events {
				if count >= int64(n) {
					return nil
				}
				if err := nextChart(); err != nil {
					return err
				}
				res, err := recordDemo(db, &clock, ev)
				if err != nil {
					return fmt.Errorf("chunk %d, %s: %w", chunk, ev.Kind, err)
				}
				if !res.Existing {
					count++
				}
			}
		}
		return nil
	})
	return err
}

// recordDemo records one demo event as a clinic would, the build's clock
// set to when it was recorded.
func recordDemo(db *clinic.Service, clock *time.Time, ev demo.Event) (clinic.Result, error) {
	switch ev.Kind {
	case pumpledger.KindPatient:
		*clock = time.Now()
		return db.AddPatient(as("scale-clerk"), *ev.Patient)
	case pumpledger.KindImplant:
		*clock = time.Now()
		return db.Implant(as("scale-md"), *ev.Implant)
	case pumpledger.KindRefill:
		*clock = ev.Refill.PerformedAt.UTC.Add(20 * time.Minute)
		return db.RecordRefill(as("tester"), *ev.Refill)
	case pumpledger.KindReprogram:
		*clock = ev.Reprogram.PerformedAt.UTC.Add(20 * time.Minute)
		return db.RecordReprogram(as("tester"), *ev.Reprogram)
	case pumpledger.KindCorrection:
		c := ev.Correction
		*clock = c.Refill.PerformedAt.UTC.Add(time.Hour)
		return db.Correct(as(c.By), c.Voids, c.Reason, clinic.Replacement{Refill: c.Refill})
	}
	return clinic.Result{Existing: true}, nil // not an entry the demo records: counted as none
}

// renameChunk gives a chunk's patients and pumps names of their own: every
// chunk is generated from MRN-1001 on.
func renameChunk(events []demo.Event, chunk int) {
	re := func(s string) string {
		if i := strings.LastIndexByte(s, '-'); i >= 0 {
			if n, err := strconv.Atoi(s[i+1:]); err == nil && strings.HasPrefix(s, "MRN-") {
				return scaleMRN(chunk, n)
			}
		}
		return fmt.Sprintf("HS%03d%s", chunk, s)
	}
	for _, ev := range events {
		switch {
		case ev.Patient != nil:
			ev.Patient.MRN = re(ev.Patient.MRN)
		case ev.Implant != nil:
			ev.Implant.MRN, ev.Implant.Serial = re(ev.Implant.MRN), re(ev.Implant.Serial)
		case ev.Refill != nil:
			ev.Refill.MRN, ev.Refill.PumpSerial = re(ev.Refill.MRN), re(ev.Refill.PumpSerial)
		case ev.Reprogram != nil:
			ev.Reprogram.MRN, ev.Reprogram.PumpSerial = re(ev.Reprogram.MRN), re(ev.Reprogram.PumpSerial)
		case ev.Correction != nil:
			ev.Correction.Refill.MRN, ev.Correction.Refill.PumpSerial = re(ev.Correction.Refill.MRN), re(ev.Correction.Refill.PumpSerial)
		}
	}
}

func eventMRN(ev demo.Event) string {
	switch {
	case ev.Patient != nil:
		return ev.Patient.MRN
	case ev.Implant != nil:
		return ev.Implant.MRN
	case ev.Refill != nil:
		return ev.Refill.MRN
	case ev.Reprogram != nil:
		return ev.Reprogram.MRN
	case ev.Correction != nil:
		return ev.Correction.Refill.MRN
	}
	return ""
}

// copyLedger copies a kept ledger (and its key) to dst for the benchmarks
// that write: appends to pumps that follow their histories, run after run.
func copyLedger(b *testing.B, src, dst string) string {
	b.Helper()
	for _, suf := range []string{"", ".key", ".pub"} {
		in, err := os.Open(src + suf)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.OpenFile(dst+suf, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		in.Close()
		// On disk before anything is timed: else the first fsync measured
		// waits for the copy's hundreds of MB of dirty pages.
		if err := out.Sync(); err != nil {
			b.Fatal(err)
		}
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return dst
}

// peakHeap samples the live heap while fn runs and returns its peak above
// what was live before, in bytes.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	fn()
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	close(done)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

func reportMB(b *testing.B, bytes uint64) {
	b.ReportMetric(float64(bytes)/(1<<20), "peak-heap-MB")
}

// timeIt runs fn reps times and returns the mean time of one.
func timeIt(reps int, fn func() error) (time.Duration, error) {
	start := time.Now()
	for range reps {
		if err := fn(); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(reps), nil
}

func reportRatio(b *testing.B, baseline time.Duration) {
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(baseline.Nanoseconds()), "baseline-ns/op")
	b.ReportMetric(float64(per)/float64(baseline), "x-baseline")
}

func BenchmarkScale(b *testing.B) {
	for _, n := range scaleSizesList(b) {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.Run("AppendRefillDurable", func(b *testing.B) { benchAppendRounds(b, scaleFixture(b, n), 1, false) })
			b.Run("AppendRefillBatch16", func(b *testing.B) { benchAppendRounds(b, scaleFixture(b, n), 16, false) })
			b.Run("AppendRefillLateDurable", func(b *testing.B) { benchAppendRounds(b, scaleFixture(b, n), 1, true) })
			b.Run("Verify", func(b *testing.B) { benchScaleVerify(b, n) })
			b.Run("HistoryOnePatient", func(b *testing.B) { benchScaleHistory(b, n) })
			b.Run("BillOneMonth", func(b *testing.B) { benchScaleBill(b, n) })
			b.Run("CheckOneMonth", func(b *testing.B) { benchScaleCheck(b, n) })
			b.Run("Bill837POneMonth", func(b *testing.B) { benchScale837P(b, n) })
			b.Run("chart", func(b *testing.B) { benchScaleChart(b, n) })
		})
	}
}

// appendPump is a pump an append benchmark writes to: the refill it copies
// (the pump's last) and the times that decide whether a new one is late.
type appendPump struct {
	mrn      string
	tmpl     pumpledger.Refill
	lastFill time.Time // its last live refill
	last     time.Time // its latest live refill or dose change: a refill after it re-derives nothing
	change   time.Time // its first live dose change after lastFill (zero if none)
}

func appendPumps(b *testing.B, db *clinic.Service, l *scaleLedger) []appendPump {
	b.Helper()
	var out []appendPump
	for k, s := range l.serials {
		links, err := db.Chain(bg, s)
		if err != nil || len(links) == 0 {
			b.Fatalf("chain of %s: %d links, %v", s, len(links), err)
		}
		p := appendPump{mrn: l.pumpMRN[k], tmpl: links[len(links)-1].Refill}
		p.lastFill = p.tmpl.PerformedAt.UTC
		p.last = p.lastFill
		items, err := db.History(bg, p.mrn)
		if err != nil {
			b.Fatalf("history of %s: %v", p.mrn, err)
		}
		for _, it := range items {
			if it.VoidedBy != "" {
				continue
			}
			// Only refills and dose changes are a pump's timeline (a
			// correction's or registration's time is when it was written).
			if it.Entry.Kind != ledger.KindReprogram {
				continue
			}
			at := it.Entry.PerformedAt
			p.last = maxTime(p.last, at)
			if at.After(p.lastFill) && (p.change.IsZero() || at.Before(p.change)) {
				p.change = at
			}
		}
		out = append(out, p)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// refillMaker returns a maker of refills for one writer, cycling through
// pumps (a writer's own: its refills reach each pump in time order, as a
// clinic's do). In order (late false), each refill is dated an hour after
// the pump's latest refill or dose change, so it re-derives nothing; late, it
// is dated between the pump's last refill and its dose change after it, so
// the append re-derives the pump's chain (ledger/record.go, lateCheck).
func refillMaker(b *testing.B, pumps []appendPump, late bool) func() pumpledger.Refill {
	i := 0
	return func() pumpledger.Refill {
		p := pumps[i%len(pumps)]
		k := time.Duration(1 + i/len(pumps))
		at := p.last.Add(k * time.Hour)
		if late {
			// Minutes apart, up to 4,000 of them, all before the change.
			step := min(time.Minute, p.change.Sub(p.lastFill)/4096)
			if at = p.lastFill.Add(k * step); !at.Before(p.change) {
				b.Fatalf("the late refills of pump %s reached its dose change", p.tmpl.PumpSerial)
			}
		}
		r := p.tmpl
		r.ID = ""
		r.PerformedAt = pumpledger.Instant{UTC: at, Offset: r.PerformedAt.Offset}
		r.ResidualML = r.FillML.Sub(decimal.RequireFromString("0.1"))
		i++
		return r
	}
}

// contender is one appender of a round: the ledger or a baseline.
type contender struct {
	name string
	op   func(w int) error // one append by writer w
	per  []time.Duration   // each round's time per append
}

// runRounds runs, in every round, perRound appends of each contender, by
// writers goroutines, one contender after the other, in an order rotated
// each round: so every ratio compares figures taken under the same load.
func runRounds(b *testing.B, writers, perRound int, cs []*contender) {
	round := 0
	for b.Loop() {
		for k := range cs {
			c := cs[(k+round)%len(cs)]
			start := time.Now()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for range perRound / writers {
						if err := c.op(w); err != nil {
							b.Errorf("%s: %v", c.name, err)
							return
						}
					}
				})
			}
			wg.Wait()
			if b.Failed() {
				b.FailNow()
			}
			c.per = append(c.per, time.Since(start)/time.Duration(perRound/writers*writers))
		}
		round++
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// reportRounds reports the first contender's median as ns/op, and each
// other's median (NAME-ns/op) with the ratio of the first to it (x-NAME).
// b.N counts rounds; B/op and allocs/op are a whole round's.
func reportRounds(b *testing.B, cs []*contender) {
	first := median(cs[0].per)
	b.ReportMetric(float64(first.Nanoseconds()), "ns/op")
	for _, c := range cs[1:] {
		m := median(c.per)
		b.ReportMetric(float64(m.Nanoseconds()), c.name+"-ns/op")
		b.ReportMetric(float64(first)/float64(m), "x-"+c.name)
	}
	b.ReportMetric(float64(len(cs[0].per)), "rounds")
}

// benchAppendRounds: refills appended to a copy of ledger l, to pumps with
// their whole history, by writers goroutines (1: each append its own
// commit; more: Options.Batch), in rounds with its baselines:
//
//	bbolt   raw bbolt Puts of the same bytes into a fresh file, fsynced,
//	        by as many writers (Batch when more than one)
//	layout  (one writer) raw Puts of the keys an append writes into a copy
//	        of the same ledger, one fsynced transaction each
//	sqlite  the peer (-tags sqlitepeer): the same entries into SQLite, WAL,
//	        synchronous=FULL, a SHA-256 chain column, indexed by patient,
//	        pump, date and id, seeded with the ledger's entries
//
// late picks the pumps with a dose change after their last refill and
// dates every refill before that change: the late path, measured apart.
func benchAppendRounds(b *testing.B, l *scaleLedger, writers int, late bool) {
	// A fresh copy for each benchmark (b.Loop runs this once): one's appends
	// would otherwise change the next's pumps (an in-order refill after a
	// pump's dose change leaves no late window behind it).
	work := copyLedger(b, l.path, filepath.Join(*scaleDir, "work.db"))
	b.Cleanup(func() { os.Remove(work + ".key"); os.Remove(work) })
	var peer *sqlitepeer.DB
	if sqlitepeer.Enabled {
		peer = seedPeer(b, work)
		defer peer.Close()
	} else {
		b.Log("no SQLite peer: run with -tags sqlitepeer (make bench)")
	}
	db := openScale(b, work, ledger.Options{Batch: writers > 1})
	defer db.Close()
	pumpsNow := func() []appendPump {
		pumps := appendPumps(b, db, l)
		if late {
			pumps = slices.DeleteFunc(pumps, func(p appendPump) bool { return p.change.IsZero() })
		}
		return pumps
	}
	pumps := pumpsNow()
	if len(pumps) == 0 {
		b.Skip("no pump of the ledger has a dose change after its last refill")
	}
	if late {
		writers = 1
	}
	res, err := db.RecordRefill(as("tester"), refillMaker(b, pumps, late)()) // warm: key loaded, pages cached
	if err != nil {
		b.Fatal(err)
	}
	size := len(res.Entry.Encode())
	pumps = pumpsNow() // after the warm-up refill
	// Writer w's own pumps.
	share := func(w int) []appendPump {
		var mine []appendPump
		for k := w; k < len(pumps); k += writers {
			mine = append(mine, pumps[k])
		}
		return mine
	}
	var makers, peerMakers []func() pumpledger.Refill
	for w := range writers {
		makers = append(makers, refillMaker(b, share(w), late))
		peerMakers = append(peerMakers, refillMaker(b, share(w), late))
	}
	cs := []*contender{
		{name: "ledger", op: func(w int) error { _, err := db.RecordRefill(as("tester"), makers[w]()); return err }},
		{name: "bbolt", op: rawPutOp(b, size, writers > 1)},
	}
	if writers == 1 {
		cs = append(cs, &contender{name: "layout", op: rawLayoutOp(b, l, size)})
	}
	if peer != nil {
		cs = append(cs, &contender{name: "sqlite", op: func(w int) error {
			r := peerMakers[w]()
			r.ID = uuid.NewString()
			body, err := json.Marshal(peerEntry{ID: r.ID, Kind: "refill", RecordedAt: time.Now().UTC(), RecordedBy: r.Nurse, PerformedAt: r.PerformedAt.UTC, Payload: r})
			if err != nil {
				return err
			}
			return peer.Append(sqlitepeer.Row{ID: r.ID, Patient: r.MRN, Pump: r.PumpSerial, Date: r.PerformedAt.Date(), Body: body})
		}})
	}
	perRound := 1
	if writers > 1 {
		perRound = 2 * writers
	}
	runRounds(b, writers, perRound, cs)
	b.StopTimer()
	reportRounds(b, cs)
	// Memory is measured apart from time: the sampler's own work is not
	// an append's.
	next := refillMaker(b, pumpsNow(), late) // after the timed refills
	reportMB(b, peakHeap(func() {
		for range 20 {
			if _, err := db.RecordRefill(as("tester"), next()); err != nil {
				b.Fatal(err)
			}
		}
	}))
	b.ReportMetric(float64(size), "entry-bytes")
}

// peerEntry is the envelope the peer stores: the ledger's fields that are
// not derived (no warnings, no record), the refill as its payload.
type peerEntry struct {
	ID          string            `json:"id"`
	Kind        string            `json:"kind"`
	RecordedAt  time.Time         `json:"recorded_at"`
	RecordedBy  string            `json:"recorded_by"`
	PerformedAt time.Time         `json:"performed_at"`
	Payload     pumpledger.Refill `json:"payload"`
}

// seedPeer makes a peer file holding every entry of the ledger at path
// (read with raw bbolt: its stored bytes, patient, pump and date), so the
// peer appends to tables and indexes as large as the ledger's.
func seedPeer(b *testing.B, path string) *sqlitepeer.DB {
	b.Helper()
	peer, err := sqlitepeer.Open(filepath.Join(b.TempDir(), "peer.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	var rows []sqlitepeer.Row
	flush := func() error {
		err := peer.Append(rows...)
		rows = rows[:0]
		return err
	}
	err = raw.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).ForEach(func(_, v []byte) error {
			var e struct {
				ID          string    `json:"id"`
				PerformedAt time.Time `json:"performed_at"`
				Payload     struct {
					MRN        string `json:"mrn"`
					Serial     string `json:"serial"`
					PumpSerial string `json:"pump_serial"`
				} `json:"payload"`
			}
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			rows = append(rows, sqlitepeer.Row{ID: e.ID, Patient: e.Payload.MRN, Pump: e.Payload.PumpSerial + e.Payload.Serial,
				Date: e.PerformedAt.Format(time.DateOnly), Body: slices.Clone(v)})
			if len(rows) == 5000 {
				return flush()
			}
			return nil
		})
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		b.Fatalf("seed the SQLite peer: %v", err)
	}
	return peer
}

// rawLayoutOp writes, with raw bbolt Puts into a copy of ledger l, the keys
// one append writes (ledger/index.go and tree.go say which): the entry, its
// stored tree hashes and a checkpoint note of about the same bytes, its id,
// and its patient, pump and date index keys, one fsynced transaction each.
// No checking, deriving or signing: what is left of an append is the I/O
// its layout costs, so x-layout shows how much of an append is
// pumpledger's own work.
func rawLayoutOp(b *testing.B, l *scaleLedger, size int) func(int) error {
	path := copyLedger(b, l.path, filepath.Join(*scaleDir, "layout.db"))
	b.Cleanup(func() { os.Remove(path + ".key"); os.Remove(path) })
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	value, note := make([]byte, size), make([]byte, 230)
	key := func(prefix string, seq uint64) []byte {
		return binary.BigEndian.AppendUint64(append([]byte(prefix), 0), seq)
	}
	i := 0
	return func(int) error {
		i++
		return raw.Update(func(tx *bolt.Tx) error {
			entries := tx.Bucket([]byte("entries"))
			seq := entries.Sequence()
			if err := entries.SetSequence(seq + 1); err != nil {
				return err
			}
			puts := []struct {
				bucket     string
				key, value []byte
			}{
				{"entries", binary.BigEndian.AppendUint64(nil, seq), value},
				{"checkpoints", binary.BigEndian.AppendUint64(nil, seq+1), note},
				{"ids", []byte(uuid.NewString()), binary.BigEndian.AppendUint64(nil, seq)},
				{"by_patient", key(l.mrns[i%len(l.mrns)], seq), nil},
				{"by_pump", key(l.serials[i%len(l.serials)], seq), nil},
				{"by_date", key("2026-11-27", seq), nil},
			}
			for h := tlog.StoredHashIndex(0, int64(seq)); h < tlog.StoredHashCount(int64(seq)+1); h++ {
				puts = append(puts, struct {
					bucket     string
					key, value []byte
				}{"hashes", binary.BigEndian.AppendUint64(nil, uint64(h)), note[:32]})
			}
			for _, p := range puts {
				if err := tx.Bucket([]byte(p.bucket)).Put(p.key, p.value); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// rawPutOp is one raw bbolt Put of size bytes into a fresh file, fsynced;
// with batch, by bbolt's Batch as the ledger's Options.Batch: the floor an
// append is measured against.
func rawPutOp(b *testing.B, size int, batch bool) func(int) error {
	value := make([]byte, size)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	raw, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	raw.MaxBatchDelay = time.Millisecond // as the ledger's Batch
	name := []byte("entries")
	if err := raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(name); return err }); err != nil {
		b.Fatal(err)
	}
	var key atomic.Uint64
	put := func(tx *bolt.Tx) error {
		return tx.Bucket(name).Put(fmt.Appendf(nil, "%016x", key.Add(1)), value)
	}
	if batch {
		return func(int) error { return raw.Batch(put) }
	}
	return func(int) error { return raw.Update(put) }
}

// benchScaleVerify: Verify of the n-entry ledger against reading the file
// and SHA-256 hashing every byte of it.
func benchScaleVerify(b *testing.B, n int) {
	l := scaleFixture(b, n)
	db := openScale(b, l.path, ledger.Options{ReadOnly: true})
	defer db.Close()
	baseline, err := timeIt(2, func() error {
		f, err := os.Open(l.path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(sha256.New(), f)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	verify := func() {
		res, err := db.Verify()
		if err != nil {
			b.Fatal(err)
		}
		if res.Entries != l.entries {
			b.Fatalf("verified %d entries, want %d", res.Entries, l.entries)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		verify()
	}
	reportRatio(b, baseline)
	heap := peakHeap(verify) // apart from time: the sampler's work is not verify's
	reportMB(b, heap)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(l.entries), "ns/entry")
	if st, err := os.Stat(l.path); err == nil {
		b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
	}
}

// benchScaleHistory: one patient's whole history (ten years, every refill
// re-derived with its interval) from the n-entry ledger.
func benchScaleHistory(b *testing.B, n int) {
	l := scaleFixture(b, n)
	db := openScale(b, l.path, ledger.Options{ReadOnly: true})
	defer db.Close()
	items, i := 0, 0
	history := func() {
		its, err := db.History(bg, l.mrns[i%len(l.mrns)])
		if err != nil {
			b.Fatal(err)
		}
		items = len(its)
		i++
	}
	for b.Loop() {
		history()
	}
	b.StopTimer()
	heap := uint64(0)
	for range len(l.mrns) { // apart from time: the sampler's work is not history's
		heap = max(heap, peakHeap(history))
	}
	reportMB(b, heap)
	b.ReportMetric(float64(items), "entries")
}

// benchScaleBill: a month's claim lines from the n-entry ledger.
func benchScaleBill(b *testing.B, n int) {
	l := scaleFixture(b, n)
	db := openScale(b, l.path, ledger.Options{ReadOnly: true})
	defer db.Close()
	lines := 0
	bill := func() {
		ls, err := db.Bill(bg, l.month[0], l.month[1])
		if err != nil {
			b.Fatal(err)
		}
		lines = len(ls)
	}
	for b.Loop() {
		bill()
	}
	b.StopTimer()
	reportMB(b, peakHeap(bill)) // apart from time: the sampler's work is not the bill's
	b.ReportMetric(float64(lines), "lines")
}

// benchScaleCheck: the pre-billing check of a month (which bills it, then
// reads each visit beside the clinical record), beside the bill of the
// same month, alternated in rounds so that both see the same machine.
func benchScaleCheck(b *testing.B, n int) {
	l := scaleFixture(b, n)
	db := openScale(b, l.path, ledger.Options{ReadOnly: true})
	defer db.Close()
	var billT, checkT time.Duration
	rounds, findings := 0, 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := db.Bill(bg, l.month[0], l.month[1]); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		fs, err := db.Check(bg, l.month[0], l.month[1], l.month[1])
		if err != nil {
			b.Fatal(err)
		}
		checkT += time.Since(t1)
		billT += t1.Sub(t0)
		rounds++
		findings = len(fs)
	}
	b.StopTimer()
	b.ReportMetric(float64(checkT.Nanoseconds())/float64(rounds), "check-ns/op")
	b.ReportMetric(float64(billT.Nanoseconds())/float64(rounds), "bill-ns/op")
	b.ReportMetric(float64(checkT)/float64(billT), "x-bill")
	b.ReportMetric(float64(findings), "findings")
}
