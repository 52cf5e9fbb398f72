package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/internal/safefile"
	"github.com/pumpledger/pumpledger/web"
	"golang.org/x/term"
)

// userAdd adds a user of the web app to the users file beside the ledger.
// The password is read from the terminal without echo (twice), or from
// --password-file; never from a flag, which other users see in ps.
func (a *app) userAdd(args []string) error {
	fs := a.flags("user add")
	name := fs.String("name", "", "login name, recorded as recorded_by of what the user records")
	role := fs.String("role", "", "nurse, clinician, biller, auditor or admin")
	pwFile := fs.String("password-file", "", "read the password from this file's first line instead of the terminal")
	if err := a.parse(fs, args, "name", "role"); err != nil {
		return err
	}
	r, err := web.CheckRole(*role)
	if err != nil {
		return err
	}
	if _, err := os.Stat(a.dbPath); err != nil {
		return pumpledger.Errorf(pumpledger.ENOTFOUND, "No ledger at %s to add a user to; check --db.", a.dbPath)
	}
	var pw []byte
	if *pwFile != "" {
		data, err := safefile.ReadFile(*pwFile, web.MaxPassword+2)
		if err != nil {
			return pumpledger.Invalid("password_file", "Cannot read --password-file %s (%v); check the path.", *pwFile, err)
		}
		pw, _, _ = bytes.Cut(data, []byte("\n"))
		pw = bytes.TrimSuffix(pw, []byte("\r"))
	} else {
		if pw, err = readNewPassword(a); err != nil {
			return err
		}
	}
	if err := web.AddUser(web.UsersPath(a.dbPath), *name, r, pw); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Added user %s (%s).\n", *name, r)
	return nil
}

// readNewPassword asks for the password twice on the terminal, unechoed.
func readNewPassword(a *app) ([]byte, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, pumpledger.Invalid("password_file", "No terminal to read the password from; give --password-file F.")
	}
	fmt.Fprint(a.stderr, "Password: ")
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return nil, pumpledger.Invalid("password", "The password could not be read (%v); try again.", err)
	}
	if err := web.CheckPassword(pw); err != nil {
		return nil, err
	}
	fmt.Fprint(a.stderr, "Again: ")
	again, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil || !bytes.Equal(pw, again) {
		return nil, pumpledger.Invalid("password", "The two passwords differ; run the command again.")
	}
	return pw, nil
}
