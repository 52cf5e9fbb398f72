package main

import (
	"fmt"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/internal/safefile"
	"github.com/pumpledger/pumpledger/ledger"
)

// The access log's commands: who viewed which patient's data through the
// web app, and the check that the log was not altered. It holds MRNs:
// printed for the auditor who asks, never logged.

type accessLogged interface{ AccessLog() *ledger.AccessLog }

func accessLogOf(db clinic.Ledger) (*ledger.AccessLog, error) {
	l, ok := db.(accessLogged)
	if !ok || l.AccessLog() == nil {
		return nil, pumpledger.Errorf(pumpledger.EINTERNAL, "this ledger keeps no access log")
	}
	return l.AccessLog(), nil
}

// accessLog prints the log's records, oldest first: all, or one patient's.
func (a *app) accessLog(args []string) error {
	fs := a.flags("access log")
	mrn := fs.String("mrn", "", "only the views of this patient")
	asJSON := fs.Bool("json", false, "print the records as JSON")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	var recs []ledger.Access
	if err := a.read(func(db clinic.Ledger) error {
		l, err := accessLogOf(db)
		if err != nil {
			return err
		}
		recs, err = l.List(*mrn)
		return err
	}); err != nil {
		return err
	}
	if *asJSON {
		if recs == nil {
			recs = []ledger.Access{}
		}
		return writeJSON(a.stdout, recs)
	}
	if len(recs) == 0 {
		fmt.Fprintln(a.stdout, "No views logged.")
		return nil
	}
	for _, r := range recs {
		fmt.Fprintf(a.stdout, "%6d  %s  %-12s %-9s %-12s %-10s from %s\n", r.Seq, r.At.Format("2006-01-02 15:04:05Z"), r.User, r.Role, r.MRN, r.What, r.From)
	}
	return nil
}

// accessVerify checks the access log against its signed tree.
func (a *app) accessVerify(args []string) error {
	fs := a.flags("access verify")
	since := fs.String("since", "", "an access log checkpoint kept elsewhere (from the audit page): prove the log only grew since")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	var old []byte
	if *since != "" {
		var err error
		if old, err = safefile.ReadFile(*since, maxCheckpointBytes); err != nil {
			return pumpledger.Invalid("since", "Cannot read --since %s (%v).", *since, err)
		}
	}
	var res ledger.AccessVerified
	if err := a.read(func(db clinic.Ledger) error {
		l, err := accessLogOf(db)
		if err != nil {
			return err
		}
		if res, err = l.Verify(); err != nil || old == nil {
			return err
		}
		return l.Consistent(old)
	}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "ok: %d access records match their tree (root %x…), %d signed checkpoints checked.\n", res.Records, res.Tree.Hash[:8], res.Checkpoints)
	if old != nil {
		fmt.Fprintf(a.stdout, "consistent: the access log extends the checkpoint in %s.\n", *since)
	}
	return nil
}
