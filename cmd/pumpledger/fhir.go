package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/fhir"
	"github.com/pumpledger/pumpledger/internal/safefile"
)

// fhirExport writes a patient's record as a FHIR R4 Bundle, to standard
// output or to a new 0600 file (it is PHI), whole or not at all, never
// over another.
func (a *app) fhirExport(args []string) error {
	fs := a.flags("fhir")
	mrn := fs.String("mrn", "", "patient MRN")
	from := fs.String("from", "", "first date of service of the visits exported (YYYY-MM-DD; default: the first)")
	to := fs.String("to", "", "last date of service of the visits exported (YYYY-MM-DD; default: the last)")
	out := fs.String("out", "", "the file to create, 0600 (default: standard output)")
	if err := a.parse(fs, args, "mrn"); err != nil {
		return err
	}
	exists := func() error {
		return pumpledger.Invalid("out", "The file %s exists; remove it or choose another name for --out.", *out)
	}
	if _, err := os.Lstat(*out); err == nil && *out != "" && *out != "-" {
		return exists() // before the ledger is read
	}
	var b *fhir.Bundle
	if err := a.read(func(db clinic.Ledger) (err error) {
		b, err = fhir.Export(context.Background(), db, *mrn, *from, *to)
		return err
	}); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := fhir.Write(&buf, b); err != nil {
		return err
	}
	if *out == "" || *out == "-" {
		_, err := a.stdout.Write(buf.Bytes())
		return err
	}
	err := safefile.WriteNew(*out, 0o600, func(f *os.File) error { _, err := f.Write(buf.Bytes()); return err })
	if errors.Is(err, os.ErrExist) {
		return exists()
	} else if err != nil {
		return pumpledger.Invalid("out", "Cannot write the file %s (%v); choose a path in a directory you can write to.", *out, err)
	}
	fmt.Fprintf(a.stdout, "Wrote the FHIR R4 Bundle of %s (%d resources) to %s.\n", *mrn, len(b.Entry), *out)
	return nil
}
