package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
)

// While `pumpledger serve` holds a ledger (bbolt lets one process hold the
// file), the other commands run through it: the server also listens on a
// Unix socket beside the ledger, LEDGER.sock, mode 0600, and a command that
// finds the socket answering sends it its command line, working directory,
// user and standard input; the server runs that same command line against
// the ledger it holds and streams back what it prints and its exit status.
// So every command works through the server with nothing of its own to
// declare. Whoever may connect to the socket may open the ledger file
// itself: the file's permission is the authentication.

// sockPath is the server's socket beside the ledger at path, symlinks
// resolved so that every name of the ledger finds it.
func sockPath(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	return path + ".sock"
}

// caller is what a command sends the server: how it was called.
type caller struct {
	Args []string `json:"args"`
	Dir  string   `json:"dir"`  // its working directory: relative paths are the caller's
	DB   string   `json:"db"`   // its default ledger path (ledger.DefaultPath)
	User string   `json:"user"` // its default user (ledger.DefaultUser)
	// UserFromEnv: User came from $PUMPLEDGER_USER (a refusal names it).
	UserFromEnv bool `json:"user_from_env"`
}

// maxCaller bounds the caller line the server reads: a command line.
const maxCaller = 1 << 20

// The server's answer is frames: a kind byte, a 4-byte big-endian length
// and that many bytes; the exit frame's are the status in decimal.
const (
	frameStdout = 1
	frameStderr = 2
	frameExit   = 3
)

// errServed is returned by open when a server holds the ledger: run then
// sends the whole command line to it (forward).
type errServed struct{ conn *net.UnixConn }

func (e *errServed) Error() string { return "the ledger is held by a server" }

// server dials the server holding the ledger at a.dbPath: nil when there
// is none, or only a socket file a server left behind (a stale socket is
// no server: the command opens the ledger itself).
func (a *app) server() *net.UnixConn {
	if a.held != nil {
		return nil
	}
	c, err := net.DialTimeout("unix", sockPath(a.dbPath), time.Second)
	if err != nil {
		return nil
	}
	return c.(*net.UnixConn)
}

// notServed refuses a command that must have the ledger file to itself
// (upgrade, demo, serve) while a server holds it, and in the server, sent
// by a caller that did not find it so.
func (a *app) notServed(what string) error {
	if a.held == nil {
		c := a.server()
		if c == nil {
			return nil
		}
		c.Close()
	}
	return pumpledger.Errorf(pumpledger.ECONFLICT, "The ledger %s is held by `pumpledger serve`; stop the server to %s.", a.dbPath, what)
}

// stdinRecorder keeps what a command read of its standard input before it
// found the ledger held by a server, for the server to read it again.
type stdinRecorder struct {
	r    io.Reader
	read []byte
	eof  bool // read to its end: a terminal is not asked for more
}

func (s *stdinRecorder) Read(p []byte) (int, error) {
	if s.eof {
		return 0, io.EOF
	}
	n, err := s.r.Read(p)
	s.read = append(s.read, p[:n]...)
	s.eof = err == io.EOF
	return n, err
}

// rest is the whole of standard input again: what was read, then what
// was not.
func (s *stdinRecorder) rest() io.Reader {
	if s.eof {
		return bytes.NewReader(s.read)
	}
	return io.MultiReader(bytes.NewReader(s.read), s.r)
}

// forward runs the command line args in the server at the other end of c:
// it sends who calls and its standard input, copies what the server prints
// to stdout and stderr, and returns the command's exit status.
func forward(c *net.UnixConn, args []string, in *stdinRecorder, stdout, stderr io.Writer) int {
	defer c.Close()
	who := caller{Args: args, DB: ledger.DefaultPath(), User: ledger.DefaultUser(), UserFromEnv: os.Getenv("PUMPLEDGER_USER") != ""}
	who.Dir, _ = os.Getwd()
	line, err := json.Marshal(who)
	if err != nil {
		fmt.Fprintf(stderr, "pumpledger: %v\n", err)
		return 1
	}
	if _, err := c.Write(append(line, '\n')); err != nil {
		fmt.Fprintf(stderr, "pumpledger: The server holding the ledger did not take the command (%v); try again.\n", err)
		return 1
	}
	// Standard input is sent as it comes: the server reads what the
	// command reads, and stops taking it when the command ends.
	go func() {
		io.Copy(c, in.rest())
		c.CloseWrite()
	}()
	return readFrames(bufio.NewReader(c), stdout, stderr)
}

// readFrames copies the server's answer to stdout and stderr and returns
// the exit status it ends with.
func readFrames(r *bufio.Reader, stdout, stderr io.Writer) int {
	var head [5]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			fmt.Fprintf(stderr, "pumpledger: The server holding the ledger stopped before the command ended (%v); check with `pumpledger verify` once it is gone.\n", err)
			return 1
		}
		n := binary.BigEndian.Uint32(head[1:])
		if n > 1<<24 {
			fmt.Fprintf(stderr, "pumpledger: The server holding the ledger sent a frame of %d bytes; is it a pumpledger server?\n", n)
			return 1
		}
		switch head[0] {
		case frameStdout, frameStderr:
			w := stdout
			if head[0] == frameStderr {
				w = stderr
			}
			if _, err := io.CopyN(w, r, int64(n)); err != nil {
				return 1
			}
		case frameExit:
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return 1
			}
			code, err := strconv.Atoi(string(b))
			if err != nil {
				return 1
			}
			return code
		default:
			fmt.Fprintf(stderr, "pumpledger: The server holding the ledger sent a frame of kind %d; is it a pumpledger server?\n", head[0])
			return 1
		}
	}
}

// frames writes one stream of the answer; the mutex is the connection's.
type frames struct {
	mu   *sync.Mutex
	w    io.Writer
	kind byte
}

func (f frames) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for rest := p; len(rest) > 0; {
		chunk := rest[:min(len(rest), 1<<20)]
		if err := writeFrame(f.w, f.kind, chunk); err != nil {
			return len(p) - len(rest), err
		}
		rest = rest[len(chunk):]
	}
	return len(p), nil
}

func writeFrame(w io.Writer, kind byte, b []byte) error {
	var head [5]byte
	head[0] = kind
	binary.BigEndian.PutUint32(head[1:], uint32(len(b)))
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// local is the server's side: the socket and the ledger it holds.
type local struct {
	ln   *net.UnixListener
	path string
	db   clinic.Ledger
	log  *slog.Logger
	wg   sync.WaitGroup
}

// listenLocal listens on the socket beside the ledger at dbPath. A socket
// file there is one a server left behind: this process holds the ledger's
// lock, so no other server is serving it. The socket is made under a
// private name, made 0600 and then renamed into place, so it is never
// reachable with a wider mode.
func listenLocal(dbPath string, db clinic.Ledger, log *slog.Logger) (*local, error) {
	path := sockPath(dbPath)
	// Made inside a directory of its own, 0700, then set to 0600 and moved
	// into place: nobody else can reach it under a wider mode, whatever
	// the umask, even for the moment between its making and its chmod.
	dir, err := os.MkdirTemp(filepath.Dir(path), ".pumpledger-sock-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false)
	if err = os.Chmod(tmp, 0o600); err == nil {
		os.Remove(path)
		err = os.Rename(tmp, path)
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	l := &local{ln: ln, path: path, db: db, log: log}
	l.wg.Add(1)
	go l.accept()
	return l, nil
}

func (l *local) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.AcceptUnix()
		if err != nil {
			return // closed
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.handle(c)
		}()
	}
}

// close stops taking commands, lets those under way finish and removes
// the socket.
func (l *local) close() {
	l.ln.Close()
	os.Remove(l.path)
	l.wg.Wait()
}

// handle runs one command line sent by a command, as that command would
// have run it, against the ledger held.
func (l *local) handle(c *net.UnixConn) {
	defer c.Close()
	// A caller that never says who it is is not waited on for ever.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(io.LimitReader(c, maxCaller))
	line, err := r.ReadBytes('\n')
	c.SetReadDeadline(time.Time{})
	var who caller
	if err == nil {
		err = json.Unmarshal(line, &who)
	}
	mu := new(sync.Mutex)
	stderr := frames{mu, c, frameStderr}
	code := 1
	defer func() { writeFrame(c, frameExit, []byte(strconv.Itoa(code))) }()
	if err != nil {
		fmt.Fprintf(stderr, "pumpledger: The server could not read the command (%v).\n", err)
		return
	}
	// Past the caller line, the rest of the connection is its stdin.
	stdin := io.MultiReader(r, c)
	a := &app{stdin: stdin, stdout: frames{mu, c, frameStdout}, stderr: stderr, from: &who, held: l.db}
	defer func() {
		if p := recover(); p != nil {
			// The command's own words may hold a patient's: not logged.
			l.log.Error("a command run for another process failed", "command", commandName(who.Args))
			fmt.Fprintf(stderr, "pumpledger: The server failed running the command; see its log.\n")
			code = 1
		}
	}()
	code = a.exit(a.dispatch(who.Args))
}

// commandName is the command of args, for the log: its first word not a
// flag, never a value typed in.
func commandName(args []string) string {
	for _, s := range args {
		if _, ok := lookupCommand(s); ok {
			return s
		}
		if _, ok := groups[s]; ok {
			return s
		}
	}
	return "?"
}

// heldLedger is the server's ledger as a command run for another process
// opens it: closing it leaves it open, and a dry run's appends are
// previews (clinic.Preview), as the ledger held is open for writing.
type heldLedger struct {
	clinic.Ledger
	dry bool
}

func (h heldLedger) Close() error { return nil }

// AccessLog is the held ledger's access log: `access log` and `access
// verify` through the server read the log its pages write.
func (h heldLedger) AccessLog() *ledger.AccessLog {
	if l, ok := h.Ledger.(accessLogged); ok {
		return l.AccessLog()
	}
	return nil
}

func (h heldLedger) ctx(ctx context.Context) context.Context {
	if h.dry {
		return clinic.Preview(ctx)
	}
	return ctx
}

func (h heldLedger) AddPatient(ctx context.Context, p pumpledger.Patient) (clinic.Result, error) {
	return h.Ledger.AddPatient(h.ctx(ctx), p)
}

func (h heldLedger) Implant(ctx context.Context, im pumpledger.Implant) (clinic.Result, error) {
	return h.Ledger.Implant(h.ctx(ctx), im)
}

func (h heldLedger) Explant(ctx context.Context, ex pumpledger.Explant) (clinic.Result, error) {
	return h.Ledger.Explant(h.ctx(ctx), ex)
}

func (h heldLedger) RecordRefill(ctx context.Context, r pumpledger.Refill) (clinic.Result, error) {
	return h.Ledger.RecordRefill(h.ctx(ctx), r)
}

func (h heldLedger) RecordReprogram(ctx context.Context, r pumpledger.Reprogram) (clinic.Result, error) {
	return h.Ledger.RecordReprogram(h.ctx(ctx), r)
}

func (h heldLedger) RecordClinical(ctx context.Context, payload any) (clinic.Result, error) {
	return h.Ledger.RecordClinical(h.ctx(ctx), payload)
}

func (h heldLedger) Correct(ctx context.Context, voidID, reason string, repl clinic.Replacement) (clinic.Result, error) {
	return h.Ledger.Correct(h.ctx(ctx), voidID, reason, repl)
}

func (h heldLedger) AdoptCatalog(ctx context.Context, content []byte, name, reason, from string) (clinic.Result, error) {
	return h.Ledger.AdoptCatalog(h.ctx(ctx), content, name, reason, from)
}

func (h heldLedger) Upgrade(ctx context.Context, content []byte, name string) (clinic.Result, error) {
	return h.Ledger.Upgrade(h.ctx(ctx), content, name)
}
