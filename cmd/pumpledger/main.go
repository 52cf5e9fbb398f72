// Command pumpledger keeps the ledger of intrathecal drug pump refills.
// It only wires: flags and files in, the ledger and domain packages do the
// work, text or JSON out. See `pumpledger help` and the README.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/ledger"
)

const usage = `pumpledger keeps the ledger of intrathecal drug pump refills.

Usage: pumpledger [--db PATH] [--catalog FILE] COMMAND [flags]

Commands:
  patient add --mrn MRN --name NAME         register a patient
  pump implant --mrn MRN --serial S --model ID --date YYYY-MM-DD [--alarm-ml V]
  pump explant --mrn MRN --serial S --date YYYY-MM-DD --reason TEXT
  refill --file F [--json] [--dry-run]      record a refill (F = - for stdin)
  reprogram --file F [--json]               record a dose change between refills
  correct --entry ID --reason TEXT [--file F]  void an entry, optionally with its replacement
  history --mrn MRN [--json]                every entry of a patient, corrections linked
  bill --from DATE --to DATE [--format csv|json|x12]   claim lines by date of service
  plan --drug D --mcg-per-ml C --fill-ml V [--rinse-ml R] [--json]   least-waste vials
  verify                                    check every entry against the tree
  checkpoint [--since FILE]                 print a signed checkpoint; prove growth since an older one
  prove --entry ID                          inclusion proof of one entry
  backup --out FILE                         hot copy of the ledger that verifies on its own
  catalog                                   print the catalog in use
  demo [--patients N] [--months M] [--seed S]   fill the ledger with a synthetic history

Global flags:
  --db PATH        ledger file (default $PUMPLEDGER_DB, else ./pumpledger.db)
  --catalog FILE   replaces the embedded catalog (default: LEDGER.catalog.json beside
                   the ledger if it exists, else the embedded one)
  --by NAME        who records patients, pumps and corrections (default $PUMPLEDGER_USER, else login)

Exit status: 0 success; 1 the command ran and found a problem; 2 usage error.
`

// errUsage marks a usage error (exit 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usageErr(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// app is one invocation: global settings and the streams.
type app struct {
	dbPath, catalogPath, by string
	stdin                   io.Reader
	stdout, stderr          io.Writer
	cat                     *catalog.Catalog
	created, keyCreated     bool // this run created the ledger file, its key file
}

// noteCreation records, before a write opens the ledger, whether the ledger
// and its key are new: only what this run created is removed on refusal.
func (a *app) noteCreation(write bool) {
	if !write {
		return
	}
	_, err := os.Stat(a.dbPath)
	a.created = errors.Is(err, os.ErrNotExist)
	_, err = os.Stat(a.dbPath + ".key")
	a.keyCreated = errors.Is(err, os.ErrNotExist)
}

// run is main without the exit, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	err := a.dispatch(args)
	if err != nil && a.created {
		a.removeIfEmpty()
	}
	return a.exit(err)
}

// removeIfEmpty removes the ledger this run created, and its key, when a
// refused command left it empty: a refusal writes nothing, not even that.
// A ledger holding any entry is never removed.
func (a *app) removeIfEmpty() {
	db, err := ledger.Open(a.dbPath, ledger.Options{Catalog: a.cat, ReadOnly: true})
	if err != nil {
		return
	}
	n, err := db.Size()
	db.Close()
	if err == nil && n == 0 {
		os.Remove(a.dbPath)
		if a.keyCreated {
			os.Remove(a.dbPath + ".key")
		}
	}
}

// exit maps an error to its one-sentence message and exit status, once.
func (a *app) exit(err error) int {
	if err == nil {
		return 0
	}
	var ue errUsage
	if errors.As(err, &ue) {
		fmt.Fprintf(a.stderr, "pumpledger: %s\nRun 'pumpledger help' for usage.\n", ue.msg)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(a.stderr, "pumpledger: %s\n", pumpledger.ErrorMessage(err))
	return 1
}

// globals registers the global flags on fs, so they may come before or after the command.
func (a *app) globals(fs *flag.FlagSet) {
	fs.StringVar(&a.dbPath, "db", a.dbPath, "ledger file")
	fs.StringVar(&a.catalogPath, "catalog", a.catalogPath, "catalog file replacing the embedded one")
	fs.StringVar(&a.by, "by", a.by, "who records patients, pumps and corrections")
}

func (a *app) dispatch(args []string) error {
	a.dbPath, a.by = ledger.DefaultPath(), ""
	fs := flag.NewFlagSet("pumpledger", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.globals(fs)
	if err := fs.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprint(a.stderr, usage)
		return usageErr("no command given")
	}
	cmd, rest := args[0], args[1:]
	if cmd == "pump" || cmd == "patient" {
		if len(rest) == 0 {
			return usageErr("%s needs a subcommand (%s)", cmd, map[string]string{"pump": "implant, explant", "patient": "add"}[cmd])
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(a.stdout, usage)
		return nil
	case "patient add":
		return a.patientAdd(rest)
	case "pump implant":
		return a.pumpImplant(rest)
	case "pump explant":
		return a.pumpExplant(rest)
	case "refill":
		return a.refill(rest)
	case "reprogram":
		return a.reprogram(rest)
	case "correct":
		return a.correct(rest)
	case "history":
		return a.history(rest)
	case "bill":
		return a.bill(rest)
	case "plan":
		return a.plan(rest)
	case "verify":
		return a.verify(rest)
	case "checkpoint":
		return a.checkpoint(rest)
	case "prove":
		return a.prove(rest)
	case "backup":
		return a.backup(rest)
	case "catalog":
		return a.catalogCmd(rest)
	case "demo":
		return a.demo(rest)
	}
	return usageErr("unknown command %q", strings.TrimSpace(cmd))
}

// flags makes a command's flag set with the globals on it.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.globals(fs)
	return fs
}

// parse parses a command's flags; required flags must be set.
func (a *app) parse(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(a.stdout)
			fmt.Fprintf(a.stdout, "Usage of pumpledger %s:\n", fs.Name())
			fs.PrintDefaults()
			return err
		}
		return usageErr("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usageErr("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, r := range required {
		if !set[r] {
			return usageErr("%s needs --%s", fs.Name(), r)
		}
	}
	return nil
}

// siteCatalogSuffix names the catalog file kept beside a ledger: used when
// --catalog is not given.
const siteCatalogSuffix = ".catalog.json"

// catalog loads the catalog in use, once: --catalog, else the ledger's
// site catalog (LEDGER.catalog.json) if there is one, else the embedded one.
func (a *app) catalog() (*catalog.Catalog, error) {
	if a.cat != nil {
		return a.cat, nil
	}
	if a.catalogPath == "" {
		// A site catalog kept beside its ledger (as the demo keeps its
		// synthetic morphine) is the one its entries were derived with.
		if st, err := os.Stat(a.dbPath + siteCatalogSuffix); err == nil && st.Mode().IsRegular() {
			a.catalogPath = a.dbPath + siteCatalogSuffix
		}
	}
	if a.catalogPath == "" {
		a.cat = catalog.Default()
		return a.cat, nil
	}
	f, err := os.Open(a.catalogPath)
	if err != nil {
		return nil, pumpledger.Invalid("catalog", "Cannot read the catalog %s (%v); check --catalog.", a.catalogPath, err)
	}
	defer f.Close()
	a.cat, err = catalog.Load(f, a.catalogPath)
	return a.cat, err
}

// open opens the ledger for writing (creating it) or reading.
func (a *app) open(write bool) (*ledger.DB, error) {
	cat, err := a.catalog()
	if err != nil {
		return nil, err
	}
	a.noteCreation(write)
	return ledger.Open(a.dbPath, ledger.Options{Catalog: cat, ReadOnly: !write})
}

func (a *app) user() string {
	if a.by != "" {
		return a.by
	}
	return ledger.DefaultUser()
}

// input opens a --file argument ("-" is stdin).
func (a *app) input(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(a.stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, pumpledger.Invalid("file", "Cannot read --file %s (%v); check the path.", path, err)
	}
	return f, nil
}
