package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

const webPassword = "correct horse battery"

// user add keeps the user in LEDGER.users, 0600, with no password in it;
// a name is added once, a role must be the web app's, and with no
// terminal the password must come from a file.
func TestUserAdd(t *testing.T) {
	c := newCLI(t)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(webPassword+"\n"), 0o600)
	if out := c.ok("", "user", "add", "--name", "ann", "--role", "nurse", "--password-file", pw); out != "Added user ann (nurse).\n" {
		t.Errorf("user add: %q", out)
	}
	fi, err := os.Stat(c.db + ".users")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file: %v, %v", fi, err)
	}
	if data, _ := os.ReadFile(c.db + ".users"); bytes.Contains(data, []byte(webPassword)) {
		t.Errorf("the users file holds the password")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "ann", "--role", "biller", "--password-file", pw}, "A user named ann already exists"},
		{[]string{"--name", "bob", "--role", "doctor", "--password-file", pw}, `role "doctor" is not one of nurse, clinician, biller, auditor or admin`},
		{[]string{"--name", "bob", "--role", "nurse"}, "No terminal to read the password from; give --password-file F."},
	} {
		code, _, errs := c.run("", append([]string{"user", "add"}, tc.args...)...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("user add %v: exit %d %q, want 1 saying %q", tc.args, code, errs, tc.want)
		}
	}
}

// serve, end to end: the real binary holds the ledger; a program signs
// in, previews a refill (the same object `refill --dry-run --json`
// printed), records it as the signed-in user, and SIGTERM stops the
// server cleanly, after which the commands have the ledger again.
func TestServeE2E(t *testing.T) {
	p := newProc(t)
	p.ok("", "patient", "add", "--mrn", "MRN-1", "--name", "Test Patient")
	p.ok("", "pump", "implant", "--mrn", "MRN-1", "--serial", "S1", "--model", "synchromed-ii-20", "--date", "2026-02-20")
	p.file("pw", webPassword)
	p.ok("", "user", "add", "--name", "ann", "--role", "nurse", "--password-file", "pw")
	fill := strings.Replace(fill1, `{"mrn"`, `{"id":"11111111-2222-4333-8444-555555555555","mrn"`, 1)
	want := p.ok(fill, "refill", "--dry-run", "--json", "--file", "-")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := p.command(ctx, "serve", "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(out)
	first, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v\n%s", err, errb.String())
	}
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(first)
	if base == "" {
		t.Fatalf("serve said %q", first)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	post := func(path, body string) (int, string) {
		resp, err := client.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("/api/refill?dry_run=1", fill); code != http.StatusUnauthorized {
		t.Errorf("refill without a session: %d, want 401", code)
	}
	if code, body := post("/api/login", `{"name":"ann","password":"`+webPassword+`"}`); code != http.StatusOK {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	if code, body := post("/api/refill?dry_run=1", fill); code != http.StatusOK || body != want {
		t.Errorf("the API's preview: %d\n%s\nwant refill --dry-run --json's\n%s", code, body, want)
	}
	if code, body := post("/api/refill", fill); code != http.StatusOK {
		t.Errorf("refill: %d %s", code, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(lines)
	if err := cmd.Wait(); err != nil || !strings.Contains(string(rest), "Stopped.") {
		t.Fatalf("serve after SIGTERM: %v, %q\n%s", err, rest, errb.String())
	}
	if strings.Contains(errb.String(), "Test Patient") || strings.Contains(errb.String(), webPassword) {
		t.Errorf("the server's log holds PHI or a password:\n%s", errb.String())
	}
	if h := p.ok("", "history", "--mrn", "MRN-1", "--json"); !strings.Contains(h, `"recorded_by": "ann"`) {
		t.Errorf("the refill recorded through the server is not recorded by ann:\n%s", h)
	}
}
