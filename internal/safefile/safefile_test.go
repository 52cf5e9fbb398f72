package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Only a regular file is read, at most max bytes: a FIFO is refused without
// blocking, a device (a link to /dev/zero) without reading it.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	small, big := filepath.Join(dir, "small"), filepath.Join(dir, "big")
	os.WriteFile(small, []byte("12345"), 0o600)
	os.WriteFile(big, []byte("123456"), 0o600)
	for _, tc := range []struct {
		path string
		want error
	}{{fifo, ErrNotRegular}, {zero, ErrNotRegular}, {dir, ErrNotRegular}, {big, ErrTooLarge}, {filepath.Join(dir, "none"), os.ErrNotExist}} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(tc.path, 5); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, tc.want) {
				t.Errorf("ReadFile(%s): %v, want %v", filepath.Base(tc.path), err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadFile(%s) blocks", filepath.Base(tc.path))
		}
	}
	if b, err := ReadFile(small, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile of 5 bytes, max 5: %q, %v", b, err)
	}
}

// WriteNew never replaces a file, and leaves no temporary file when it
// fails, whether the content cannot be written or the target exists.
func TestWriteNew(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteNew(p, 0o600, func(f *os.File) error { _, err := f.WriteString("one"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if err := WriteNew(p, 0o600, func(f *os.File) error { _, err := f.WriteString("two"); return err }); !errors.Is(err, os.ErrExist) {
		t.Errorf("WriteNew over a file: %v, want ErrExist", err)
	}
	boom := errors.New("boom")
	q := filepath.Join(dir, "g")
	if err := WriteNew(q, 0o600, func(f *os.File) error { f.WriteString("half"); return boom }); !errors.Is(err, boom) {
		t.Errorf("WriteNew with a failing writer: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("the existing file holds %q", b)
	}
	if _, err := os.Stat(q); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed WriteNew left its target: %v", err)
	}
	if left := append(Stale(p), Stale(q)...); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Replace puts the new content in place whole, with its mode; a failed
// write leaves the old file as it was and no temporary file behind.
func TestReplace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	write := func(s string, fail error) error {
		return Replace(path, 0o600, func(f *os.File) error {
			f.WriteString(s)
			return fail
		})
	}
	if err := write("one", nil); err != nil {
		t.Fatal(err)
	}
	if err := write("two", nil); err != nil {
		t.Fatal(err)
	}
	if err := write("three", errors.New("disk full")); err == nil {
		t.Fatal("a failed write reported success")
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "two" || fi.Mode().Perm() != 0o600 {
		t.Errorf("after replace and a failed one: %q %v, want \"two\" 0600", b, fi.Mode())
	}
	if s := Stale(path); len(s) != 0 {
		t.Errorf("temporary files left: %v", s)
	}
}
