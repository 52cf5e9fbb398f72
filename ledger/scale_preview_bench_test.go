package ledger_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/web"
)

// The refill form's live preview at scale (issue 13): POST
// /api/refill?dry_run=1 by 20 clients at once, each a signed-in nurse's
// page asking as fields change, on a copy of the n-entry ledger held as
// serve holds it. It reports the latency's p50 and p99 (goal: p99 under
// 50 ms) beside `refill --dry-run` in-process on the same ledger, one at a
// time (its median: baseline-ns/op, and x-baseline = p50 / that), the
// cost of the use case with no HTTP, session, queue or JSON of a request.
//
//	go test ./ledger -run '^$' -bench ScalePreview -scale.sizes 100000
func BenchmarkScalePreview(b *testing.B) {
	for _, n := range scaleSizesList(b) {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) { benchScalePreview(b, n) })
	}
}

const previewClients = 20

func benchScalePreview(b *testing.B, n int) {
	l := scaleFixture(b, n)
	path := copyLedger(b, l.path, filepath.Join(b.TempDir(), "served.db"))
	db := openScale(b, path, ledger.Options{Batch: true})
	defer db.Close()
	// A refill of each pump after its latest visit: the form's usual case.
	// A preview writes nothing, so each may be previewed again and again.
	mk := refillMaker(b, appendPumps(b, db, l), false)
	var bodies [][]byte
	for range len(l.serials) {
		body, err := json.Marshal(mk())
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}

	const pw = "preview benchmark password"
	users := web.UsersPath(path)
	if err := web.AddUser(users, "nurse1", pumpledger.RoleNurse, []byte(pw)); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Config{Ledger: db, UsersPath: users}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: previewClients}, Timeout: time.Minute}
	resp, err := client.Post(srv.URL+"/api/login", "application/json", bytes.NewReader([]byte(`{"name":"nurse1","password":"`+pw+`"}`)))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusOK || len(cookies) == 0 {
		b.Fatalf("sign-in: %d, %d cookies", resp.StatusCode, len(cookies))
	}
	preview := func(body []byte) error {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/refill?dry_run=1", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(cookies[0])
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("preview: %d %s", resp.StatusCode, out)
		}
		return nil
	}
	// Warm: the connections, and the pumps' state the first preview reads.
	for _, body := range bodies {
		if err := preview(body); err != nil {
			b.Fatal(err)
		}
	}

	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	var next atomic.Int64
	var failed atomic.Pointer[error]
	b.ResetTimer()
	var wg sync.WaitGroup
	for range previewClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				start := time.Now()
				if err := preview(bodies[i%int64(len(bodies))]); err != nil {
					failed.Store(&err)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")

	// The baseline: what `refill --dry-run --json` does in-process, one
	// at a time, on the same open ledger: parse, record rolled back, encode.
	ctx := clinic.Preview(pumpledger.WithActor(bg, pumpledger.Actor{Name: "nurse1", Role: pumpledger.RoleClinic}))
	var base []time.Duration
	for i := range max(50, min(b.N, 500)) {
		start := time.Now()
		in, err := pumpledger.ParseRefill(bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			b.Fatal(err)
		}
		res, err := db.RecordRefill(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.NewEncoder(io.Discard).Encode(clinic.RefillAnswer(res, nil)); err != nil {
			b.Fatal(err)
		}
		base = append(base, time.Since(start))
	}
	med := median(base)
	b.ReportMetric(float64(med.Nanoseconds()), "baseline-ns/op")
	b.ReportMetric(float64(lat[len(lat)/2])/float64(med), "x-baseline")
}
