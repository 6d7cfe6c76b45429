// Command egresswatch watches network egress: it names every destination
// (DNS, TLS SNI, QUIC SNI, HTTP Host), places it (country, operator, cloud
// region) and alerts when a policy is broken.
//
// Usage:
//
//	egresswatch replay [flags] PATH...   read capture files
//	egresswatch live -i IFACE [flags]    capture on interfaces
//	egresswatch lookup [flags] IP...     show where addresses are placed
//	egresswatch geo fetch [flags]        fetch cloud provider range files
//	egresswatch policy check FILE        validate a policy file
//	egresswatch policy default           print the built-in policy
//	egresswatch catalog import FILE      read a domain list into the catalogue
//	egresswatch version                  version, commit, Go, placement data (also --version)
//	egresswatch collect --nats URL       gather a fleet's alerts from NATS
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"syscall"
)

// command is one subcommand. It returns the process exit code.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"replay":  {"read capture files and report every destination", cmdReplay},
		"live":    {"capture on interfaces (AF_PACKET) and report every destination", cmdLive},
		"lookup":  {"show where IP addresses are placed, with sources", cmdLookup},
		"geo":     {"manage placement data (geo fetch)", cmdGeo},
		"policy":  {"check or print a policy (policy check FILE, policy default)", cmdPolicy},
		"catalog": {"extend the service catalogue (catalog import FILE)", cmdCatalog},
		"version": {"print the version, the Go version and the placement data in use", cmdVersion},
		"collect": {"gather a fleet's alerts, events and heartbeats from NATS JetStream", cmdCollect},
	}
}

func main() {
	if os.Getenv("GOGC") == "" {
		// A long-running sensor keeps a steady live set (flow tables,
		// placement data): collecting at 1.5x of it instead of 2x keeps
		// the resident size well inside --memory for a few % of CPU.
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		args = []string{"version"}
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "egresswatch: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: egresswatch COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
}
