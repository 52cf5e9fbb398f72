package ledger_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// 1. SIGKILL mid-append (see chaos_test.go for the modes and flags).

// childWriter is the writer process of TestChaosKill: it opens the ledger,
// says "open", then appends real courses until killed, saying "try" before
// each append and "ack ID" after it has returned.
func childWriter(path, round string) {
	db, err := clinic.Open(path, ledger.Options{Now: chaosClock})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	say("open")
	for i := 0; ; i++ {
		for _, step := range course(fmt.Sprintf("K%s-%05d", round, i), fmt.Sprintf("PK%s-%05d", round, i)) {
			say("try")
			res, err := step(db)
			if err != nil {
				fmt.Fprintln(os.Stderr, "append:", err)
				os.Exit(4)
			}
			say("%s%s", ackPrefix, res.Entry.ID)
		}
	}
}

// killed is what a writer said before its SIGKILL.
type killed struct {
	acked    []string
	opened   bool // it had opened the ledger
	inFlight bool // it had said "try" and not the "ack" after: the kill landed inside an append
}

// killWriter runs a writer on path and kills it with SIGKILL delay after its
// target-th acknowledged append (target 0: delay after it started, which may
// be before or during its open).
func killWriter(path string, round, target int, delay time.Duration) (killed, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := childCmd(ctx, "writer", chDB+"="+path, chArg+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return killed{}, err
	}
	if err := cmd.Start(); err != nil {
		return killed{}, err
	}
	var k killed
	reached, done := make(chan struct{}), make(chan struct{})
	if target == 0 {
		close(reached)
	}
	go func() {
		defer close(done)
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // a line cut by the kill (no newline) was not said
			}
			switch {
			case line == "open\n":
				k.opened = true
			case line == "try\n":
				k.inFlight = true
			case strings.HasPrefix(line, ackPrefix):
				k.acked = append(k.acked, strings.TrimSpace(strings.TrimPrefix(line, ackPrefix)))
				k.inFlight = false
				if len(k.acked) == target {
					close(reached)
				}
			}
		}
	}()
	select {
	case <-reached:
	case <-done:
		cmd.Wait()
		return k, fmt.Errorf("the writer ended by itself before %d acknowledged appends (%d): %s", target, len(k.acked), firstLines(stderr.String(), 4))
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(os.Kill); err != nil {
		return k, err
	}
	<-done
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		return k, fmt.Errorf("the writer was not killed but ended (%v): %s", err, firstLines(stderr.String(), 4))
	}
	return k, nil
}

// killDelay: no delay, or up to 0.5, 5 or 20 ms after the target
// acknowledgement. An append here takes a few ms, most of it in fsync, so
// the short ones land inside the next append's commit.
func killDelay(rng *rand.Rand) time.Duration {
	return time.Duration(rng.IntN([]int{1, 500, 5000, 20000}[rng.IntN(4)])) * time.Microsecond
}

// TestChaosKill kills a writer appending real courses (registrations,
// implants, refills, dose changes) with SIGKILL, again and again over one
// ledger: 40 times in short mode, 300 with -chaos.long, -chaos.kills=N for
// N. After each kill the ledger is reopened as `pumpledger verify` does and
// verifies, every append the writer acknowledged is in it and provable,
// and at most the one append in flight at the kill is there unacknowledged.
// It would catch a commit that is not whole or absent (Verify, or the
// reopen, fails), an acknowledged append lost (Prove fails), an append
// stored twice or one the writer never began (more entries than in flight),
// and a ledger the next writer cannot open.
func TestChaosKill(t *testing.T) {
	begin := time.Now()
	kills := *chaosKills
	if kills == 0 {
		kills = 40
		if *chaosLong {
			kills = 300
		}
	}
	rng := chaosRNG(t, 0x9e3779b97f4a7c15)
	path := filepath.Join(t.TempDir(), "kill.db")
	must(clinic.Create(as("clerk"), path, ledger.Options{}, nil)).Close()

	var acked []string
	var entries int64
	beforeOpen, inFlight, unacked, lost := 0, 0, 0, 0
	for round := 1; round <= kills; round++ {
		target, delay := rng.IntN(8), killDelay(rng)
		k, err := killWriter(path, round, target, delay)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !k.opened {
			beforeOpen++
		}
		if k.inFlight {
			inFlight++
		}
		acked = append(acked, k.acked...)
		if entries == 0 && !k.opened {
			// Killed inside the first open: the file may be absent, empty,
			// without its buckets yet, or whole with the entry pinning its
			// catalog. The next writer must manage.
			continue
		}
		db, err := clinic.Open(path, ledger.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("round %d (killed %v after ack %d): reopen: %v", round, delay, target, err)
		}
		res, err := db.Verify()
		if err != nil {
			db.Close()
			t.Fatalf("round %d (killed %v after ack %d): verify: %v", round, delay, target, err)
		}
		for _, id := range k.acked {
			if _, err := db.Prove(id); err != nil {
				lost++
				t.Errorf("round %d: acknowledged %s: %v", round, id, err)
			}
		}
		db.Close()
		extra := res.Entries - entries - int64(len(k.acked))
		if entries == 0 {
			extra-- // the open that created the ledger pinned its catalog
		}
		switch {
		case extra < 0:
			t.Errorf("round %d: %d entries, fewer than the %d before and the %d acknowledged", round, res.Entries, entries, len(k.acked))
		case extra > 1 || extra == 1 && !k.inFlight:
			t.Errorf("round %d: %d entries appended unacknowledged, but %v in flight", round, extra, k.inFlight)
		}
		unacked += int(max(extra, 0))
		entries = res.Entries
	}

	// Every acknowledged append of every round, once, and the ledger still
	// takes appends.
	db, err := clinic.Open(path, ledger.Options{Now: chaosClock})
	if err != nil {
		t.Fatalf("open after the kills: %v", err)
	}
	defer db.Close()
	seen := map[int64]bool{}
	for _, id := range acked {
		inc, err := db.Prove(id)
		if err != nil {
			continue // counted above
		}
		if seen[inc.Entry.Seq] {
			t.Errorf("two acknowledged ids at seq %d", inc.Entry.Seq)
		}
		seen[inc.Entry.Seq] = true
	}
	if _, err := db.AddPatient(as("clerk"), pumpledger.Patient{MRN: "AFTER", Name: "After The Kills"}); err != nil {
		t.Errorf("append after the kills: %v", err)
	}
	t.Logf("FIGURES kill: %d SIGKILLs (%d before the writer had opened the ledger, %d inside an append), %d entries, %d acknowledged, %d present unacknowledged, %d acknowledged lost; %v",
		kills, beforeOpen, inFlight, entries, len(acked), unacked, lost, time.Since(begin).Round(time.Millisecond))
}

// 2. SIGKILL mid-backup.

// childBackup is the backup process of TestBackupKilled: it backs the ledger
// up to out, saying "half" after the first write of the copy and then
// waiting to be killed.
func childBackup(path, out string) {
	db, err := clinic.Open(path, ledger.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	ledger.SetBackupPause(func() {
		say("half")
		time.Sleep(time.Minute)
	})
	_, err = db.BackupFile(out)
	fmt.Fprintln(os.Stderr, "backup ended:", err)
	os.Exit(4)
}

// TestBackupKilled kills a backup midway through writing its copy. Nothing
// is left at --out, where before a truncated copy was, to be kept as a
// backup that does not open; the next backup to the same path succeeds and
// verifies with LEDGER.pub alone.
func TestBackupKilled(t *testing.T) {
	db, _, path := openTest(t)
	seed(t, db)
	db.Close()
	out := filepath.Join(t.TempDir(), "backup.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := childCmd(ctx, "backup", chDB+"="+path, chArg+"="+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe := must(cmd.StdoutPipe())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(pipe).ReadString('\n')
	if line != "half\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the backup did not reach its first write: %q, %v: %s", line, err, firstLines(stderr.String(), 4))
	}
	cmd.Process.Kill()
	cmd.Wait()
	if fi, err := os.Stat(out); err == nil {
		t.Fatalf("a killed backup left %d bytes at its --out path", fi.Size())
	}

	db = must(clinic.Open(path, ledger.Options{ReadOnly: true}))
	n := must(db.BackupFile(out))
	db.Close()
	if fi := must(os.Stat(out)); fi.Size() != n || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup: %d bytes, mode %v; reported %d, want 0600", fi.Size(), fi.Mode().Perm(), n)
	}
	if err := os.WriteFile(out+".pub", must(os.ReadFile(path+".pub")), 0o644); err != nil {
		t.Fatal(err)
	}
	bdb := must(clinic.Open(out, ledger.Options{ReadOnly: true}))
	defer bdb.Close()
	if res, err := bdb.Verify(); err != nil || res.Entries != 6 {
		t.Errorf("the backup verifies %+v, %v", res, err)
	}
}
