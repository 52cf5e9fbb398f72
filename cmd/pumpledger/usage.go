package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// The usage texts, all drawn from the commands table and the flags each
// command declares, so that `pumpledger help`, `pumpledger help CMD`,
// `CMD --help` and the usage printed after a usage error never disagree.

const usageWidth = 100 // descriptions wrap before this column

// generalUsage is `pumpledger help`: every command with its synopsis, and the
// global flags.
func generalUsage() string {
	var b strings.Builder
	b.WriteString("pumpledger keeps the ledger of intrathecal drug pump refills.\n\n")
	b.WriteString("Usage: pumpledger [--db PATH] [--catalog FILE] [--by NAME] COMMAND [flags]\n\nCommands:\n")
	const col = 44 // where the summaries start
	for _, c := range commands {
		line := "  " + c.synopsis()
		if len(line) < col-1 {
			fmt.Fprintf(&b, "%-*s%s\n", col, line, c.summary)
		} else {
			fmt.Fprintf(&b, "%s\n%s%s\n", line, strings.Repeat(" ", col), c.summary)
		}
	}
	b.WriteString("\nGlobal flags (before or after the command):\n")
	writeFlagLines(&b, globalLines())
	b.WriteString("\nRun 'pumpledger help COMMAND' or 'pumpledger COMMAND --help' for a command's flags.\n")
	b.WriteString("Exit status: 0 success; 1 the command ran and found a problem; 2 usage error.\n")
	return b.String()
}

// flagLine is one flag of a usage: "--file F" and what it is for.
type flagLine struct{ left, desc string }

func globalLines() []flagLine {
	var out []flagLine
	for _, g := range globalFlags {
		out = append(out, flagLine{"--" + g.name + " " + g.arg, g.usage})
	}
	return out
}

func isGlobal(name string) bool {
	for _, g := range globalFlags {
		if g.name == name {
			return true
		}
	}
	return false
}

// printCommandUsage prints the usage of the command whose flag set is fs:
// its synopsis and summary as `pumpledger help` lists them, then each of its
// flags with its description, then the global flags.
func printCommandUsage(w io.Writer, fs *flag.FlagSet) {
	c, ok := lookupCommand(fs.Name())
	if !ok {
		c = command{name: fs.Name()}
	}
	fmt.Fprintf(w, "Usage: pumpledger %s\n", c.synopsis())
	if c.summary != "" {
		fmt.Fprintf(w, "  %s\n", c.summary)
	}
	// The command's own flags, in the order of its synopsis, each named
	// with the placeholder the synopsis gives its value.
	metas, order := synopsisFlags(c.args)
	var own []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !isGlobal(f.Name) {
			own = append(own, f)
		}
	})
	sort.SliceStable(own, func(i, j int) bool { return rank(order, own[i].Name) < rank(order, own[j].Name) })
	var lines []flagLine
	for _, f := range own {
		left := "--" + f.Name
		if m, ok := metas[f.Name]; ok && m != "" {
			left += " " + m
		} else if !isBool(f) {
			left += " VALUE"
		}
		desc := f.Usage
		if f.DefValue != "" && f.DefValue != "false" {
			desc += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		lines = append(lines, flagLine{left, desc})
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		writeFlagLines(w, lines)
	}
	fmt.Fprintf(w, "\nGlobal flags (before or after the command):\n")
	writeFlagLines(w, globalLines())
}

func rank(order map[string]int, name string) int {
	if r, ok := order[name]; ok {
		return r
	}
	return len(order)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// synopsisFlags reads a synopsis ("--file F [--json]"): the placeholder of
// each flag's value ("file": "F", "json": "") and the flags' order.
func synopsisFlags(args string) (map[string]string, map[string]int) {
	metas, order := map[string]string{}, map[string]int{}
	toks := strings.Fields(args)
	for i, t := range toks {
		t = strings.Trim(t, "[]")
		if !strings.HasPrefix(t, "--") {
			continue
		}
		name, meta := strings.TrimPrefix(t, "--"), ""
		if i+1 < len(toks) && !strings.HasPrefix(strings.TrimLeft(toks[i+1], "["), "-") && !strings.HasPrefix(toks[i+1], "[") {
			meta = strings.TrimRight(toks[i+1], "]")
		}
		metas[name] = meta
		order[name] = len(order)
	}
	return metas, order
}

// writeFlagLines prints flags in two columns, the descriptions wrapped.
func writeFlagLines(w io.Writer, lines []flagLine) {
	const maxLeft = 24
	width := 0
	for _, l := range lines {
		if len(l.left) <= maxLeft {
			width = max(width, len(l.left))
		}
	}
	indent := strings.Repeat(" ", 2+width+2)
	for _, l := range lines {
		if len(l.left) <= width {
			fmt.Fprintf(w, "  %-*s  %s\n", width, l.left, wrap(l.desc, indent))
		} else {
			fmt.Fprintf(w, "  %s\n%s%s\n", l.left, indent, wrap(l.desc, indent))
		}
	}
}

// wrap breaks s into lines that end before usageWidth, the ones after the
// first starting with indent (the first is already at that column).
func wrap(s, indent string) string {
	var b strings.Builder
	col := len(indent)
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if col+1+len(word) > usageWidth {
				b.WriteString("\n" + indent)
				col = len(indent)
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// The errors of package flag, worded by Go for Go programmers; flagError
// says them again as a sentence for the person at the keyboard.
var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -(.*)$`)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -(.*)$`)
	flagBadValue  = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([^:]*): `)
	flagBadSyntax = regexp.MustCompile(`^bad flag syntax: (.*)$`)
)

// flagError is the usage error of a flag fs could not parse in args.
func flagError(fs *flag.FlagSet, args []string, err error) error {
	who, where := fs.Name(), "its usage below"
	if who == "pumpledger" {
		where = "the usage below"
	}
	msg := err.Error()
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		return usageErr("%s has no flag %s; see %s.", who, typed(args, m[1]), where)
	}
	if m := flagNoValue.FindStringSubmatch(msg); m != nil {
		return usageErr("%s %s needs a value; see %s.", who, typed(args, m[1]), where)
	}
	if m := flagBadValue.FindStringSubmatch(msg); m != nil {
		want := "a valid value"
		if f := fs.Lookup(m[2]); f != nil {
			switch {
			case isBool(f):
				want = "true or false (or given alone)"
			case strings.HasPrefix(fmt.Sprintf("%T", f.Value), "*flag.int"):
				want = "a whole number"
			}
		}
		return usageErr("%s %s must be %s, not %q; see %s.", who, typed(args, m[2]), want, m[1], where)
	}
	if m := flagBadSyntax.FindStringSubmatch(msg); m != nil {
		return usageErr("%s cannot read %q as a flag: write --name or --name=value; see %s.", who, m[1], where)
	}
	return usageErr("%s: %s; see %s.", who, strings.TrimSuffix(msg, "."), where)
}

// typed is the flag name as the user typed it ("-fil" or "--fil"),
// else "--name".
func typed(args []string, name string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		flagPart, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(flagPart, "-") && strings.TrimLeft(flagPart, "-") == name {
			return flagPart
		}
	}
	return "--" + name
}
