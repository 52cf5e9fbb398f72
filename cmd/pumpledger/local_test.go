package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// serveLocal holds the ledger of c as serve does, and listens on its
// socket, until the test ends or the returned stop is called.
func serveLocal(t *testing.T, db string) (stop func()) {
	t.Helper()
	held, err := clinic.Open(db, ledger.Options{Batch: true})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := listenLocal(db, held, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		held.Close()
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			loc.close()
			held.Close()
		}
	}
	t.Cleanup(stop)
	return stop
}

type outcomeIn struct {
	code           int
	stdout, stderr string
}

// While a server holds the ledger, every command runs through it and says
// exactly what it says on the ledger itself: reads, a dry run, a refusal
// of bad input; a refill is recorded by the caller's user; the commands
// that need the file to themselves say to stop the server; the socket is
// 0600 and gone when the server stops.
func TestThroughServer(t *testing.T) {
	t.Setenv("PUMPLEDGER_USER", "ann")
	c := newCLI(t)
	c.seed()
	dir := t.TempDir()
	fillFile := filepath.Join(dir, "fill2.json")
	os.WriteFile(fillFile, []byte(fill2), 0o600)
	cases := []struct {
		stdin string
		args  []string
	}{
		{"", []string{"history", "--mrn", "MRN-1", "--json"}},
		{"", []string{"chart", "--mrn", "MRN-1"}},
		{"", []string{"verify"}},
		{"", []string{"worklist", "--as-of", "2026-03-20"}},
		{"", []string{"bill", "--from", "2026-03-01", "--to", "2026-03-31", "--as-of", "2026-04-15"}},
		{"", []string{"check", "--from", "2026-03-01", "--to", "2026-03-31", "--as-of", "2026-04-15"}},
		{"", []string{"submissions", "--from", "2026-03-01", "--to", "2026-03-31"}},
		{"", []string{"submissions", "--from", "2026-03-01", "--to", "2026-03-31", "--json"}},
		{"", []string{"submissions", "--from", "2026-03-31", "--to", "2026-03-01"}},
		{"", []string{"catalog", "list"}},
		{"", []string{"access", "log"}},
		{"", []string{"access", "verify"}},
		{fill2, []string{"refill", "--dry-run", "--json", "--file", "-"}},
		{"", []string{"refill", "--dry-run", "--file", fillFile}},
		{`{"mrn":"MRN-1"}`, []string{"refill", "--file", "-"}},
		{"", []string{"history", "--mrn", "MRN-404"}},
		{"", []string{"history"}}, // a usage error, before any ledger
	}
	direct := make([]outcomeIn, len(cases))
	for i, tc := range cases {
		code, out, errs := c.run(tc.stdin, tc.args...)
		direct[i] = outcomeIn{code, out, errs}
	}
	n := strings.Count(c.ok("", "history", "--mrn", "MRN-1", "--json"), `"recorded_by"`)

	stop := serveLocal(t, c.db)
	fi, err := os.Stat(c.db + ".sock")
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the server's socket: %v, %v", fi, err)
	}
	// A command that waited on the server's lock instead would end with
	// the lock's refusal, not the direct run's output.
	for i, tc := range cases {
		code, out, errs := c.run(tc.stdin, tc.args...)
		if got := (outcomeIn{code, out, errs}); got != direct[i] {
			t.Errorf("pumpledger %s through the server:\n%+v\nwant, as on the ledger itself:\n%+v", strings.Join(tc.args, " "), got, direct[i])
		}
	}
	if out := c.ok(fill2, "refill", "--file", "-"); !strings.HasPrefix(out, "Recorded refill "+fill2ID) {
		t.Errorf("refill through the server: %q", out)
	}
	for _, args := range [][]string{{"upgrade"}, {"demo"}, {"serve", "--addr", "127.0.0.1:0"}} {
		code, out, errs := c.run("", args...)
		if code != 1 || out != "" || !strings.Contains(errs, "is held by `pumpledger serve`; stop the server to ") {
			t.Errorf("pumpledger %s while served: exit %d %q %q", args[0], code, out, errs)
		}
	}
	stop()
	if _, err := os.Lstat(c.db + ".sock"); !os.IsNotExist(err) {
		t.Errorf("the socket outlived the server: %v", err)
	}
	h := c.ok("", "history", "--mrn", "MRN-1", "--json")
	if strings.Count(h, `"recorded_by"`) != n+1 || strings.Count(h, `"recorded_by": "ann"`) != n+1 {
		t.Errorf("after a refill through the server, want %d entries all recorded by ann:\n%s", n+1, h)
	}
}

// A socket file a server left behind (killed) is no server: the commands
// open the ledger themselves, and the next server takes the socket's place.
func TestStaleSocket(t *testing.T) {
	c := newCLI(t)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: c.db + ".sock", Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(c.db + ".sock"); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("", "verify"); !verifyOK.MatchString(out) {
		t.Errorf("verify beside a stale socket: %q", out)
	}
	serveLocal(t, c.db)
	if out := c.ok("", "verify"); !verifyOK.MatchString(out) {
		t.Errorf("verify through a server that replaced a stale socket: %q", out)
	}
}

// A caller that sends no command, or not one the server can read, gets
// one sentence and exit 1; the server goes on serving.
func TestServerBadCaller(t *testing.T) {
	c := newCLI(t)
	serveLocal(t, c.db)
	conn, err := net.Dial("unix", c.db+".sock")
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("not json\n"))
	var stderr bytes.Buffer
	code := readAnswer(t, conn, &stderr)
	if code != 1 || !strings.HasPrefix(stderr.String(), "pumpledger: The server could not read the command") {
		t.Errorf("a bad caller: exit %d %q", code, stderr.String())
	}
	if out := c.ok("", "verify"); !verifyOK.MatchString(out) {
		t.Errorf("verify after a bad caller: %q", out)
	}
}

func readAnswer(t *testing.T, conn net.Conn, stderr io.Writer) int {
	t.Helper()
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- readFrames(bufio.NewReader(conn), io.Discard, stderr) }()
	select {
	case code := <-done:
		return code
	case <-ctx.Done():
		t.Fatal("the server did not answer")
	}
	return 0
}

// The real binary: a server started in another directory holds the
// ledger; commands run in the ledger's directory with relative paths say
// what they say on the ledger itself, record as their own user, write
// their files where they were run, and after SIGTERM the socket is gone.
func TestE2EThroughServer(t *testing.T) {
	p := newProc(t)
	p.seed()
	cases := [][]string{
		{"history", "--mrn", "MRN-1", "--json"},
		{"chart", "--mrn", "MRN-1"},
		{"refill", "--dry-run", "--file", "fill2.json"},
		{"verify"},
	}
	direct := make([]outcome, len(cases))
	for i, args := range cases {
		direct[i] = p.run("", args...)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, "--db", p.db(), "serve", "--addr", "127.0.0.1:0")
	cmd.Dir, cmd.Env = t.TempDir(), append(slices.Clone(p.env), "PUMPLEDGER_USER=server")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewReader(out)
	if first, err := lines.ReadString('\n'); err != nil || !strings.HasPrefix(first, "Serving ") {
		t.Fatalf("serve said %q, %v\n%s", first, err, errb.String())
	}
	for i, args := range cases {
		o := p.run("", args...)
		if o.code != direct[i].code || o.stdout != direct[i].stdout || o.stderr != direct[i].stderr {
			t.Errorf("pumpledger %s through the server: exit %d\n%s%s\nwant, as on the ledger itself: exit %d\n%s%s",
				strings.Join(args, " "), o.code, o.stdout, o.stderr, direct[i].code, direct[i].stdout, direct[i].stderr)
		}
	}
	if o := p.ok("", "refill", "--file", "fill2.json"); !strings.HasPrefix(o, "Recorded refill "+fill2ID) {
		t.Errorf("refill through the server: %q", o)
	}
	if o := p.ok("", "backup", "--out", "copy.db"); !strings.HasPrefix(o, "Wrote copy.db ") {
		t.Errorf("backup through the server: %q", o)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "copy.db")); err != nil {
		t.Errorf("the backup is not where the command ran: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	io.ReadAll(lines)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, errb.String())
	}
	if _, err := os.Lstat(p.db() + ".sock"); !os.IsNotExist(err) {
		t.Errorf("the socket outlived the server: %v", err)
	}
	h := p.ok("", "history", "--mrn", "MRN-1", "--json")
	if !strings.Contains(h, fill2ID) || strings.Contains(h, `"recorded_by": "server"`) {
		t.Errorf("the refill through the server is not recorded by the caller, clerk:\n%s", h)
	}
}

// demo --users adds an account for each role, with one random password
// printed once and kept only as a hash (0600); a witness signs in to the
// server with it. Beside a users file already there it refuses, before
// filling the ledger.
func TestE2EDemoUsers(t *testing.T) {
	p := newProc(t)
	out := p.ok("", "demo", "--patients", "1", "--months", "1", "--users")
	m := regexp.MustCompile(`(?m)^  nurse, witness \(nurse\), clinician, biller, auditor, admin\nall with the password (\S+) \(shown only now`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo --users names no accounts and password:\n%s", out)
	}
	users, err := os.ReadFile(p.db() + ".users")
	if err != nil || bytes.Contains(users, []byte(m[1])) || bytes.Count(users, []byte(`"name"`)) != 6 {
		t.Fatalf("the users file: %v, password kept: %v\n%s", err, bytes.Contains(users, []byte(m[1])), users)
	}
	if fi, _ := os.Stat(p.db() + ".users"); fi.Mode().Perm() != 0o600 {
		t.Errorf("the users file is %v", fi.Mode())
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := p.command(ctx, "serve", "--addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	first, _ := bufio.NewReader(stdout).ReadString('\n')
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(first)
	resp, err := http.Post(base+"/api/login", "application/json", strings.NewReader(`{"name":"witness","password":"`+m[1]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"role": "nurse"`) {
		t.Errorf("the witness signs in with the demo's password: %d %s", resp.StatusCode, body)
	}

	p.ok("", "--db", "second.db", "init")
	os.WriteFile(filepath.Join(p.dir, "second.db.users"), users, 0o600)
	if o := p.run("", "--db", "second.db", "demo", "--users"); o.code != 1 || !strings.Contains(o.stderr, "The users file second.db.users exists;") || p.count("--db", "second.db") != 1 {
		t.Errorf("demo --users beside a users file: exit %d %q; want a refusal writing nothing", o.code, o.stderr)
	}
}

// A command sent straight to the socket that needs the ledger file to
// itself is refused by the server, not run there.
func TestServerRefusesFileCommands(t *testing.T) {
	c := newCLI(t)
	serveLocal(t, c.db)
	for _, args := range []string{`["serve","--addr","127.0.0.1:0"]`, `["upgrade"]`, `["demo"]`} {
		conn, err := net.Dial("unix", c.db+".sock")
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(`{"args":` + args + `,"db":"` + c.db + `"}` + "\n"))
		conn.(*net.UnixConn).CloseWrite()
		var stderr bytes.Buffer
		// Run there, it would wait on the server's own lock and end with
		// the lock's refusal instead.
		if code := readAnswer(t, conn, &stderr); code != 1 || !strings.Contains(stderr.String(), "is held by `pumpledger serve`") {
			t.Errorf("%s sent to the server: exit %d, %q", args, code, stderr.String())
		}
	}
}

// The client's reading of the server's answer: whatever the bytes, it
// ends, and copies out no more than it was given, besides one sentence
// of its own.
func FuzzReadFrames(f *testing.F) {
	var ok bytes.Buffer
	writeFrame(&ok, frameStdout, []byte("ok: 3 entries\n"))
	writeFrame(&ok, frameStderr, []byte("warning\n"))
	writeFrame(&ok, frameExit, []byte("0"))
	f.Add(ok.Bytes())
	f.Add([]byte{frameExit, 0, 0, 0, 2, '1', '7'})
	f.Add([]byte{9, 0, 0, 0, 0})
	f.Add([]byte{frameStdout, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errs bytes.Buffer
		readFrames(bufio.NewReader(bytes.NewReader(data)), &out, &errs)
		if out.Len()+errs.Len() > len(data)+200 {
			t.Fatalf("%d bytes out of %d in", out.Len()+errs.Len(), len(data))
		}
	})
}
