package ledger_test

// The chaos suites of issue 5: writers killed with SIGKILL (fault_test.go),
// several processes and goroutines appending at once, the file damaged in
// every way we could name, and a full disk. Each runs a short mode by
// default (what `make test` runs) and a long one with -chaos.long:
//
//	go test ./ledger -run 'Chaos' -v                    # short
//	go test ./ledger -run 'Chaos' -v -chaos.long        # long
//	go test ./ledger -run 'ChaosKill' -v -chaos.kills=1000 -chaos.seed=7
//
// Every child process is this test binary re-run as TestHelperChild, its
// role in PUMPLEDGER_CHAOS_CHILD.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/google/uuid"
	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
	bolt "go.etcd.io/bbolt"
)

var (
	chaosLong  = flag.Bool("chaos.long", false, "run the chaos suites at full length (300+ kills, more processes, more full disks)")
	chaosSeed  = flag.Uint64("chaos.seed", 20260401, "seed of the chaos suites' random choices, to replay a run")
	chaosKills = flag.Int("chaos.kills", 0, "SIGKILLs in TestChaosKill; 0 = 40 short, 300 long")
)

// Environment of a child process.
const (
	childEnv  = "PUMPLEDGER_CHAOS_CHILD" // its role: writer, procs, damaged, full
	chDB      = "PUMPLEDGER_CHAOS_DB"    // the ledger it works on
	chArg     = "PUMPLEDGER_CHAOS_ARG"   // a role's argument (round, id, limit, second path)
	ackPrefix = "ack "
)

func chaosRNG(t *testing.T, salt uint64) *rand.Rand {
	t.Logf("seed %d (replay with -chaos.seed=%d)", *chaosSeed, *chaosSeed)
	return rand.New(rand.NewPCG(*chaosSeed, *chaosSeed^salt))
}

// childCmd runs this test binary as a child process in role.
func childCmd(ctx context.Context, role string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), childEnv+"="+role), env...)
	return cmd
}

// chaosClock is the ledger clock of every child: the appends of course()
// are all in its past.
func chaosClock() time.Time { return time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC) }

// course is one patient's real appends, each as a clinic records them: the
// registration, the implant, the first fill of a naive pump (with its
// rinse), a dose change, and the next refill, reconciled against the first.
func course(mrn, serial string) []func(*clinic.Service) (clinic.Result, error) {
	sub := strings.NewReplacer(`"MRN-1"`, `"`+mrn+`"`, `"S1"`, `"`+serial+`"`,
		`"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"`, `"`+uuid.NewString()+`"`)
	fill := func(s string) func(*clinic.Service) (clinic.Result, error) {
		return func(db *clinic.Service) (clinic.Result, error) {
			r, err := pumpledger.ParseRefill(strings.NewReader(sub.Replace(s)))
			if err != nil {
				return clinic.Result{}, err
			}
			return db.RecordRefill(as("tester"), r)
		}
	}
	return []func(*clinic.Service) (clinic.Result, error){
		func(db *clinic.Service) (clinic.Result, error) {
			return db.AddPatient(as("clerk"), pumpledger.Patient{MRN: mrn, Name: "Patient " + mrn})
		},
		func(db *clinic.Service) (clinic.Result, error) {
			return db.Implant(as("drx"), pumpledger.Implant{MRN: mrn, Serial: serial, Model: "synchromed-ii-20", Date: "2026-02-20"})
		},
		fill(firstFill),
		func(db *clinic.Service) (clinic.Result, error) {
			r, err := pumpledger.ParseReprogram(strings.NewReader(sub.Replace(reprogram)))
			if err != nil {
				return clinic.Result{}, err
			}
			return db.RecordReprogram(as("tester"), r)
		},
		fill(secondFill),
	}
}

// TestHelperChild is not a test: it is the child process of the chaos
// suites, in the role its environment names.
func TestHelperChild(t *testing.T) {
	path := os.Getenv(chDB)
	switch os.Getenv(childEnv) {
	case "writer":
		childWriter(path, os.Getenv(chArg))
	case "procs":
		childProcs(path, os.Getenv(chArg))
	case "damaged":
		childDamaged(path, os.Getenv(chArg))
	case "full":
		childFull(path, os.Getenv(chArg))
	case "backup":
		childBackup(path, os.Getenv(chArg))
	default:
		t.Skip("the child process of the chaos suites")
	}
	os.Exit(0)
}

func say(format string, args ...any) {
	// One write of a short line: whole or not at all in the pipe.
	os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
}

// ---------------------------------------------------------------------------
// 2. Several processes, each with several goroutines, appending at once.
//
// The design, as a clinic would run it: bbolt's file lock lets one process
// write at a time, so each process opens the ledger (waiting up to its lock
// timeout for the lock), appends a burst from its goroutines in shared
// batched commits (Options.Batch), and closes, letting the next process in;
// an open that times out on the lock (ErrLocked) is retried. Nothing else
// coordinates them.

// childProcs is process id of TestChaosProcesses: "id rounds goroutines".
func childProcs(path, arg string) {
	var id, rounds, gs int
	fmt.Sscan(arg, &id, &rounds, &gs)
	waits := 0
	for round := range rounds {
		var db *clinic.Service
		for {
			var err error
			db, err = clinic.Open(path, ledger.Options{Batch: true, LockTimeout: 300 * time.Millisecond, Now: chaosClock})
			if errors.Is(err, ledger.ErrLocked) {
				waits++
				continue
			} else if err != nil {
				fmt.Fprintln(os.Stderr, "open:", err)
				os.Exit(3)
			}
			break
		}
		var wg sync.WaitGroup
		for g := range gs {
			wg.Go(func() {
				tag := fmt.Sprintf("M%d-%d-%d", id, round, g)
				for _, step := range course(tag, "P"+tag) {
					res, err := step(db)
					if err != nil || res.Existing {
						fmt.Fprintln(os.Stderr, "append:", err, res.Existing)
						os.Exit(4)
					}
					say("%s%d %s", ackPrefix, g, res.Entry.ID)
				}
			})
		}
		wg.Wait()
		if err := db.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close:", err)
			os.Exit(5)
		}
	}
	say("waits %d", waits)
}

// TestChaosProcesses runs several processes of several goroutines each,
// appending real courses to one ledger at once, taking the file lock in
// turns. Every append a process acknowledged is in the tree exactly once
// (the size is the number of acknowledgements: a duplicate or a loss shows),
// each goroutine's appends in its order, and the ledger verifies. It would
// catch two processes writing at once (a broken lock: the tree would not
// verify), a batch losing or repeating an append, a retried open corrupting.
func TestChaosProcesses(t *testing.T) {
	procs, rounds, gs := 3, 2, 3
	if *chaosLong {
		procs, rounds, gs = 5, 8, 4
	}
	begin := time.Now()
	path := filepath.Join(t.TempDir(), "procs.db")
	must(clinic.Create(as("clerk"), path, ledger.Options{}, nil)).Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang fails, not blocks
	defer cancel()
	type child struct {
		cmd    *exec.Cmd
		out    bytes.Buffer
		stderr bytes.Buffer
	}
	cs := make([]*child, procs)
	for i := range cs {
		c := &child{cmd: childCmd(ctx, "procs", chDB+"="+path, fmt.Sprintf("%s=%d %d %d", chArg, i, rounds, gs))}
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.stderr
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cs[i] = c
	}
	acks := map[[2]int][]string{} // (process, goroutine) → ids in order
	total, waits := 0, 0
	for i, c := range cs {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v: %s", i, err, c.stderr.String())
		}
		for line := range strings.Lines(c.out.String()) {
			var g, w int
			var id string
			if _, err := fmt.Sscanf(line, ackPrefix+"%d %s", &g, &id); err == nil {
				acks[[2]int{i, g}] = append(acks[[2]int{i, g}], id)
				total++
			} else if _, err := fmt.Sscanf(line, "waits %d", &w); err == nil {
				waits += w
			}
		}
	}
	if want := procs * rounds * gs * 5; total != want {
		t.Fatalf("%d appends acknowledged, want %d", total, want)
	}
	db := must(clinic.Open(path, ledger.Options{ReadOnly: true}))
	defer db.Close()
	res, err := db.Verify()
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	// One entry pins the catalog (whichever process created the ledger),
	// then one per acknowledged append.
	if res.Entries != int64(total)+1 {
		t.Errorf("%d entries for %d acknowledged appends and the catalog pinned", res.Entries, total)
	}
	if cats := must(db.Catalogs(bg)); len(cats) != 1 || cats[0].Seq != 0 {
		t.Errorf("catalogs pinned: %d, want 1 at entry 0", len(cats))
	}
	seqs := map[int64]string{}
	for who, ids := range acks {
		last := int64(-1)
		for _, id := range ids {
			inc, err := db.Prove(id)
			if err != nil {
				t.Errorf("process %d goroutine %d: acknowledged %s: %v", who[0], who[1], id, err)
				continue
			}
			if other, dup := seqs[inc.Entry.Seq]; dup {
				t.Errorf("%s and %s share seq %d", other, id, inc.Entry.Seq)
			}
			seqs[inc.Entry.Seq] = id
			if inc.Entry.Seq <= last {
				t.Errorf("process %d goroutine %d: seq %d after %d", who[0], who[1], inc.Entry.Seq, last)
			}
			last = inc.Entry.Seq
		}
	}
	t.Logf("FIGURES processes: %d processes × %d goroutines × %d open-append-close rounds; %d acknowledged, %d entries, %d lock timeouts retried, %d checkpoints; lost 0 of %d; %v",
		procs, gs, rounds, total, res.Entries, waits, res.Checkpoints, len(seqs), time.Since(begin).Round(time.Millisecond))
}

// ---------------------------------------------------------------------------
// 3. A damaged file.

// fixture is a ledger of courses courses, written once per test binary run
// and copied for each damage.
var fixture struct {
	once sync.Once
	dir  string
	n    int64
	root string
	err  error
}

func chaosFixture(t *testing.T) (path string, n int64, root string) {
	t.Helper()
	fixture.once.Do(func() {
		fixture.dir, fixture.err = os.MkdirTemp("", "chaos-fixture")
		if fixture.err != nil {
			return
		}
		db, err := clinic.Create(as("clerk"), filepath.Join(fixture.dir, "f.db"), ledger.Options{Now: chaosClock, NoSync: true}, nil)
		if err != nil {
			fixture.err = err
			return
		}
		defer db.Close()
		err = db.Import(100, func() error {
			for i := range 50 {
				for _, step := range course(fmt.Sprintf("C-%05d", i), fmt.Sprintf("PC-%05d", i)) {
					if _, err := step(db); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			fixture.err = err
			return
		}
		// A few single appends, so the file holds freed pages too.
		for i := range 10 {
			if _, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: fmt.Sprintf("F-%d", i), Name: "Patient"}); err != nil {
				fixture.err = err
				return
			}
		}
		res, err := db.Verify()
		fixture.n, fixture.root, fixture.err = res.Entries, hex.EncodeToString(res.Tree.Hash[:]), err
	})
	if fixture.err != nil {
		t.Fatalf("fixture: %v", fixture.err)
	}
	return filepath.Join(fixture.dir, "f.db"), fixture.n, fixture.root
}

// layout is where things are in a ledger file, found with bbolt itself.
type layout struct {
	pageSize   int
	size       int64
	newerMeta  int              // the meta page with the higher txid
	bucketRoot map[string]int   // bucket → root page
	branch     map[string]int   // bucket → its root page when that is a branch page
	leaf       map[string]int   // bucket → a leaf page holding its middle key
	rootPage   int              // the root bucket's page (the bucket directory)
	freelist   int              // the free list page
	free       int              // a free page
	types      map[string][]int // page type → pages
}

func fileLayout(t *testing.T, path string) layout {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second}) // read-write: loads the free list
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	l := layout{pageSize: b.Info().PageSize, bucketRoot: map[string]int{}, branch: map[string]int{}, leaf: map[string]int{}, types: map[string][]int{}}
	err = b.View(func(tx *bolt.Tx) error {
		l.size = tx.Size()
		l.rootPage = int(tx.Cursor().Bucket().Root())
		for id := 2; id < int(tx.Size())/l.pageSize; {
			info, err := tx.Page(id)
			if err != nil || info == nil {
				return fmt.Errorf("page %d: %v", id, err)
			}
			l.types[info.Type] = append(l.types[info.Type], id)
			if info.Type == "free" {
				id++
			} else {
				id += 1 + info.OverflowCount
			}
		}
		for _, name := range []string{"entries", "hashes", "checkpoints", "ids", "by_patient", "by_date"} {
			bk := tx.Bucket([]byte(name))
			root := int(bk.Root())
			l.bucketRoot[name] = root
			if info, _ := tx.Page(root); info != nil && info.Type == "branch" {
				l.branch[name] = root
			}
			// The middle key's page, found from where bbolt maps its bytes.
			n := bk.Stats().KeyN
			c := bk.Cursor()
			k, _ := c.First()
			for range n / 2 {
				k, _ = c.Next()
			}
			l.leaf[name] = int((uintptr(unsafe.Pointer(&k[0])) - b.Info().Data) / uintptr(l.pageSize))
			if info, _ := tx.Page(l.leaf[name]); info == nil || info.Type != "leaf" {
				return fmt.Errorf("bucket %s: middle key on page %d, not a leaf", name, l.leaf[name])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l.freelist = l.types["freelist"][0]
	if len(l.types["free"]) == 0 {
		t.Fatal("the fixture has no free page")
	}
	l.free = l.types["free"][len(l.types["free"])/2]
	f := must(os.Open(path))
	defer f.Close()
	var txid [2]uint64
	for i := range 2 {
		buf := make([]byte, 8)
		must(f.ReadAt(buf, int64(i*l.pageSize+16+48)))
		txid[i] = binary.NativeEndian.Uint64(buf)
	}
	if txid[1] > txid[0] {
		l.newerMeta = 1
	}
	return l
}

// damage is one way a ledger file or its key is damaged.
type damage struct {
	name    string
	control bool // not damage to anything in use: must still verify, the same
	key     bool // damage to the private key only: verify (with LEDGER.pub) as control, the append refused
	apply   func(t *testing.T, path string, l layout, rng *rand.Rand)
}

func truncateTo(size func(l layout) int64) func(*testing.T, string, layout, *rand.Rand) {
	return func(t *testing.T, path string, l layout, _ *rand.Rand) {
		if err := os.Truncate(path, size(l)); err != nil {
			t.Fatal(err)
		}
	}
}

// overwrite fills page with zeros or random bytes; keepHeader keeps its
// 16-byte header (id, type, count), so bbolt takes the garbage for content.
func overwrite(page func(l layout) int, garbage, keepHeader bool) func(*testing.T, string, layout, *rand.Rand) {
	return func(t *testing.T, path string, l layout, rng *rand.Rand) {
		buf := make([]byte, l.pageSize)
		if garbage {
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
		}
		from := 0
		if keepHeader {
			from = 16
		}
		f := must(os.OpenFile(path, os.O_RDWR, 0))
		defer f.Close()
		if _, err := f.WriteAt(buf[from:], int64(page(l)*l.pageSize+from)); err != nil {
			t.Fatal(err)
		}
	}
}

func keyDamage(suffix string, fn func(b []byte) []byte) func(*testing.T, string, layout, *rand.Rand) {
	return func(t *testing.T, path string, _ layout, _ *rand.Rand) {
		if err := os.WriteFile(path+suffix, fn(must(os.ReadFile(path+suffix))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

var damages = []damage{
	{name: "truncated to 0", apply: truncateTo(func(l layout) int64 { return 0 })},
	{name: "truncated to one page", apply: truncateTo(func(l layout) int64 { return int64(l.pageSize) })},
	{name: "truncated to half", apply: truncateTo(func(l layout) int64 { return l.size / 2 })},
	{name: "truncated one page short", apply: truncateTo(func(l layout) int64 { return l.size - int64(l.pageSize) })},
	{name: "truncated mid-page", apply: truncateTo(func(l layout) int64 { return l.size - int64(l.pageSize) - 1234 })},
	{name: "meta page 0 zeroed", apply: overwrite(func(l layout) int { return 0 }, false, false)},
	{name: "meta page 1 zeroed", apply: overwrite(func(l layout) int { return 1 }, false, false)},
	{name: "newer meta page garbage", apply: overwrite(func(l layout) int { return l.newerMeta }, true, false)},
	{name: "both meta pages zeroed", apply: func(t *testing.T, path string, l layout, rng *rand.Rand) {
		overwrite(func(l layout) int { return 0 }, false, false)(t, path, l, rng)
		overwrite(func(l layout) int { return 1 }, false, false)(t, path, l, rng)
	}},
	{name: "bucket directory page zeroed", apply: overwrite(func(l layout) int { return l.rootPage }, false, false)},
	{name: "free list page zeroed", apply: overwrite(func(l layout) int { return l.freelist }, false, false)},
	{name: "free list page garbage", apply: overwrite(func(l layout) int { return l.freelist }, true, false)},
	{name: "entries branch page zeroed", apply: overwrite(func(l layout) int { return l.branch["entries"] }, false, false)},
	{name: "entries branch page garbage", apply: overwrite(func(l layout) int { return l.branch["entries"] }, true, false)},
	{name: "entries branch page garbage, header kept", apply: overwrite(func(l layout) int { return l.branch["entries"] }, true, true)},
	{name: "entries leaf page zeroed", apply: overwrite(func(l layout) int { return l.leaf["entries"] }, false, false)},
	{name: "entries leaf page garbage", apply: overwrite(func(l layout) int { return l.leaf["entries"] }, true, false)},
	{name: "entries leaf page garbage, header kept", apply: overwrite(func(l layout) int { return l.leaf["entries"] }, true, true)},
	{name: "hashes leaf page zeroed", apply: overwrite(func(l layout) int { return l.leaf["hashes"] }, false, false)},
	{name: "hashes leaf page garbage, header kept", apply: overwrite(func(l layout) int { return l.leaf["hashes"] }, true, true)},
	{name: "checkpoints leaf page zeroed", apply: overwrite(func(l layout) int { return l.leaf["checkpoints"] }, false, false)},
	{name: "ids index leaf page zeroed", apply: overwrite(func(l layout) int { return l.leaf["ids"] }, false, false)},
	{name: "ids index leaf page garbage, header kept", apply: overwrite(func(l layout) int { return l.leaf["ids"] }, true, true)},
	{name: "by_patient index leaf page garbage", apply: overwrite(func(l layout) int { return l.leaf["by_patient"] }, true, false)},
	{name: "by_date index leaf page zeroed", apply: overwrite(func(l layout) int { return l.leaf["by_date"] }, false, false)},
	{name: "a free page garbage (control)", control: true, apply: overwrite(func(l layout) int { return l.free }, true, false)},
	{name: "key file truncated to half", key: true, apply: keyDamage(".key", func(b []byte) []byte { return b[:len(b)/2] })},
	{name: "key file empty", key: true, apply: keyDamage(".key", func(b []byte) []byte { return nil })},
	{name: "key file zeroed", key: true, apply: keyDamage(".key", func(b []byte) []byte { return make([]byte, len(b)) })},
	{name: "key file, verifier line cut", key: true, apply: keyDamage(".key", func(b []byte) []byte { return b[:bytes.IndexByte(b, '\n')+10] })},
	{name: "public key truncated to half", apply: keyDamage(".pub", func(b []byte) []byte { return b[:len(b)/2] })},
	{name: "public key empty", apply: keyDamage(".pub", func(b []byte) []byte { return nil })},
}

// childDamaged is the child of TestChaosCorruption, doing on a damaged
// ledger what the command line does: verify (read-only open, Verify), an
// append (read-write open, AddPatient) on a second copy, and the views.
// Each step's outcome is one line, printed before the next step begins, so
// a step that crashes the process is seen.
func childDamaged(path, appendPath string) {
	outcome := func(step string, err error, ok string) {
		if err != nil {
			say("%s error %s %s", step, pumpledger.ErrorCode(err), pumpledger.ErrorMessage(err))
		} else {
			say("%s ok %s", step, ok)
		}
	}
	db, err := clinic.Open(path, ledger.Options{ReadOnly: true})
	if err == nil {
		var res ledger.VerifyResult
		res, err = db.Verify()
		db.Close()
		outcome("verify", err, fmt.Sprintf("%d %s", res.Entries, hex.EncodeToString(res.Tree.Hash[:])))
	} else {
		outcome("verify", err, "")
	}
	db, err = clinic.Open(appendPath, ledger.Options{Now: chaosClock})
	if err == nil {
		_, err = db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "NEW-1", Name: "New Patient"})
		db.Close()
	}
	outcome("append", err, "")
	db, err = clinic.Open(path, ledger.Options{ReadOnly: true})
	if err == nil {
		_, err = db.History(bg, "C-00025")
		if err == nil {
			_, err = db.Bill(bg, "2000-01-01", "2100-01-01")
		}
		db.Close()
	}
	outcome("views", err, "")
}

// TestChaosCorruption damages a copy of a ledger (and its key) in each way
// of damages and runs the command line's verify, an append and the views on
// it in a child process. Verify must refuse every damage to something in
// use with a plain EINVALID sentence (exit status 1), never panic, crash or
// hang, and never report ok for a file whose entries differ; the append
// must not panic or crash either. The control (a free page overwritten)
// must verify, unchanged. It would catch a bbolt panic or fault escaping
// Open, Verify or an append, a damage Verify passes over, and a message
// that is not a sentence (an "Internal error").
func TestChaosCorruption(t *testing.T) {
	begin := time.Now()
	src, n, root := chaosFixture(t)
	l := fileLayout(t, src)
	t.Logf("fixture: %d entries, %d bytes, %d pages: %d branch, %d leaf, %d free; newer meta %d; free list page %d",
		n, l.size, l.size/int64(l.pageSize), len(l.types["branch"]), len(l.types["leaf"]), len(l.types["free"]), l.newerMeta, l.freelist)
	for _, name := range []string{"entries", "hashes", "checkpoints", "ids", "by_patient", "by_date"} {
		t.Logf("  %-12s root page %d (branch: %v), middle leaf page %d", name, l.bucketRoot[name], l.branch[name] != 0, l.leaf[name])
	}
	if l.branch["entries"] == 0 {
		t.Fatal("the fixture's entries fit one page: no branch page to damage")
	}
	chaosRNG(t, 0) // logs the seed
	var mu sync.Mutex
	var views []string
	t.Cleanup(func() { // after the parallel subtests
		if len(views) > 0 {
			// Every view is guarded (ledger.guard): a damaged page is an
			// error naming the file, never a panic or an internal error.
			t.Errorf("the views (History, Bill) panicked or failed with an internal error on: %s", strings.Join(views, "; "))
		}
		t.Logf("FIGURES corruption: %d damages, %v", len(damages), time.Since(begin).Round(time.Millisecond))
	})
	for i, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(*chaosSeed, uint64(i)))
			dir := t.TempDir()
			vpath, apath := filepath.Join(dir, "v.db"), filepath.Join(dir, "a.db")
			for _, p := range []string{vpath, apath} {
				for _, suffix := range []string{"", ".key", ".pub"} {
					if err := os.WriteFile(p+suffix, must(os.ReadFile(src+suffix)), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				d.apply(t, p, l, rng)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := childCmd(ctx, "damaged", chDB+"="+vpath, chArg+"="+apath)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			got := map[string]string{}
			for line := range strings.Lines(string(out)) {
				step, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
				got[step] = rest
			}
			crash := ""
			if err != nil {
				crash = fmt.Sprintf("%v: %s", err, firstLines(stderr.String(), 4))
			}
			t.Logf("verify: %s", got["verify"])
			t.Logf("append: %s", got["append"])
			t.Logf("views:  %s", orCrash(got["views"], crash))
			if v, ok := got["views"]; !ok || strings.HasPrefix(v, "error internal") {
				mu.Lock()
				views = append(views, d.name)
				mu.Unlock()
			}
			verify, ok := got["verify"]
			switch {
			case !ok:
				t.Fatalf("verify crashed the process: %s", crash)
			case d.control || d.key:
				if verify != fmt.Sprintf("ok %d %s", n, root) {
					t.Errorf("a damaged free page: verify %q, want ok with %d entries and root %s", verify, n, root)
				}
			case strings.HasPrefix(verify, "ok "):
				if verify != fmt.Sprintf("ok %d %s", n, root) {
					t.Errorf("WRONG ANSWER: verify %q of a damaged file whose tree was %d entries, root %s", verify, n, root)
				} else {
					t.Errorf("verify passed over the damage: %q", verify)
				}
			case !strings.HasPrefix(verify, "error invalid "):
				t.Errorf("verify: %q, want an invalid-input sentence", verify)
			}
			if a, ok := got["append"]; !ok {
				t.Errorf("the append crashed the process: %s", crash)
			} else if strings.HasPrefix(a, "error internal") {
				t.Errorf("append: %q, want a plain sentence", a)
			} else if d.key && !strings.HasPrefix(a, "error invalid ") {
				t.Errorf("append with a damaged private key: %q, want refused", a)
			}
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], " | ")
}

func orCrash(s, crash string) string {
	if s == "" {
		return "CRASHED: " + crash
	}
	return s
}

// ---------------------------------------------------------------------------
// 4. A full disk, simulated with RLIMIT_FSIZE: writes past the limit fail
// with EFBIG (Go's runtime does not die of SIGXFSZ).

// childFull appends until three appends in a row are refused (each refusal
// retried: a clinic would retry), then verifies in the same process. With a
// limit, it first sets RLIMIT_FSIZE to it. A retried append that turns out
// to be recorded already (Existing) says "existing": its refusal was a lie.
func childFull(path, arg string) {
	if arg != "" {
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &rl); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		rl.Cur = must(strconv.ParseUint(arg, 10, 64))
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &rl); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	db, err := clinic.Open(path, ledger.Options{Now: chaosClock})
	if err != nil {
		say("refused %s %s", pumpledger.ErrorCode(err), pumpledger.ErrorMessage(err))
		return
	}
	defer db.Close()
	var steps []func(*clinic.Service) (clinic.Result, error)
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i, refused, acks := 0, 0, 0; refused < 3 && acks < 2000; {
		if len(steps) == 0 {
			steps = course(fmt.Sprintf("D-%s-%04d", tag, i), fmt.Sprintf("PD-%s-%04d", tag, i))
			i++
		}
		res, err := steps[0](db)
		switch {
		case err != nil:
			say("refused %s %s", pumpledger.ErrorCode(err), pumpledger.ErrorMessage(err))
			refused++
			continue
		case res.Existing && refused > 0:
			say("existing %s", res.Entry.ID)
		default:
			say("%s%s", ackPrefix, res.Entry.ID)
		}
		refused, acks, steps = 0, acks+1, steps[1:]
	}
	res, err := db.Verify()
	if err != nil {
		say("verify error %s", pumpledger.ErrorMessage(err))
	} else {
		say("verify ok %d", res.Entries)
	}
}

// TestChaosDiskFull runs a writer with little room left, several times over
// one ledger, in two ways: under a file size limit (RLIMIT_FSIZE) a little
// above the ledger's size, where bbolt's growing of the file fails with
// EFBIG; and, in long mode when run as root, on a small tmpfs that fills up,
// where bbolt's page writes fail with ENOSPC in the middle of a commit (as
// on a real full disk: growing a file is sparse and succeeds). Each time,
// the writer's appends are refused once there is no room, in a plain
// sentence saying so, without a panic or a hang; its retries of a refused
// append are not found already recorded; the ledger verifies, in the writer
// and after it; it holds every acknowledged append and nothing refused (the
// size is exactly the acknowledgements); and it takes appends again once
// there is room. It would catch a write error surfacing as a panic or a
// bare "file too large", a refused append recorded whole or in part, or
// bbolt's state after a failed commit corrupting the appends after it.
func TestChaosDiskFull(t *testing.T) {
	rounds := 3
	if *chaosLong {
		rounds = 20
	}
	t.Run("RLIMIT_FSIZE", func(t *testing.T) {
		rng := chaosRNG(t, 0xf011)
		path := filepath.Join(t.TempDir(), "full.db")
		// bbolt grows the file by doubling it: every other round, room for
		// one doubling (up to 1 MB), so that the appends fill it first.
		round := 0
		fullDiskRounds(t, path, rounds, func(size int64) string {
			limit := size + int64(rng.IntN(96<<10))
			if round++; round%2 == 1 && size < 1<<20 {
				limit += size
			}
			return strconv.FormatInt(limit, 10)
		})
	})
	t.Run("ENOSPC on tmpfs", func(t *testing.T) {
		if !*chaosLong || os.Geteuid() != 0 {
			t.Skip("long mode, as root: mounts a tmpfs")
		}
		rng := chaosRNG(t, 0xe05bc)
		dir := t.TempDir()
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
			t.Skipf("cannot mount a tmpfs: %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, 0) })
		fullDiskRounds(t, filepath.Join(dir, "full.db"), rounds, func(int64) string {
			var st syscall.Statfs_t
			if err := syscall.Statfs(dir, &st); err != nil {
				t.Fatal(err)
			}
			used := int64(st.Blocks-st.Bfree) * st.Bsize
			if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, fmt.Sprintf("size=%d", used+int64(4096+rng.IntN(96<<10)))); err != nil {
				t.Fatal(err)
			}
			return ""
		})
	})
}

// fullDiskRounds runs the writer of TestChaosDiskFull rounds times on path,
// with room made by room (given the file's size; it returns the writer's
// RLIMIT_FSIZE, or "" for none), and checks the ledger after each.
func fullDiskRounds(t *testing.T, path string, rounds int, room func(size int64) string) {
	begin := time.Now()
	db := must(clinic.Create(as("clerk"), path, ledger.Options{Now: chaosClock}, nil))
	seed(t, db)
	entries := must(db.Size())
	db.Close()
	if entries != 6 {
		t.Fatalf("%d entries after seed, want 6 (the catalog pinned, then seed's five)", entries)
	}
	var acked []string
	refusals, openRefusals := 0, 0
	for round := range rounds {
		size := must(os.Stat(path)).Size()
		limit := room(size)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := childCmd(ctx, "full", chDB+"="+path, chArg+"="+limit)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("round %d (limit %q, file %d): the writer failed: %v: %s", round, limit, size, err, firstLines(stderr.String(), 6))
		}
		var got []string
		refused, verified := 0, ""
		for line := range strings.Lines(string(out)) {
			line = strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, ackPrefix):
				got = append(got, strings.TrimPrefix(line, ackPrefix))
			case strings.HasPrefix(line, "existing "):
				t.Errorf("round %d: an append refused was recorded after all: %s", round, line)
			case strings.HasPrefix(line, "refused "):
				refused++
				if !strings.Contains(line, "disk full or file too large") || !strings.Contains(line, "nothing was recorded") {
					t.Errorf("round %d: refusal %q does not say the disk is full", round, line)
				}
				if refused == 1 && (round == 0 || testing.Verbose() && round < 3) {
					t.Logf("round %d: limit %q, file %d: %s", round, limit, size, line)
				}
			case strings.HasPrefix(line, "verify "):
				verified = line
			}
		}
		if refused == 0 {
			t.Errorf("round %d: no append refused (limit %q)", round, limit)
		}
		if len(got) == 0 && verified == "" {
			openRefusals++
		} else if verified != fmt.Sprintf("verify ok %d", entries+int64(len(got))) {
			t.Errorf("round %d: in the writer, after the refusals: %q, want ok with %d entries", round, verified, entries+int64(len(got)))
		}
		refusals += refused
		acked = append(acked, got...)
		entries += int64(len(got))

		db := must(clinic.Open(path, ledger.Options{ReadOnly: true}))
		res, err := db.Verify()
		if err != nil {
			t.Fatalf("round %d: verify after the full disk: %v", round, err)
		}
		if res.Entries != entries {
			t.Errorf("round %d: %d entries, want %d (acknowledged)", round, res.Entries, entries)
		}
		for _, id := range got {
			if _, err := db.Prove(id); err != nil {
				t.Errorf("round %d: acknowledged %s: %v", round, id, err)
			}
		}
		db.Close()
	}
	room(must(os.Stat(path)).Size() + 1<<20)
	db = must(clinic.Open(path, ledger.Options{Now: chaosClock}))
	defer db.Close()
	if _, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "ROOM", Name: "Room Again"}); err != nil {
		t.Errorf("an append once there is room: %v", err)
	}
	t.Logf("FIGURES disk full (%s): %d rounds, %d appends acknowledged and all present, %d refusals (%d at open), none recorded; %v",
		t.Name(), rounds, len(acked), refusals, openRefusals, time.Since(begin).Round(time.Millisecond))
}
