package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/internal/safefile"
)

// attachmentGet writes a stored document out byte for byte. The use case
// has checked the bytes against their hash; the file is made 0600 (a
// signed consent is PHI), whole or not at all, and never over another.
func (a *app) attachmentGet(args []string) error {
	fs := a.flags("attachment get")
	sha := fs.String("sha256", "", "the document's SHA-256, as the entry citing it records it")
	out := fs.String("out", "", "the file to create, 0600 (- for standard output)")
	if err := a.parse(fs, args, "sha256", "out"); err != nil {
		return err
	}
	exists := func() error {
		return pumpledger.Invalid("out", "The file %s exists; remove it or choose another name for --out.", *out)
	}
	if _, err := os.Lstat(a.path(*out)); err == nil && *out != "-" {
		return exists() // before the ledger is read
	}
	var data []byte
	if err := a.read(func(db clinic.Ledger) (err error) {
		data, err = db.Attachment(context.Background(), *sha)
		return err
	}); err != nil {
		return err
	}
	if *out == "-" {
		_, err := a.stdout.Write(data)
		return err
	}
	err := safefile.WriteNew(a.path(*out), 0o600, func(f *os.File) error { _, err := f.Write(data); return err })
	if errors.Is(err, os.ErrExist) {
		return exists() // made meanwhile: left as it is
	} else if err != nil {
		return pumpledger.Invalid("out", "Cannot write the file %s (%v); choose a path in a directory you can write to.", *out, err)
	}
	fmt.Fprintf(a.stdout, "Wrote document %s (%d bytes) to %s.\n", *sha, len(data), *out)
	return nil
}
