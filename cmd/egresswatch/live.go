//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/bpf"

	"github.com/egresswatch/egresswatch/capture/afpacket"
	"github.com/egresswatch/egresswatch/metrics"
	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/rules"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cmdLive: egresswatch live -i IFACE ... captures from AF_PACKET rings.
func cmdLive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return exitCode(stderr, "live", live(ctx, args, stdout, stderr))
}

func live(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ifaces stringList
	fs.Var(&ifaces, "i", "capture on `IFACE` (repeatable)")
	workers := fs.Int("workers", runtime.NumCPU(), "`N` capture rings per interface and flow-sharded workers")
	bpfExpr := fs.String("bpf", "", "capture filter `EXPR` (tcpdump syntax; compiled with tcpdump -ddd)")
	snaplen := fs.Int("snaplen", 0, "cut frames to `N` bytes (0: whole frames)")
	ringMiB := fs.Int("ring-size", 64, "`MiB` per ring")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9477) at /metrics")
	userName := fs.String("user", "", "drop to `USER` (and its groups) once the capture sockets are open")
	every := fs.Duration("summary-every", time.Minute, "print a summary line on stderr this often (0: never)")
	quiet := fs.Bool("q", false, "no summaries on stderr")
	geoEvery := fs.Duration("geo-refresh", 0, "fetch the cloud range files again and reload them this often (e.g. 24h; 0: never); failures keep the old data")
	var rf runFlags
	rf.register(fs, true)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: egresswatch live -i IFACE [-i IFACE...] [flags]")
		fmt.Fprintln(stderr, "Captures through AF_PACKET TPACKET_V3 rings (needs CAP_NET_RAW; see --user).")
		fmt.Fprintln(stderr, "SIGHUP reloads policy, inventory, catalogues, GeoIP and cloud ranges; SIGINT/SIGTERM drain and exit.")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(ifaces) == 0 || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	snapErr := checkRange("snaplen", *snaplen, 64, 262144, " bytes (or 0: whole frames)")
	if *snaplen == 0 {
		snapErr = nil
	}
	if err := flagErrs(checkRange("workers", *workers, 1, maxWorkers, ""), snapErr,
		checkRange("ring-size", *ringMiB, 1, 4096, " MiB"), checkEvery("summary-every", *every, time.Second),
		rf.validate()); err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, time.Now().Format(time.RFC3339)+" "+format+"\n", a...)
	}

	// Everything that needs privilege or reads configuration happens
	// first: data, outputs, capture sockets, the metrics listener. Then
	// the privilege goes.
	var reloads metrics.Reloads
	rf.durable.logf = logf
	r, err := newRun(&rf, ifaces, *workers, stdout, stderr)
	if err != nil {
		return err
	}
	defer r.close()
	r.warnPlacement(stderr)
	r.cfg.BatchFrames = 1024
	r.cfg.FlushBatches = true
	reloads.Success(time.Now())

	acfg := afpacket.Config{Interfaces: ifaces, Rings: *workers, RingBytes: *ringMiB << 20, Snaplen: *snaplen}
	if *bpfExpr != "" {
		if acfg.Filter, err = compileBPF(ifaces[0], *bpfExpr, *snaplen); err != nil {
			return configErr(err)
		}
	}
	src, err := afpacket.Open(acfg)
	if err != nil {
		return err
	}
	defer src.Close()
	ringStats := func() []metrics.Ring {
		st, _ := src.Stats()
		out := make([]metrics.Ring, len(st))
		for i, s := range st {
			out[i] = metrics.Ring{Interface: s.Interface, Ring: s.Ring, Packets: s.Packets, Drops: s.Drops, Freezes: s.Freezes}
		}
		return out
	}

	eng := pipeline.New(r.cfg)
	var actors []actor
	if *metricsAddr != "" {
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		col := metrics.New(metrics.Sources{Summary: eng.Snapshot, Rings: ringStats, Reloads: &reloads, Outputs: r.outputStats, PlacementTime: r.placement})
		actors = append(actors, serveMetrics(ln, col.Handler()))
	}
	if *userName != "" {
		if err := dropPrivileges(*userName); err != nil {
			return err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	actors = append(actors, reloadOnHUP(hup, &rf, r, eng, &reloads, logf))
	actors = append(actors, r.durableActors()...)
	if *geoEvery > 0 {
		actors = append(actors, geoRefresh(*geoEvery, &rf, r, logf))
	}
	actors = append(actors, r.watchPolicy(&rf, eng), r.heartbeat(rf.pub.heartbeat, eng, ringStats))
	if *every > 0 && !*quiet {
		actors = append(actors, summaryEvery(*every, eng, ringStats, logf))
	}

	if !*quiet {
		logf("capturing on %s with %d ring(s) each%s", strings.Join(ifaces, ", "), acfg.Rings, asUser(*userName))
	}
	// SIGINT/SIGTERM, or an actor's failure: stop reading and drain the
	// rings; Run then ends with a final batch that flushes every flow and
	// suppression summary. Run itself is not cancelled, so that it drains.
	var sum pipeline.Summary
	start := time.Now()
	runErr := runGroup(ctx, func(context.Context) (err error) {
		sum, err = eng.Run(context.Background(), src)
		return err
	}, src.Stop, actors...)
	if err := r.writeReport(); err != nil {
		return err
	}
	pubErr := r.finishPublish(stderr)
	r.close() // the output files drain their queues
	if !*quiet {
		printSummary(stderr, sum, 0, 0, time.Since(start))
		r.printOutputs(stderr)
		for _, rg := range ringStats() {
			fmt.Fprintf(stderr, "  ring %s/%d: kernel packets %d, drops %d, queue freezes %d\n", rg.Interface, rg.Ring, rg.Packets, rg.Drops, rg.Freezes)
		}
		ok, failed := reloads.Counts()
		fmt.Fprintf(stderr, "  reloads: %d in force, %d rejected\n", ok-1, failed)
	}
	if runErr != nil {
		return runErr
	}
	return pubErr
}

// reloadOnHUP reopens the output files and reloads on SIGHUP: everything new is loaded first and put
// in force only if all of it loaded. GeoIP and cloud ranges swap inside
// db.Reload, which keeps the old data on error.
func reloadOnHUP(hup <-chan os.Signal, rf *runFlags, r *runSetup, eng *pipeline.Engine, reloads *metrics.Reloads, logf func(string, ...any)) actor {
	return func(done context.Context) error {
		for {
			select {
			case <-done.Done():
				return nil
			case <-hup:
			}
			r.reopen() // logrotate renamed them: go on in new files
			var pol *rules.Policy
			var err error
			if r.cfg.Policy != nil {
				pol, err = rf.loadPolicy()
			}
			var inv *pipeline.Inventory
			if err == nil {
				inv, err = rf.loadInventory()
			}
			if err == nil {
				err = r.db.Reload()
			}
			if err != nil {
				reloads.Failure()
				logf("reload rejected, the old configuration stays in force: %v", err)
				continue
			}
			if pol != nil {
				eng.SetPolicy(pol)
			}
			if rf.inventory != "" {
				eng.SetInventory(inv)
			}
			reloads.Success(time.Now())
			r.notePlacement(rf.geo.options())
			logf("reloaded: policy %s; placement: %s", orDefault(rf.policy), strings.Join(r.db.Sources(), ", "))
		}
	}
}

// summaryEvery logs a summary line every interval.
func summaryEvery(every time.Duration, eng *pipeline.Engine, rings func() []metrics.Ring, logf func(string, ...any)) actor {
	return func(done context.Context) error {
		t := time.NewTicker(every)
		defer t.Stop()
		var prev pipeline.Summary
		for {
			select {
			case <-done.Done():
				return nil
			case <-t.C:
				s := eng.Snapshot()
				logf("%s", metrics.Line(s, prev, every, rings()))
				prev = s
			}
		}
	}
}

func orDefault(p string) string {
	if p == "" {
		return "(built-in)"
	}
	return p
}

func asUser(name string) string {
	if name == "" {
		return ""
	}
	return ", as user " + name
}

// dropPrivileges switches every thread to the user and its groups. Go's
// syscall.Setuid and friends apply to all threads of the process.
func dropPrivileges(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("--user: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("--user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("--user %s: gid %q: %w", name, u.Gid, err)
	}
	gids := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != gid {
				gids = append(gids, g)
			}
		}
	}
	if err := syscall.Setgroups(gids); err != nil {
		return fmt.Errorf("--user %s: setgroups: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("--user %s: setgid: %w", name, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("--user %s: setuid: %w", name, err)
	}
	if uid != 0 && syscall.Setuid(0) == nil {
		return fmt.Errorf("--user %s: could regain root after dropping it", name)
	}
	return nil
}

// compileBPF compiles a tcpdump filter expression for iface with tcpdump
// itself (-ddd: the program as decimal numbers), so the program uses the
// link type and VLAN conventions of a live Linux socket.
func compileBPF(iface, expr string, snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 {
		snaplen = 262144
	}
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		return nil, fmt.Errorf("--bpf needs tcpdump to compile the filter: %w", err)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(path, "-ddd", "-i", iface, "-s", strconv.Itoa(snaplen), expr)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("--bpf %q: %v: %s", expr, err, strings.TrimSpace(errb.String()))
	}
	return parseDDD(out.String())
}

// parseDDD reads tcpdump -ddd output: a count, then one "code jt jf k"
// line per instruction.
func parseDDD(s string) ([]bpf.RawInstruction, error) {
	rows := strings.Split(strings.TrimSpace(s), "\n")
	if len(rows) == 0 {
		return nil, errors.New("bpf: empty program")
	}
	n, err := strconv.Atoi(strings.TrimSpace(rows[0]))
	if err != nil || n != len(rows)-1 || n == 0 {
		return nil, fmt.Errorf("bpf: program says %q instructions, has %d", rows[0], len(rows)-1)
	}
	prog := make([]bpf.RawInstruction, 0, n)
	for i, row := range rows[1:] {
		f := strings.Fields(row)
		if len(f) != 4 {
			return nil, fmt.Errorf("bpf: instruction %d: %q", i+1, row)
		}
		var v [4]uint64
		for k := range f {
			if v[k], err = strconv.ParseUint(f[k], 10, 32); err != nil {
				return nil, fmt.Errorf("bpf: instruction %d: %w", i+1, err)
			}
		}
		if v[1] > 255 || v[2] > 255 || v[0] > 0xffff {
			return nil, fmt.Errorf("bpf: instruction %d out of range: %q", i+1, row)
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return prog, nil
}
