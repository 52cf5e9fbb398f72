package ledger_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/ledger"
)

// The writer process of TestKillWriterMidAppend.
const (
	helperDBEnv    = "PUMPLEDGER_TEST_HELPER_DB"
	helperRoundEnv = "PUMPLEDGER_TEST_HELPER_ROUND"
	ackPrefix      = "ack "
)

// TestHelperWriter is not a test: run by TestKillWriterMidAppend as a child
// process, it appends to the ledger named by the environment until killed,
// printing "ack ID" on stdout after each append has returned.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperDBEnv)
	if path == "" {
		t.Skip("the writer process of TestKillWriterMidAppend")
	}
	round := os.Getenv(helperRoundEnv)
	clock := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	db, err := ledger.Open(path, ledger.Options{Now: func() time.Time { return clock }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	ack := func(res ledger.Result, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "append:", err)
			os.Exit(4)
		}
		// One write of a short line: whole or not at all in the pipe.
		os.Stdout.WriteString(ackPrefix + res.Entry.ID + "\n")
	}
	for i := range 100000 {
		mrn := fmt.Sprintf("R%s-%05d", round, i)
		ack(db.AddPatient(pumpledger.Patient{MRN: mrn, Name: "Patient " + mrn}, "writer"))
		ack(db.Implant(pumpledger.Implant{MRN: mrn, Serial: "P" + mrn, Model: "prometra-ii-40", Date: "2026-03-01"}, "writer"))
	}
	os.Exit(5) // never reached in the test's time: the parent kills it first
}

// TestKillWriterMidAppend kills a writing process with SIGKILL at a random
// moment after a random number of acknowledged appends, several times over
// the same file. Every append acknowledged before a kill is in the ledger
// after it, and the ledger verifies: a commit is whole or absent.
// PUMPLEDGER_FAULT_SEED replays another sequence of kills.
func TestKillWriterMidAppend(t *testing.T) {
	seed := uint64(20260401)
	if s := os.Getenv("PUMPLEDGER_FAULT_SEED"); s != "" {
		seed = must(strconv.ParseUint(s, 10, 64))
	}
	t.Logf("seed %d (set PUMPLEDGER_FAULT_SEED to replay another)", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	path := filepath.Join(t.TempDir(), "fault.db")

	var acked []string
	for round := 1; round <= 5; round++ {
		target := 1 + rng.IntN(60)                                // acknowledged appends before the kill
		delay := time.Duration(rng.IntN(4000)) * time.Microsecond // then this long into what follows
		got, err := killWriter(path, round, target, delay)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		t.Logf("round %d: killed %v after ack %d; %d acknowledged in all", round, delay, target, len(got))
		acked = append(acked, got...)
	}

	db, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatalf("open after the kills: %v", err)
	}
	defer db.Close()
	res, err := db.Verify()
	if err != nil {
		t.Fatalf("verify after the kills: %v", err)
	}
	if res.Entries < int64(len(acked)) {
		t.Errorf("%d entries, but %d appends were acknowledged", res.Entries, len(acked))
	}
	seen := map[int64]bool{}
	for _, id := range acked {
		inc, err := db.Prove(id)
		if err != nil {
			t.Errorf("acknowledged entry %s: %v", id, err)
			continue
		}
		if seen[inc.Entry.Seq] {
			t.Errorf("two acknowledged ids at seq %d", inc.Entry.Seq)
		}
		seen[inc.Entry.Seq] = true
	}
	t.Logf("%d entries, %d acknowledged, %d checkpoints checked", res.Entries, len(acked), res.Checkpoints)
	// The ledger is still writable after the kills.
	if _, err := db.AddPatient(pumpledger.Patient{MRN: "AFTER", Name: "After The Kills"}, "clerk"); err != nil {
		t.Errorf("append after the kills: %v", err)
	}
}

// killWriter runs the writer process on path, kills it with SIGKILL delay
// after its target-th acknowledged append, and returns every id it
// acknowledged (those printed before it died).
func killWriter(path string, round, target int, delay time.Duration) ([]string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperDBEnv+"="+path, helperRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var acked []string
	killed := false
	r := bufio.NewReader(out)
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break // a line cut by the kill (no newline) was not acknowledged
		} else if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, err
		}
		if id, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), ackPrefix); ok {
			acked = append(acked, id)
		}
		if len(acked) == target && !killed {
			time.Sleep(delay) // let the writer get into its next append
			if err := cmd.Process.Kill(); err != nil {
				return nil, err
			}
			killed = true
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !killed || !errors.As(err, &exit) || exit.ExitCode() != -1 {
		return nil, fmt.Errorf("writer ended by itself before %d acknowledged appends (%d; %v): %s", target, len(acked), err, stderr.String())
	}
	return acked, nil
}
