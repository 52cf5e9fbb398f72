package ledger_test

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/demo"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/shopspring/decimal"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"
)

// The scale suite: ledgers of 100,000 and 1,000,000 entries (a large health
// system's years), and on each the operations people wait for, every one
// beside a baseline measured in the same run:
//
//	append, durable              vs a raw bbolt Put of the same bytes, fsynced;
//	                             and vs raw Puts of the keys an append writes
//	                             (x-layout: the floor of the ledger's layout)
//	append, 16 writers (Batch)   vs raw bbolt Batch Puts of the same bytes
//	verify                       vs reading the file and SHA-256 hashing it
//	one patient's history        (goal: under 50 ms)
//	a month's bill               (goal: under 50 ms)
//
// Each reports its baseline and the ratio as metrics on its own line, and
// the peak heap during the operation (memory must stay flat as the ledger
// grows). Ledgers are built once (minutes for 1M) and kept in -scale.dir;
// `make bench-clean` removes them.
//
//	go test ./ledger -run '^$' -bench Scale -benchtime 20x
var (
	scaleSizes = flag.String("scale.sizes", "100000,1000000", "ledger sizes of the scale benchmarks, comma-separated")
	scaleDir   = flag.String("scale.dir", cmp.Or(os.Getenv("PUMPLEDGER_SCALE_DIR"), filepath.Join(os.TempDir(), "pumpledger-scale")), "where the scale benchmarks keep their built ledgers (default $PUMPLEDGER_SCALE_DIR)")
)

// scaleFixtureVersion names the generator's output: bump it when the demo
// generator or the ledger format changes, so stale ledgers are rebuilt.
const scaleFixtureVersion = 2

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

// openScale opens a scale ledger with the demo's catalog.
func openScale(b *testing.B, path string, opt ledger.Options) *ledger.DB {
	b.Helper()
	opt.Catalog = scaleCatalog()
	db, err := ledger.Open(path, opt)
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
	work    string // a copy the append benchmarks write to, made once a run
	entries int64
	mrns    []string // a few patients, for history
	serials []string // their pumps, for appends
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
		for _, suf := range []string{"", ".key"} {
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
		items, err := db.History(mrn)
		if err != nil {
			b.Fatalf("history of %s: %v", mrn, err)
		}
		for _, it := range items {
			if it.Entry.Kind == ledger.KindImplant {
				im, _ := it.Entry.Implant()
				l.serials = append(l.serials, im.Serial)
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
	cat := scaleCatalog()
	var clock time.Time
	db, err := ledger.Open(path, ledger.Options{Catalog: cat, NoSync: true, Now: func() time.Time { return clock }})
	if err != nil {
		return err
	}
	defer db.Close()
	var count int64
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
				var res ledger.Result
				switch ev.Kind {
				case pumpledger.KindPatient:
					clock = time.Now()
					res, err = db.AddPatient(*ev.Patient, "scale-clerk")
				case pumpledger.KindImplant:
					clock = time.Now()
					res, err = db.Implant(*ev.Implant, "scale-md")
				case pumpledger.KindRefill:
					clock = ev.Refill.PerformedAt.UTC.Add(20 * time.Minute)
					res, err = db.RecordRefill(*ev.Refill)
				case pumpledger.KindReprogram:
					clock = ev.Reprogram.PerformedAt.UTC.Add(20 * time.Minute)
					res, err = db.RecordReprogram(*ev.Reprogram)
				case pumpledger.KindCorrection:
					c := ev.Correction
					clock = c.Refill.PerformedAt.UTC.Add(time.Hour)
					res, err = db.Correct(c.Voids, c.Reason, c.By, ledger.Replacement{Refill: c.Refill})
				default:
					continue
				}
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
	for _, suf := range []string{"", ".key"} {
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
			b.Run("AppendRefillDurable", func(b *testing.B) { benchScaleAppend(b, n, 1) })
			b.Run("AppendRefillBatch16", func(b *testing.B) { benchScaleAppend(b, n, 16) })
			b.Run("Verify", func(b *testing.B) { benchScaleVerify(b, n) })
			b.Run("HistoryOnePatient", func(b *testing.B) { benchScaleHistory(b, n) })
			b.Run("BillOneMonth", func(b *testing.B) { benchScaleBill(b, n) })
		})
	}
}

// nextRefills makes refills that follow each pump's last one: the same
// solution and vials, an hour apart. Each writer has pumps of its own, so
// that its refills reach each pump in time order, as a clinic's do.
type nextRefills struct {
	tmpl    []pumpledger.Refill
	writers atomic.Int64
}

func newNextRefills(b *testing.B, db *ledger.DB, serials []string) *nextRefills {
	nr := &nextRefills{}
	for _, s := range serials {
		links, err := db.Chain(s)
		if err != nil || len(links) == 0 {
			b.Fatalf("chain of %s: %d links, %v", s, len(links), err)
		}
		nr.tmpl = append(nr.tmpl, links[len(links)-1].Refill)
	}
	return nr
}

// writer returns the refill maker of one of writers writers: it cycles
// through its share of the pumps.
func (nr *nextRefills) writer(writers int) func() pumpledger.Refill {
	w := int(nr.writers.Add(1)-1) % writers
	var mine []pumpledger.Refill
	for k := w; k < len(nr.tmpl); k += writers {
		mine = append(mine, nr.tmpl[k])
	}
	i := 0
	return func() pumpledger.Refill {
		r := mine[i%len(mine)]
		r.ID = ""
		r.PerformedAt = pumpledger.NewInstant(r.PerformedAt.UTC.Add(time.Duration(1+i/len(mine)) * time.Hour))
		r.ResidualML = r.FillML.Sub(decimal.RequireFromString("0.1"))
		i++
		return r
	}
}

// benchScaleAppend: refills appended to a copy of the n-entry ledger, to
// pumps with ten years' history, by writers goroutines (1: each its own
// commit; more: Options.Batch), against raw bbolt Puts of the same bytes
// by as many writers, on a fresh file, fsynced.
func benchScaleAppend(b *testing.B, n, writers int) {
	l := scaleFixture(b, n)
	scaleMu.Lock()
	if l.work == "" { // once a run: the benchmark framework calls this several times
		l.work = copyLedger(b, l.path, filepath.Join(*scaleDir, fmt.Sprintf("work-%d.db", n)))
	}
	scaleMu.Unlock()
	db := openScale(b, l.work, ledger.Options{Batch: writers > 1})
	defer db.Close()
	nr := newNextRefills(b, db, l.serials[:max(writers, 4)])
	warm := nr.writer(1)
	res, err := db.RecordRefill(warm()) // warm: key loaded, pages cached
	if err != nil {
		b.Fatal(err)
	}
	nr = newNextRefills(b, db, l.serials[:max(writers, 4)]) // after the warm-up refill
	size := len(res.Entry.Encode())
	baseline := rawPut(b, size, writers, 200)
	var layout time.Duration
	if writers == 1 {
		layout = rawLayoutPut(b, l, size, 100)
	}
	b.ResetTimer()
	if writers == 1 {
		next := nr.writer(1)
		for b.Loop() {
			if _, err := db.RecordRefill(next()); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(writers / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			next := nr.writer(writers)
			for pb.Next() {
				if _, err := db.RecordRefill(next()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	// Memory is measured apart from time: the sampler's own work is not
	// an append's.
	next := newNextRefills(b, db, l.serials[:max(writers, 4)]).writer(1)
	heap := peakHeap(func() {
		for range 20 {
			if _, err := db.RecordRefill(next()); err != nil {
				b.Fatal(err)
			}
		}
	})
	reportRatio(b, baseline)
	if layout > 0 {
		b.ReportMetric(float64(layout.Nanoseconds()), "layout-ns/op")
		b.ReportMetric(float64(b.Elapsed()/time.Duration(b.N))/float64(layout), "x-layout")
	}
	reportMB(b, heap)
	b.ReportMetric(float64(size), "entry-bytes")
}

// rawLayoutPut is the mean time of writing, with raw bbolt Puts into a copy
// of the n-entry ledger, the keys one append writes (ledger/index.go and
// tree.go say which): the entry, its stored tree hashes and a checkpoint
// note of about the same bytes, its id, and its patient, pump and date
// index keys, one fsynced transaction each. No checking, deriving or
// signing: what is left of an append is the I/O its layout costs, so
// x-layout shows how much of an append is pumpledger's own work.
func rawLayoutPut(b *testing.B, l *scaleLedger, size, reps int) time.Duration {
	path := filepath.Join(*scaleDir, "layout.db")
	copyLedger(b, l.path, path)
	defer os.Remove(path + ".key")
	defer os.Remove(path)
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	value, note := make([]byte, size), make([]byte, 230)
	key := func(prefix string, seq uint64) []byte {
		return binary.BigEndian.AppendUint64(append([]byte(prefix), 0), seq)
	}
	start := time.Now()
	for i := range reps {
		err := raw.Update(func(tx *bolt.Tx) error {
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
		if err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / time.Duration(reps)
}

// rawPut is the mean time of one raw bbolt Put of size bytes into a fresh
// file, fsynced, over reps Puts by writers goroutines (Batch when more than
// one): the floor an append is measured against.
func rawPut(b *testing.B, size, writers, reps int) time.Duration {
	value := make([]byte, size)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	raw, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.MaxBatchDelay = time.Millisecond // as the ledger's Batch
	name := []byte("entries")
	if err := raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(name); return err }); err != nil {
		b.Fatal(err)
	}
	var key atomic.Uint64
	put := func(tx *bolt.Tx) error {
		k := key.Add(1)
		return tx.Bucket(name).Put([]byte(fmt.Sprintf("%016x", k)), value)
	}
	start := time.Now()
	if writers == 1 {
		for range reps {
			if err := raw.Update(put); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for range reps / writers {
					if err := raw.Batch(put); err != nil {
						b.Error(err)
					}
				}
			})
		}
		wg.Wait()
	}
	return time.Since(start) / time.Duration(reps/writers*writers)
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
		its, err := db.History(l.mrns[i%len(l.mrns)])
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
		ls, err := db.Bill(l.month[0], l.month[1])
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
