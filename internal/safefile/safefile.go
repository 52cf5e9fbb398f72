// Package safefile reads and writes the files pumpledger is pointed at
// without trusting what the path names: a read takes only a regular file
// and at most a stated number of bytes, so a FIFO cannot block it and a
// link to /dev/zero cannot fill memory; a write goes to a temporary file
// beside its target and appears whole or not at all.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// ErrNotRegular: the path names a directory, device, FIFO or socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge: the file is longer than the reader accepts.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading if it is a regular file (after symlinks). It
// stats first and opens with O_NONBLOCK, so that a FIFO put in its place
// between the two cannot block the open either, then checks the open file.
func Open(path string) (*os.File, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if !st.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, st.Mode())
	}
	return f, nil
}

func notRegular(path string, m os.FileMode) error {
	kind := "a special file"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&os.ModeNamedPipe != 0:
		kind = "a FIFO"
	case m&os.ModeSocket != 0:
		kind = "a socket"
	case m&os.ModeDevice != 0:
		kind = "a device"
	}
	return fmt.Errorf("%s is %s, %w", path, kind, ErrNotRegular)
}

// ReadFile reads the regular file at path whole, refusing one longer than
// max bytes (ErrTooLarge) without reading past max+1.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", path, ErrTooLarge, max)
	}
	return b, nil
}

// tempSuffix marks the temporary files WriteNew leaves only if its process
// is killed: Stale lists them.
const tempSuffix = ".tmp-"

// WriteNew creates the file path with mode perm, its content written by fn,
// whole or not at all: fn writes a temporary file in the same directory,
// which is synced, then linked to path (which fails if path exists: an
// existing file is never replaced) and removed; the directory is synced.
// On every error the temporary file is removed and path is untouched; a
// process killed midway leaves at most the temporary file (see Stale),
// never a partial path.
func WriteNew(path string, perm os.FileMode, fn func(*os.File) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+tempSuffix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a link, path keeps the file
	if err = f.Chmod(perm); err == nil {
		if err = fn(f); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// Replace writes the file path with mode perm, its content written by fn,
// whole or not at all, as WriteNew does, but over an existing file: the
// synced temporary file is renamed onto path, so a reader sees the old
// content or the new, never a part.
func Replace(path string, perm os.FileMode, fn func(*os.File) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+tempSuffix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err == nil {
		if err = fn(f); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// Stale lists the temporary files a killed WriteNew of path left.
func Stale(path string) []string {
	m, _ := filepath.Glob(globEscape(path) + tempSuffix + "*")
	return m
}

func globEscape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// SyncDir makes a file created or removed in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
