package main

import (
	"fmt"

	"github.com/pumpledger/pumpledger"
)

// siteSet records the practice that bills (SPEC §13) from a JSON file.
func (a *app) siteSet(args []string) error {
	fs := a.flags("site set")
	file := fs.String("file", "", "site JSON file, - for stdin")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := a.parse(fs, args, "file"); err != nil {
		return err
	}
	in, err := a.input(*file)
	if err != nil {
		return err
	}
	s, err := pumpledger.ParseSite(in)
	in.Close()
	if err != nil {
		return err
	}
	ctx, db, err := a.record()
	if err != nil {
		return err
	}
	res, err := db.RecordSite(ctx, s)
	db.Close()
	if err != nil {
		return err
	}
	if *asJSON {
		var stored pumpledger.Site
		if err := res.Entry.DecodePayload(&stored); err != nil {
			return err
		}
		return writeJSON(a.stdout, map[string]any{"id": res.Entry.ID, "kind": pumpledger.KindSite, "existing": res.Existing, "record": stored})
	}
	done := map[bool]string{true: "Already recorded:", false: "Recorded"}[res.Existing]
	fmt.Fprintf(a.stdout, "%s the practice (entry %s): %s.\n", done, res.Entry.ID, s)
	return nil
}
