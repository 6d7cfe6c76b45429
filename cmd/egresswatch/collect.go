package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/egresswatch/egresswatch/fleet"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
)

func cmdCollect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return exitCode(stderr, "collect", collect(ctx, args, stdout, stderr))
}

// collect: egresswatch collect --nats URL [--alerts FILE] [--events FILE]
// [--report FILE] [--metrics ADDR].
func collect(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf natsFlags
	nf.register(fs, "nats")
	alerts := fs.String("alerts", "", "append the fleet's alerts (and the collector's own) as ECS JSON lines to `FILE`")
	events := fs.String("events", "", "append the fleet's events and residency records to `FILE`")
	reportPath := fs.String("report", "", "write the fleet residency report to `FILE` (.md, .csv or .json) every --report-every and at exit")
	reportEvery := fs.Duration("report-every", time.Minute, "rewrite the report this often")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics")
	durable := fs.String("durable", "egresswatch-collector", "the durable consumer's `NAME` (one per collector)")
	name := fs.String("name", "collector", "the collector's observer.name on its own alerts")
	misses := fs.Int("misses", 3, "heartbeats a sensor may miss before a sensor-silent alert")
	drops := fs.Uint64("drops", 1000, "kernel drops between two heartbeats that raise a sensor-drops alert")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: egresswatch collect --nats URL [--alerts FILE] [--events FILE] [--report FILE] [--metrics ADDR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if nf.conn.URL == "" {
		fs.Usage()
		return errUsage
	}
	var rep *report.Builder
	var format string
	if *reportPath != "" {
		var err error
		if format, err = report.FormatFor(*reportPath); err != nil {
			return configErr(err)
		}
		rep = report.New()
		rep.Files = []string{"fleet (NATS stream " + fleet.Stream + ")"}
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "egresswatch collect: "+format+"\n", args...) }
	c := nf.conn
	c.Name = "egresswatch collector " + *name
	nc, err := c.Connect(logf)
	if err != nil {
		return configErr(err)
	}
	defer nc.Close()
	// A collector started before its broker (boot order) waits for it;
	// SIGTERM while it waits ends it cleanly.
	if err := fleet.WaitConnected(ctx, nc, logf); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return configErr(err)
	}
	host, _ := os.Hostname()
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	col, err := fleet.NewCollector(octx, nc, fleet.CollectorOptions{
		Durable: *durable, Alerts: *alerts, Events: *events, Report: rep, Misses: *misses, Drops: *drops, Logf: logf,
		Observer: &output.Observer{Name: *name, Hostname: host, Version: buildVersion(), Type: "collector"},
	})
	cancel()
	if err != nil {
		return configErr(err)
	}
	writeReport := func() error {
		if rep == nil {
			return nil
		}
		tmp := *reportPath + ".tmp"
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		if err := rep.Write(f, format); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(tmp, *reportPath)
	}
	var actors []actor
	if *metricsAddr != "" {
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return configErr(err)
		}
		actors = append(actors, serveMetrics(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			col.WriteMetrics(w)
		})))
	}
	// The collector feeds the report under its lock: write it under it.
	if rep != nil {
		actors = append(actors, every(*reportEvery, func() {
			var err error
			col.Locked(func() { err = writeReport() })
			if err != nil {
				logf("report: %v", err)
			}
		}))
	}
	runErr := runGroup(ctx, col.Run, nil, actors...)
	if err := col.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if err := writeReport(); err != nil && runErr == nil {
		runErr = fmt.Errorf("report: %w", err)
	}
	st := col.Status()
	fmt.Fprintf(stderr, "egresswatch collect: %d sensor(s); %d alert(s), %d event(s), %d heartbeat(s) consumed; %d duplicate(s) skipped; %d fleet alert(s) raised\n",
		len(st.Sensors), st.Messages[fleet.KindAlert], st.Messages[fleet.KindEvent], st.Messages[fleet.KindHealth], st.Duplicates, st.Raised)
	if st.Undecodable > 0 {
		fmt.Fprintf(stderr, "egresswatch collect: %d message(s) could not be decoded and were skipped (see the log above)\n", st.Undecodable)
	}
	return runErr
}
