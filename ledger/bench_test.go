package ledger_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

// Benchmarks of an append (a patient registration: one entry, its tree
// hashes, four index keys and a signed checkpoint, in one transaction)
// against a raw bbolt Put of the same size, with and without fsync, and of
// Verify per entry. Setup is outside the timer (b.Loop, ResetTimer).

func benchPatient(i int) pumpledger.Patient {
	return pumpledger.Patient{MRN: fmt.Sprintf("MRN-%08d", i), Name: "Benchmark Patient"}
}

// benchLedger opens a fresh ledger with its key already made.
func benchLedger(b *testing.B, opt ledger.Options) *clinic.Service {
	b.Helper()
	db, err := clinic.Create(as("clerk"), filepath.Join(b.TempDir(), "bench.db"), opt, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.AddPatient(as("bench"), pumpledger.Patient{MRN: "WARM", Name: "Warm Up"}); err != nil {
		b.Fatal(err)
	}
	return db
}

func benchAppend(b *testing.B, opt ledger.Options) {
	db := benchLedger(b, opt)
	i := 0
	for b.Loop() {
		if _, err := db.AddPatient(as("bench"), benchPatient(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAppendDurable: one append per op, each its own fsynced commit.
func BenchmarkAppendDurable(b *testing.B) { benchAppend(b, ledger.Options{}) }

// BenchmarkAppendNoSync: the same without fsync: the CPU and page-cache cost.
func BenchmarkAppendNoSync(b *testing.B) { benchAppend(b, ledger.Options{NoSync: true}) }

// BenchmarkAppendBatchParallel: concurrent appends coalesced into shared
// commits (Options.Batch). writers=GOMAXPROCS is b.RunParallel's default;
// more writers fill each batch before its delay (Options.BatchDelay, 1 ms)
// runs out.
func BenchmarkAppendBatchParallel(b *testing.B) {
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%dxGOMAXPROCS", par), func(b *testing.B) {
			db := benchLedger(b, ledger.Options{Batch: true})
			var next atomic.Int64
			b.SetParallelism(par)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := db.AddPatient(as("bench"), benchPatient(int(next.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkVerifyPerEntry: Verify of a ledger of 10,000 entries (each with
// its signed checkpoint, as appends leave them); ns/entry is the figure.
func BenchmarkVerifyPerEntry(b *testing.B) {
	const entries = 10000
	db := benchLedger(b, ledger.Options{NoSync: true}) // setup speed only: Verify writes nothing
	for i := 2; i < entries; i++ {                     // after the pinned catalog and benchLedger's patient
		if _, err := db.AddPatient(as("bench"), benchPatient(i)); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		res, err := db.Verify()
		if err != nil {
			b.Fatal(err)
		}
		if res.Entries != entries {
			b.Fatalf("verified %d entries, want %d", res.Entries, entries)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/entries, "ns/entry")
}

// encodedEntrySize is the size of a benchmark append's stored entry.
func encodedEntrySize(b *testing.B) int {
	db := benchLedger(b, ledger.Options{NoSync: true})
	res, err := db.AddPatient(as("bench"), benchPatient(0))
	if err != nil {
		b.Fatal(err)
	}
	return len(res.Entry.Encode())
}

func benchRawBolt(b *testing.B, noSync bool) {
	value := make([]byte, encodedEntrySize(b))
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucketEntries); return err }); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(value)))
	var i uint64
	for b.Loop() {
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketEntries).Put(u64(i), value)
		}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRawBoltPut: the floor: one bbolt Update with one Put of an
// entry's size, fsynced, on a fresh file.
func BenchmarkRawBoltPut(b *testing.B) { benchRawBolt(b, false) }

// BenchmarkRawBoltPutNoSync: the same floor without fsync.
func BenchmarkRawBoltPutNoSync(b *testing.B) { benchRawBolt(b, true) }

// appendEntries is the size of the append benchmarks' small ledger: the
// first 16 patients' whole histories (about 1,600 entries) and some more.
const appendEntries = 3000

// BenchmarkAppendRefill: durable refill appends to pumps with years of
// history, on a small ledger, in rounds with raw bbolt Puts and the SQLite
// peer (benchAppendRounds in scale_bench_test.go): ns/op is the append's
// median, x-bbolt and x-sqlite its ratios to the baselines' medians of the
// same run. Built once into -scale.dir, as the scale suite's ledgers.
//
//	go test -tags sqlitepeer -run '^$' -bench AppendRefill ./ledger
func BenchmarkAppendRefill(b *testing.B) {
	b.Run("Durable", func(b *testing.B) { benchAppendRounds(b, scaleFixture(b, appendEntries), 1, false) })
	b.Run("Batch16", func(b *testing.B) { benchAppendRounds(b, scaleFixture(b, appendEntries), 16, false) })
	b.Run("LateDurable", func(b *testing.B) { benchAppendRounds(b, scaleFixture(b, appendEntries), 1, true) })
}
