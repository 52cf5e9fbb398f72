package web

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// What the access log costs a page view. A patient's page is served with
// the log on (the log's file opened, its head checked, a record appended,
// a checkpoint signed, the commit synced, the file closed) and with it off,
// the same page of the same ledger through the same server:
//
//	log=off, log=on  each alone: ns/op and allocs/op of one view
//	rounds           one view of each per round, the order alternating;
//	                 on-ns/op and off-ns/op their medians, x-off the ratio
//	append           the log's Append alone, as a view makes it
//	worklist-20      AppendAll of 20 records: a worklist of 20 patients
//	parallel-20      20 clients viewing at once, as fast as answers come:
//	                 log=off; log=on,serial, each view its own commit one
//	                 after another (the log before group commit, kept as
//	                 AccessLog.Serial); log=on,grouped, the views waiting
//	                 sharing one commit. ns/op is the wall time per view
//	                 (the server's throughput), p50-ns and p99-ns what one
//	                 view waits, x-off the ns/op over log=off's, and
//	                 views/commit how many views shared a synced commit;
//	                 rounds: a burst of 20 clients × 3 views in each mode
//	                 per round, the order rotating, and each mode's median
//	                 wall time per view (the disk's swings hit all three
//	                 alike), x-serial the serial's over the grouped's
//
// The ledger itself is NoSync (a view reads it); the log always syncs.
func BenchmarkPatientPageAccessLog(b *testing.B) {
	f := newFixture(b, false)
	ctx := pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: "nurse1", Role: pumpledger.RoleNurse})
	r, err := pumpledger.ParseRefill(strings.NewReader(refillJSON))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.db.RecordRefill(ctx, r); err != nil {
		b.Fatal(err)
	}
	nurse := f.login("nurse1")
	log := f.srv.access
	view := func(on bool) {
		f.srv.access = nil
		if on {
			f.srv.access = log
		}
		if w := f.do("GET", "/patient?mrn=MRN-1", nurse, nil); w.Code != http.StatusOK {
			b.Fatalf("patient page: %d", w.Code)
		}
	}
	view(true) // the log's file made
	parallel(b, f, nurse, log)
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "log=off", true: "log=on"}[on]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				view(on)
			}
		})
	}
	b.Run("rounds", func(b *testing.B) {
		var ons, offs []time.Duration
		i := 0
		for b.Loop() {
			for _, on := range [][2]bool{{false, true}, {true, false}}[i%2] {
				t0 := time.Now()
				view(on)
				if d := time.Since(t0); on {
					ons = append(ons, d)
				} else {
					offs = append(offs, d)
				}
			}
			i++
		}
		on, off := median(ons), median(offs)
		b.ReportMetric(float64(on.Nanoseconds()), "on-ns/op")
		b.ReportMetric(float64(off.Nanoseconds()), "off-ns/op")
		b.ReportMetric(float64(on)/float64(off), "x-off")
	})
	rec := ledger.Access{User: "nurse1", Role: "nurse", MRN: "MRN-1", What: "patient page", From: "192.0.2.1"}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := log.Append(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("worklist-20", func(b *testing.B) {
		recs := slices.Repeat([]ledger.Access{rec}, 20)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := log.AppendAll(recs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// parallel is BenchmarkPatientPageAccessLog's parallel-20.
func parallel(b *testing.B, f *fixture, nurse string, log *ledger.AccessLog) {
	var offPerView float64
	for _, c := range []struct {
		name       string
		on, serial bool
	}{{"log=off", false, false}, {"log=on,serial", true, true}, {"log=on,grouped", true, false}} {
		b.Run("parallel-20/"+c.name, func(b *testing.B) {
			f.srv.access = nil
			if c.on {
				f.srv.access, log.Serial = log, c.serial
				defer func() { log.Serial = false }()
			}
			before, err := log.Verify()
			if err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism((20 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					if w := f.do("GET", "/patient?mrn=MRN-1", nurse, nil); w.Code != http.StatusOK {
						b.Errorf("patient page: %d", w.Code)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(lat)
			p50, p99 := median(lat), lat[len(lat)*99/100]
			b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
			perView := float64(b.Elapsed()) / float64(b.N)
			if !c.on {
				offPerView = perView
				return
			}
			if offPerView > 0 {
				b.ReportMetric(perView/offPerView, "x-off")
			}
			after, err := log.Verify()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(after.Records-before.Records)/float64(after.Checkpoints-before.Checkpoints), "views/commit")
		})
	}
	b.Run("parallel-20/rounds", func(b *testing.B) {
		modes := []struct{ on, serial bool }{{false, false}, {true, true}, {true, false}}
		per := make([][]time.Duration, len(modes))
		for i := 0; b.Loop(); i++ {
			for j := range modes {
				m := (i + j) % len(modes)
				f.srv.access, log.Serial = nil, modes[m].serial
				if modes[m].on {
					f.srv.access = log
				}
				t0 := time.Now()
				var wg sync.WaitGroup
				for range 20 {
					wg.Go(func() {
						for range 3 {
							if w := f.do("GET", "/patient?mrn=MRN-1", nurse, nil); w.Code != http.StatusOK {
								b.Errorf("patient page: %d", w.Code)
							}
						}
					})
				}
				wg.Wait()
				per[m] = append(per[m], time.Since(t0)/60)
			}
		}
		log.Serial = false
		off, serial, grouped := median(per[0]), median(per[1]), median(per[2])
		b.ReportMetric(float64(off.Nanoseconds()), "off-ns/view")
		b.ReportMetric(float64(serial.Nanoseconds()), "serial-ns/view")
		b.ReportMetric(float64(grouped.Nanoseconds()), "grouped-ns/view")
		b.ReportMetric(float64(serial)/float64(grouped), "x-serial")
	})
	f.srv.access = log
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
