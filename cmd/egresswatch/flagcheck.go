package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Flag checks: each names the flag, the value and what is allowed. The
// commands join every failed check into one configuration error (exit 2).

// minMemory is the smallest --memory: below it the tables hold a few
// hundred flows and a replay evicts most of what it sees.
const minMemory = 64 << 20

// maxWorkers bounds --workers (workers, and rings per interface live).
const maxWorkers = 256

func checkEnum(name, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("--%s %q: want %s", name, v, orList(allowed))
}

func checkRange(name string, v, lo, hi int, unit string) error {
	if v >= lo && v <= hi {
		return nil
	}
	return fmt.Errorf("--%s %d: want %d to %d%s", name, v, lo, hi, unit)
}

func checkSize(name string, v byteSize, lo byteSize) error {
	if v >= lo {
		return nil
	}
	return fmt.Errorf("--%s %s: want at least %s (sizes like 512MiB, 2GiB)", name, v.String(), lo.String())
}

// checkEvery accepts 0 (never) or at least lo.
func checkEvery(name string, v, lo time.Duration) error {
	if v == 0 || v >= lo {
		return nil
	}
	return fmt.Errorf("--%s %v: want 0 (never) or at least %v", name, v, lo)
}

func checkPositive(name string, v time.Duration) error {
	if v > 0 {
		return nil
	}
	return fmt.Errorf("--%s %v: want a duration above 0 (e.g. 30s, 2m)", name, v)
}

// orList writes "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// flagErrs joins failed checks into a configuration error, nil if none.
func flagErrs(errs ...error) error {
	return configErr(errors.Join(errs...))
}

// validate checks the shared run flags.
func (r *runFlags) validate() error {
	return checkSize("memory", r.memory, minMemory)
}

// parseFlags parses args into fs. A parse error is written as one line on
// fs's output, naming the flag as the help writes it (--name), and
// returned as errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return errHelp
	}
	fmt.Fprintf(out, "egresswatch %s: %s (see egresswatch %s --help)\n", fs.Name(), dashFlags(err.Error()), fs.Name())
	return errUsage
}

// flagName matches a flag name as the flag package writes it in errors
// ("-memory"), to be shown as the help and the README write it.
var flagName = regexp.MustCompile(`(^|[: ])-([a-zA-Z][a-zA-Z0-9-]+)`)

func dashFlags(msg string) string { return flagName.ReplaceAllString(msg, "$1--$2") }

// printFlags writes fs's flags as the README writes them: --name ARG
// (one-letter flags keep one dash), the help on the next line, and the
// default when it is not the zero value.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, help := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		line := "  " + dash + f.Name
		if arg != "" {
			line += " " + arg
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			help += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "%s\n        %s\n", line, help)
	})
}
