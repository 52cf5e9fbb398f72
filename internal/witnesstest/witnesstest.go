// Package witnesstest runs a real C2SP witness for tests: litewitness of
// filippo.io/torchwood (a tool of this module, see go.mod), built once per
// test binary and started as its own process on 127.0.0.1 with its own
// key, served by an ssh-agent in the test process (litewitness signs
// through the ssh-agent protocol).
package witnesstest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpledger/pumpledger/witness"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Name is the witness's name in its cosignature lines.
const Name = "witness.example/test"

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// build compiles litewitness and witnessctl once per test binary (the Go
// build cache makes later runs quick).
func build(t testing.TB) string {
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "litewitness-bin")
		if buildErr != nil {
			return
		}
		for _, tool := range []string{"litewitness", "witnessctl"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, tool), "filippo.io/torchwood/cmd/"+tool)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = &buildError{tool, err, out}
				return
			}
		}
	})
	if buildErr != nil {
		if _, err := exec.LookPath("go"); err != nil {
			t.Skipf("no Go toolchain to build litewitness: %v", err)
		}
		t.Fatalf("building litewitness: %v", buildErr)
	}
	return binDir
}

type buildError struct {
	tool string
	err  error
	out  []byte
}

func (e *buildError) Error() string { return e.tool + ": " + e.err.Error() + "\n" + string(e.out) }

// Witness is a running litewitness.
type Witness struct {
	URL string
	// VKey is the witness's verifier key, as an auditor is given it.
	VKey string
	db   string
	bin  string
	t    testing.TB
}

// Start runs a litewitness that knows no log yet (AddLog); it is stopped
// when the test ends.
func Start(t testing.TB) *Witness {
	t.Helper()
	bin := build(t)
	dir := t.TempDir()
	w := &Witness{db: filepath.Join(dir, "litewitness.db"), bin: bin, t: t}

	// The witness's key, in an ssh-agent served from this process; the
	// socket in a short directory (a socket path is at most 108 bytes).
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sockDir, err := os.MkdirTemp("", "lw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); agent.ServeAgent(keyring, c) }()
		}
	}()
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	w.VKey = witness.VerifierKey(Name, pub)

	// A free port: taken and let go; litewitness takes it next.
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pl.Addr().String()
	pl.Close()
	stderr := &lockedWriter{w: new(bytes.Buffer)}
	cmd := exec.Command(filepath.Join(bin, "litewitness"), "-db", w.db, "-name", Name,
		"-key", ssh.FingerprintSHA256(sshPub), "-ssh-agent", sock, "-listen", addr)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("litewitness did not listen on %s: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.URL = "http://" + addr
	return w
}

// AddLog tells the witness of a log (a ledger): its origin, and the
// ledger's verifier key, the only one whose checkpoints it cosigns.
func (w *Witness) AddLog(origin, vkey string) {
	w.t.Helper()
	w.Ctl("add-log", "-origin", origin)
	w.Ctl("add-key", "-origin", origin, "-key", vkey)
}

// Ctl runs witnessctl on the witness's database.
func (w *Witness) Ctl(args ...string) string {
	w.t.Helper()
	args = append(args[:1:1], append([]string{"-db", w.db}, args[1:]...)...)
	out, err := exec.Command(filepath.Join(w.bin, "witnessctl"), args...).CombinedOutput()
	if err != nil {
		w.t.Fatalf("witnessctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
