// Command pumpledger keeps the ledger of intrathecal drug pump refills.
// It only wires: flags and files in, the ledger and domain packages do the
// work, text or JSON out. See `pumpledger help` and the README.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pumpledger/pumpledger/clinic"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/catalog"
	"github.com/pumpledger/pumpledger/internal/safefile"
	"github.com/pumpledger/pumpledger/ledger"
)

// command is one command of the usage: its name, its synopsis (the flags it
// takes) and what it does. `pumpledger help`, `pumpledger help CMD`,
// `CMD --help` and a usage error all print from this table.
type command struct{ name, args, summary string }

var commands = []command{
	{"init", "", "create a new ledger, its signing key and LEDGER.pub, its public key"},
	{"patient add", "--mrn MRN --name NAME | --file F", "register a patient (with --file: birth date, sex and address too)"},
	{"pump implant", "--mrn MRN --serial S --model ID --date YYYY-MM-DD [--alarm-ml V] [--held DRUGS]", "register a pump implanted in a patient"},
	{"pump explant", "--mrn MRN --serial S --date YYYY-MM-DD --reason TEXT", "record a pump removed"},
	{"refill", "--file F [--json] [--dry-run]", "record a refill (F = - for stdin)"},
	{"reprogram", "--file F [--json] [--dry-run]", "record a dose change between refills"},
	{"diagnosis add", "--file F [--json] [--dry-run]", "record a diagnosis (ICD-10-CM)"},
	{"coverage add", "--file F [--json] [--dry-run]", "record a patient's insurance coverage (a payer profile of the catalog)"},
	{"authorization add", "--file F [--json] [--dry-run]", "record a payer's prior authorization, drawn down by the refills billed under it"},
	{"therapy add", "--file F [--json] [--dry-run]", "record a therapy tried before the pump, and how it ended"},
	{"trial add", "--file F [--json] [--dry-run]", "record the preliminary trial and its result"},
	{"consent add", "--file F [--json] [--dry-run]", "record informed consent, with the signed form"},
	{"assessment add", "--file F [--json] [--dry-run]", "record a monitoring assessment (pain, cognition, psychiatric, CK)"},
	{"review add", "--file F [--json] [--dry-run]", "record the review of a refill's flagged residual discrepancy"},
	{"site set", "--file F [--json]", "record the practice that bills: provider NPI, tax id, taxonomy, address, submitter and receiver ids, payer ids, fee schedule"},
	{"correct", "--entry ID --reason TEXT [--file F] [--json] [--dry-run]", "void an entry, optionally with its replacement"},
	{"history", "--mrn MRN [--json]", "every entry of a patient, corrections linked"},
	{"worklist", "[--within DAYS] [--as-of DATE] [--json]", "pumps due for refill within DAYS (default 7) or overdue, and residual discrepancies not yet reviewed, most urgent first"},
	{"chart", "--mrn MRN [--json]", "a patient's chart: pumps, the clinical record, authorizations and what the payer still needs"},
	{"fhir", "--mrn MRN [--from DATE] [--to DATE] [--out FILE]", "a patient's record as a FHIR R4 Bundle (JSON) another clinical system can import"},
	{"attachment get", "--sha256 H --out F", "write out a stored document, checked against its SHA-256 (F = - for stdout)"},
	{"bill", "--from DATE --to DATE [--format csv|json|x12|837p] [--allow-findings] [--as-of DATE] [--submit] [--out FILE]", "claim lines by date of service, each visit with its payer's profile; visits with error findings held back; with --out, FILE.checkpoint beside it"},
	{"submissions", "--from DATE --to DATE [--json]", "the claims sent (bill --submit) for those dates of service, every patient's: frequency, total, interchange and file hash, who sent them, and whether a later claim replaced or voided each"},
	{"check", "--from DATE --to DATE [--as-of DATE] [--json]", "the pre-billing check: what a payer would deny, before the claim goes out (exit 1 on an error)"},
	{"plan", "--drug D --mcg-per-ml C --fill-ml V [--rinse-ml R] [--json]", "least-waste vials"},
	{"scan", "--text S [--json]", "a vial's scanned GS1 DataMatrix: its product in the catalog, lot, expiry and the refill's vials line"},
	{"verify", "[--witness-key KEY] [--witness URL]", "check every entry against the tree; with witness keys, that each witness cosigns the current tree"},
	{"checkpoint", "[--since FILE [--json]] [--witness URL]", "print a signed checkpoint, cosigned by the ledger's witnesses; with --since, the consistency proof that the tree only grew since an older one (verify proves the entries)"},
	{"prove", "--entry ID", "inclusion proof of one entry: its stored bytes, the proof and the signed checkpoint it is against"},
	{"key", "", "print the ledger's public verifier key (LEDGER.pub), all an auditor needs to check its checkpoints"},
	{"key rotate", "", "replace the signing key: an entry, signed by the old key and the new, names the new one; LEDGER.key and LEDGER.pub are replaced"},
	{"audit packet", "--mrn MRN [--from DATE --to DATE] --out FILE [--format html|json]", "a patient's entries as recorded, each proven against one signed checkpoint, in a page that verifies itself"},
	{"audit verify", "FILE --key KEY|FILE.pub [--witness-key KEY]", "check an audit packet with nothing but it and the public key, and each witness key's cosignature of its checkpoint (exit 1 naming what failed)"},
	{"backup", "--out FILE", "hot copy of the ledger that verifies on its own"},
	{"catalog", "[--on DATE | --default]", "print the catalog in force (today, or on DATE), or the embedded one"},
	{"catalog list", "[--json]", "every catalog the ledger pins: version, in force from, SHA-256, reason"},
	{"catalog adopt", "FILE --reason TEXT [--from DATE]", "record FILE as the catalog in force from DATE (default today)"},
	{"upgrade", "[--catalog FILE]", "pin the catalog of a ledger written before catalogs were pinned (schema 1)"},
	{"demo", "[--patients N] [--months M] [--seed S] [--users]", "fill the ledger with a synthetic history (--users: and a web app account for each role)"},
	{"serve", "[--addr 127.0.0.1:8080] [--tls-cert F --tls-key F] [--idle 15m]", "serve the ledger to the clinic's browsers and programs (the JSON API)"},
	{"access log", "[--mrn MRN] [--json]", "who viewed which patient's data through the web app, when, from where"},
	{"access verify", "[--since FILE]", "check the access log against its signed tree; prove it only grew since a checkpoint kept elsewhere"},
	{"user add", "--name N --role nurse|clinician|biller|auditor|admin [--password-file F]", "add a user of the web app (password from the terminal, unechoed, or F)"},
}

// groups are the commands that take a subcommand.
var groups = map[string]string{"pump": "implant, explant", "patient": "add",
	"diagnosis": "add", "coverage": "add", "authorization": "add", "therapy": "add", "trial": "add", "consent": "add", "assessment": "add", "review": "add", "attachment": "get", "user": "add", "access": "log, verify", "site": "set", "audit": "packet, verify"}

// optionalGroups take a subcommand but also run alone ("catalog").
var optionalGroups = map[string]string{"catalog": "list, adopt", "key": "rotate"}

// globalFlags are accepted before or after any command.
var globalFlags = []struct{ name, arg, usage string }{
	{"db", "PATH", "ledger file (default $PUMPLEDGER_DB, else ./pumpledger.db)"},
	{"catalog", "FILE", "the catalog a new ledger pins (default: the embedded one); once pinned, adopt another with `catalog adopt`"},
	{"by", "NAME", "who records the entry, stored as its recorded_by, apart from the clinical nurse and witness (default $PUMPLEDGER_USER, else the login name)"},
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// synopsis is the command line of c, as `pumpledger help` lists it.
func (c command) synopsis() string { return strings.TrimSpace(c.name + " " + c.args) }

// errUsage marks a usage error (exit 2): the sentence, then the usage of
// topic (a command, or a group such as "pump"); with no topic, the usage of
// the command whose flags were being read, else the general usage.
type errUsage struct{ msg, topic string }

func (e errUsage) Error() string { return e.msg }

func usageErr(format string, args ...any) error { return errUsage{msg: fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// app is one invocation: global settings and the streams.
type app struct {
	dbPath, catalogPath, by string
	fs                      *flag.FlagSet // the flags of the command being run, for its usage
	stdin                   io.Reader
	stdout, stderr          io.Writer
	cat                     *catalog.Catalog
	// from is who called, when the command was sent by another process to
	// the server holding the ledger (local.go); held is that ledger.
	from *caller
	held clinic.Ledger
}

// run is main without the exit, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	in := &stdinRecorder{r: stdin}
	a := &app{stdin: in, stdout: stdout, stderr: stderr}
	err := a.dispatch(args)
	if s := (*errServed)(nil); errors.As(err, &s) {
		return forward(s.conn, args, in, stdout, stderr)
	}
	return a.exit(err)
}

// exit maps an error to its one-sentence message and exit status, once.
// errFound is a command's exit 1 after it printed what it found (check's
// error findings): nothing more to say on stderr.
var errFound = errors.New("found errors")

func (a *app) exit(err error) int {
	if err == nil {
		return 0
	}
	var ue errUsage
	if errors.As(err, &ue) {
		fmt.Fprintf(a.stderr, "pumpledger: %s\n\n", ue.msg)
		if ue.topic == "" && a.fs != nil {
			printCommandUsage(a.stderr, a.fs)
		} else {
			a.usage(a.stderr, ue.topic)
		}
		return 2
	}
	if errors.Is(err, errFound) { // the command printed what it found
		return 1
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(a.stderr, "pumpledger: %s\n", a.asTyped(err))
	return 1
}

// globals registers the global flags on fs, so they may come before or after the command.
func (a *app) globals(fs *flag.FlagSet) {
	v := map[string]*string{"db": &a.dbPath, "catalog": &a.catalogPath, "by": &a.by}
	for _, g := range globalFlags {
		fs.StringVar(v[g.name], g.name, *v[g.name], g.usage)
	}
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" || arg == "--h" }

func (a *app) dispatch(args []string) error {
	a.dbPath, a.by = ledger.DefaultPath(), ""
	if a.from != nil {
		a.dbPath = a.from.DB
	}
	fs := flag.NewFlagSet("pumpledger", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.globals(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return a.usage(a.stdout, "")
		}
		return flagError(fs, args, err)
	}
	args = fs.Args()
	if len(args) == 0 {
		return usageErr("no command given")
	}
	cmd, rest := args[0], args[1:]
	if cmd == "help" {
		topic := strings.Join(rest, " ")
		if topic == "help" {
			topic = ""
		}
		return a.usage(a.stdout, topic)
	}
	if subs, ok := groups[cmd]; ok {
		switch {
		case len(rest) == 0:
			return errUsage{fmt.Sprintf("%s needs a subcommand (%s)", cmd, subs), cmd}
		case isHelp(rest[0]):
			return a.usage(a.stdout, cmd)
		}
		if handler(cmd+" "+rest[0]) == nil {
			return errUsage{fmt.Sprintf("%s has no subcommand %q; use %s", cmd, rest[0], strings.ReplaceAll(subs, ", ", " or ")), cmd}
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	if _, ok := optionalGroups[cmd]; ok && len(rest) > 0 && handler(cmd+" "+rest[0]) != nil {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	if h := handler(cmd); h != nil {
		return h(a, rest)
	}
	return usageErr("unknown command %q", cmd)
}

// handler is the function of a command, nil if there is none.
func handler(name string) func(*app, []string) error {
	switch name {
	case "init":
		return (*app).initCmd
	case "patient add":
		return (*app).patientAdd
	case "pump implant":
		return (*app).pumpImplant
	case "pump explant":
		return (*app).pumpExplant
	case "refill":
		return (*app).refill
	case "reprogram":
		return (*app).reprogram
	case "correct":
		return (*app).correct
	case "history":
		return (*app).history
	case "chart":
		return (*app).chart
	case "worklist":
		return (*app).worklist
	case "fhir":
		return (*app).fhirExport
	case "attachment get":
		return (*app).attachmentGet
	case "bill":
		return (*app).bill
	case "check":
		return (*app).check
	case "submissions":
		return (*app).submissions
	case "plan":
		return (*app).plan
	case "scan":
		return (*app).scan
	case "verify":
		return (*app).verify
	case "checkpoint":
		return (*app).checkpoint
	case "prove":
		return (*app).prove
	case "key rotate":
		return (*app).keyRotate
	case "backup":
		return (*app).backup
	case "key":
		return (*app).key
	case "audit packet":
		return (*app).auditPacket
	case "audit verify":
		return (*app).auditVerify
	case "catalog":
		return (*app).catalogCmd
	case "catalog list":
		return (*app).catalogList
	case "catalog adopt":
		return (*app).catalogAdopt
	case "upgrade":
		return (*app).upgrade
	case "demo":
		return (*app).demo
	case "serve":
		return (*app).serve
	case "user add":
		return (*app).userAdd
	case "access log":
		return (*app).accessLog
	case "access verify":
		return (*app).accessVerify
	case "site set":
		return (*app).siteSet
	}
	return clinicalHandler(name)
}

// usage prints the usage of topic to w: the general usage when topic is "",
// that of each subcommand of a group ("pump"), or that of one command. An
// unknown topic is a usage error.
func (a *app) usage(w io.Writer, topic string) error {
	if topic == "" {
		fmt.Fprint(w, generalUsage())
		return nil
	}
	if _, ok := groups[topic]; ok {
		n := 0
		for _, c := range commands {
			if strings.HasPrefix(c.name, topic+" ") {
				if n++; n > 1 {
					fmt.Fprintln(w)
				}
				a.usage(w, c.name)
			}
		}
		return nil
	}
	h := handler(topic)
	if h == nil {
		return usageErr("unknown command %q", topic)
	}
	// The command itself declares its flags: run it with --help, which
	// prints its usage and stops before it does anything.
	return h(&app{stdin: strings.NewReader(""), stdout: w, stderr: io.Discard}, []string{"--help"})
}

// flags makes a command's flag set with the globals on it.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.globals(fs)
	a.fs = fs
	return fs
}

// parse parses a command's flags; required flags must be set.
func (a *app) parse(fs *flag.FlagSet, args []string, required ...string) error {
	_, err := a.parseArgs(fs, args, 0, required...)
	return err
}

// parseArgs is parse for a command that takes up to n arguments besides
// its flags, before, after or between them: the flag package stops at an
// argument, so parsing goes on after each.
func (a *app) parseArgs(fs *flag.FlagSet, args []string, n int, required ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printCommandUsage(a.stdout, fs)
				return nil, err
			}
			return nil, flagError(fs, args, err)
		}
		if fs.NArg() == 0 || len(pos) == n {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if fs.NArg() > 0 {
		return nil, usageErr("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, r := range required {
		if !set[r] {
			return nil, usageErr("%s needs --%s", fs.Name(), r)
		}
	}
	return pos, nil
}

// catalogFile reads and checks the catalog file --catalog names (nil when
// there is none): the catalog init pins, a plan's or the demo's; any other
// command only checks it is the one the ledger has in force (open). Every
// figure comes from the catalogs pinned in the ledger.
func (a *app) catalogFile() (*catalog.Catalog, error) {
	if a.cat != nil || a.catalogPath == "" {
		return a.cat, nil
	}
	f, err := safefile.Open(a.path(a.catalogPath))
	if err != nil {
		return nil, pumpledger.Invalid("catalog", "Cannot read the catalog %s (%v); check --catalog.", a.catalogPath, err)
	}
	defer f.Close()
	a.cat, err = catalog.Load(f, a.catalogPath)
	return a.cat, err
}

// open opens the ledger for writing or reading. A --catalog given to a
// command that derives from the ledger must be the catalog the ledger has
// in force: a file is never a silent replacement for what the ledger pins.
func (a *app) open(write bool) (clinic.Ledger, error) {
	return a.openWith(ledger.Options{ReadOnly: !write})
}

// openWith is open with the options given (a dry run's, say); the catalog
// check is the same for every way in.
func (a *app) openWith(opt ledger.Options) (clinic.Ledger, error) {
	cat, err := a.catalogFile()
	if err != nil {
		return nil, err
	}
	db, err := a.openLedger(opt)
	if err != nil {
		return nil, err
	}
	if cat == nil {
		return db, nil
	}
	inForce, err := db.CatalogOn(context.Background(), db.Today())
	if err == nil && !bytes.Equal(inForce.Content, cat.JSON()) {
		err = pumpledger.Invalid("catalog", "The ledger %s holds its own catalog (version %d, sha256 %s), not %s; to derive with that file from now on, record it with `pumpledger catalog adopt %s --reason TEXT`.",
			a.dbPath, inForce.Version, inForce.SHA256[:12], a.catalogPath, a.catalogPath)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openLedger opens the ledger file, or when a server holds it, has the
// command sent to the server (errServed, local.go); in the server, it is
// the ledger held.
func (a *app) openLedger(opt ledger.Options) (clinic.Ledger, error) {
	if a.held != nil {
		return heldLedger{a.held, opt.DryRun}, nil
	}
	if c := a.server(); c != nil {
		return nil, &errServed{c}
	}
	db, err := clinic.Open(a.dbPath, opt)
	if err != nil {
		return nil, err // not a Ledger holding a nil *Service
	}
	return db, nil
}

// path is a path the command line gave, as the caller meant it: relative
// to its working directory, which is not the server's.
func (a *app) path(p string) string {
	if a.from == nil || p == "" || p == "-" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(a.from.Dir, p)
}

// read runs fn on the ledger opened for reading and closes it before
// returning: a command holds the file only while it reads, never while it
// prints (a reader paused on `| less` must not lock out the writers).
func (a *app) read(fn func(db clinic.Ledger) error) error {
	db, err := a.open(false)
	if err != nil {
		return err
	}
	err = fn(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// user is who records the entry: --by, else $PUMPLEDGER_USER, else the login
// name. It is stored in the entry, so it is held to the rule of every stored
// text: no control or invisible character (an escape sequence in it would
// rewrite the screen of whoever reads the history).
func (a *app) user() (string, error) {
	who, field := a.by, "--by"
	if who == "" {
		who, field = ledger.DefaultUser(), "$PUMPLEDGER_USER"
		fromEnv := os.Getenv("PUMPLEDGER_USER") != ""
		if a.from != nil {
			who, fromEnv = a.from.User, a.from.UserFromEnv
		}
		if !fromEnv {
			field = "your login name (give --by NAME)"
		}
	}
	return who, pumpledger.CheckText(field, who, false)
}

// input opens a --file argument ("-" is stdin): a regular file only, so
// that a FIFO or device named by mistake is refused, not waited on.
func (a *app) input(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(a.stdin), nil
	}
	f, err := safefile.Open(a.path(path))
	if err != nil {
		return nil, pumpledger.Invalid("file", "Cannot read --file %s (%v); check the path.", path, err)
	}
	return f, nil
}

// asTyped is err's sentence as the command line user typed it: below the
// command line a sentence names the field at fault ("alarm_ml 25 must
// be ..."), and where the command has a flag for that field the sentence
// names the flag instead ("--alarm-ml 25 must be ..."). A web form maps
// the same field to its input.
func (a *app) asTyped(err error) string {
	msg := pumpledger.ErrorMessage(err)
	var e *pumpledger.Error
	if !errors.As(err, &e) || e.Field == "" || a.fs == nil || !strings.HasPrefix(msg, e.Field+" ") {
		return msg
	}
	if flag := strings.ReplaceAll(e.Field, "_", "-"); a.fs.Lookup(flag) != nil {
		return "--" + flag + msg[len(e.Field):]
	}
	return msg
}

// actor is the context the use cases get: the actor who runs the command
// (user()), who may do everything at the command line.
func (a *app) actor() (context.Context, error) {
	by, err := a.user()
	if err != nil {
		return nil, err
	}
	return pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: by, Role: pumpledger.RoleClinic}), nil
}

// record opens the ledger to record, with the context of who records.
func (a *app) record() (context.Context, clinic.Ledger, error) {
	ctx, err := a.actor()
	if err != nil {
		return nil, nil, err
	}
	db, err := a.open(true)
	if err != nil {
		return nil, nil, err
	}
	return ctx, db, nil
}
