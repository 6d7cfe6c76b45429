package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/fleet"
	"github.com/egresswatch/egresswatch/rules"
)

// catalogFlags collects repeatable --catalog FILE or NAME:FILE flags.
type catalogFlags []string

func (c *catalogFlags) String() string     { return strings.Join(*c, ",") }
func (c *catalogFlags) Set(v string) error { *c = append(*c, v); return nil }

// load reads every catalogue named on the command line.
func (c catalogFlags) load() ([]*rules.Catalog, error) {
	var cats []*rules.Catalog
	for _, arg := range c {
		cat, err := rules.LoadCatalog(arg)
		if err != nil {
			return nil, err
		}
		cats = append(cats, cat)
	}
	return cats, nil
}

// cmdPolicy: egresswatch policy check [--catalog FILE]... FILE...
// and egresswatch policy default.
func cmdPolicy(_ context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: egresswatch policy check [--catalog [NAME:]FILE]... FILE...")
		fmt.Fprintln(stderr, "       egresswatch policy default")
		fmt.Fprintln(stderr, "       egresswatch policy push --nats URL [--catalog [NAME:]FILE]... FILE")
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "default":
		if len(args) != 1 {
			return usage()
		}
		if _, err := stdout.Write(rules.DefaultYAML()); err != nil {
			fmt.Fprintf(stderr, "egresswatch policy default: %v\n", err)
			return 1
		}
		return 0
	case "push":
		return policyPush(args[1:], stdout, stderr)
	case "check":
		fs := flag.NewFlagSet("policy check", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var catalogs catalogFlags
		fs.Var(&catalogs, "catalog", "add a domain list as a service (`[NAME:]FILE`, repeatable)")
		fs.Usage = func() {
			fmt.Fprintln(stderr, "usage: egresswatch policy check [--catalog [NAME:]FILE]... FILE...")
			printFlags(stderr, fs)
		}
		if err := parseFlags(fs, args[1:]); err != nil {
			return exitCode(stderr, "policy check", err)
		}
		if fs.NArg() == 0 {
			return usage()
		}
		cats, err := catalogs.load()
		if err != nil {
			fmt.Fprintf(stderr, "egresswatch policy check: %v\n", err)
			return 2
		}
		code := 0
		for _, file := range fs.Args() {
			p, err := rules.LoadWith(file, cats...)
			if err != nil {
				fmt.Fprintln(stderr, err)
				var list rules.ErrorList
				if errors.As(err, &list) {
					fmt.Fprintf(stderr, "%s: %d error(s)\n", file, list.Len())
				}
				code = 2
				continue
			}
			fmt.Fprintf(stdout, "%s: ok: %d rules, %d groups, %d services, suppress %v\n",
				file, len(p.Rules), len(p.AllGroups()), len(p.AllServices()), p.Suppress)
		}
		return code
	}
	return usage()
}

// policyPush: egresswatch policy push --nats URL FILE. The file is
// checked first (errors with file:line:col, exit 2, nothing stored), then
// stored in the fleet's bucket; every sensor started with --policy nats:
// loads the new revision.
func policyPush(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("policy push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var catalogs catalogFlags
	fs.Var(&catalogs, "catalog", "check with this domain list as a service (`[NAME:]FILE`, repeatable; the sensors need it too)")
	var nf natsFlags
	nf.register(fs, "nats")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || nf.conn.URL == "" {
		fmt.Fprintln(stderr, "usage: egresswatch policy push --nats URL [--catalog [NAME:]FILE]... FILE")
		return 2
	}
	file := fs.Arg(0)
	cats, err := catalogs.load()
	if err != nil {
		fmt.Fprintf(stderr, "egresswatch policy push: %v\n", err)
		return 2
	}
	p, err := rules.LoadWith(file, cats...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintf(stderr, "%s: not stored\n", file)
		return 2
	}
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "egresswatch policy push: %v\n", err)
		return 2
	}
	c := nf.conn
	c.Name = "egresswatch policy push"
	nc, err := c.Connect(nil)
	if err != nil { // the flags are wrong, or the broker refused them (TLS, credentials)
		fmt.Fprintf(stderr, "egresswatch policy push: %v\n", err)
		return 2
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintf(stderr, "egresswatch policy push: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := fleet.EnsureStream(ctx, js); err != nil { // the fleet's admin sets it up
		fmt.Fprintf(stderr, "egresswatch policy push: %v\n", err)
		return 1
	}
	rev, err := fleet.PushPolicy(ctx, js, data)
	if err != nil {
		fmt.Fprintf(stderr, "egresswatch policy push: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: stored as revision %d of %s/%s: %d rules, %d groups, %d services\n",
		file, rev, fleet.PolicyBucket, fleet.PolicyKey, len(p.Rules), len(p.AllGroups()), len(p.AllServices()))
	return 0
}
