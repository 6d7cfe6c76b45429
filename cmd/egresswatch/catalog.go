package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/egresswatch/egresswatch/rules"
)

// cmdCatalog: egresswatch catalog import [--name NAME] FILE prints a
// services: entry for a policy file from a v2fly-style domain list;
// egresswatch catalog list shows the built-in services.
func cmdCatalog(_ context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: egresswatch catalog import [--name NAME] FILE   print a policy services: entry")
		fmt.Fprintln(stderr, "       egresswatch catalog list                         show the built-in services")
		fmt.Fprintln(stderr, "A list can also be used directly: egresswatch replay --catalog [NAME:]FILE ...")
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "import":
		fs := flag.NewFlagSet("catalog import", flag.ContinueOnError)
		fs.SetOutput(stderr)
		name := fs.String("name", "", "service `NAME` (default: the file name without extension)")
		fs.Usage = func() {
			fmt.Fprintln(stderr, "usage: egresswatch catalog import [--name NAME] FILE")
			printFlags(stderr, fs)
		}
		if err := parseFlags(fs, args[1:]); err != nil {
			return exitCode(stderr, "catalog import", err)
		}
		if fs.NArg() != 1 {
			return usage()
		}
		arg := fs.Arg(0)
		if *name != "" {
			arg = *name + ":" + arg
		}
		c, err := rules.LoadCatalog(arg)
		if err != nil {
			fmt.Fprintf(stderr, "egresswatch catalog import: %v\n", err)
			return 2
		}
		for _, w := range c.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		fmt.Fprint(stdout, c.YAML())
		fmt.Fprintf(stderr, "%s: %d domains, %d exact hosts as service %q\n", c.Source, len(c.Domains), len(c.Hosts), c.Name)
		return 0
	case "list":
		if len(args) != 1 {
			return usage()
		}
		for _, s := range rules.Default().AllServices() {
			if !strings.HasPrefix(s.Source, "builtin:") {
				continue
			}
			fmt.Fprintf(stdout, "%s: %d domains, %d ASNs, %d CIDRs\n  %s\n", s.Name,
				len(s.Spec.Domains), len(s.Spec.ASNs), len(s.Spec.CIDRs), s.Source)
		}
		return 0
	}
	return usage()
}
