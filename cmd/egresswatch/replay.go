package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/metrics"
	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/report"
)

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return exitCode(stderr, "replay", replay(ctx, args, stdout, stderr))
}

func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	progress := fs.String("progress", "auto", "progress bar on stderr: `MODE` auto (when stderr is a terminal), always or never")
	quiet := fs.Bool("q", false, "no summary on stderr")
	workers := fs.Int("workers", runtime.NumCPU(), "flow-sharded `N` workers (output is the same for any N)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9477) at /metrics while the replay runs")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of the run to `FILE` (go tool pprof)")
	var rf runFlags
	rf.register(fs, false)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: egresswatch replay [flags] PATH...")
		fmt.Fprintln(stderr, "PATH is a pcap or pcapng file (optionally gzip- or zstd-compressed), a directory (read")
		fmt.Fprintln(stderr, "recursively, in name order) or - for standard input.")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	if err := flagErrs(checkEnum("progress", *progress, "auto", "always", "never"),
		checkRange("workers", *workers, 1, maxWorkers, ""), rf.validate()); err != nil {
		return err
	}

	// A file named on the command line that is not a capture is an error;
	// one found while walking a directory (a README, a checksum list) is
	// skipped and counted.
	named := map[string]bool{}
	for _, a := range fs.Args() {
		named[a] = true
	}
	var fileErrs int
	var skipped []string
	src, err := capture.OpenAll(fs.Args(), capture.WithErrorHandler(func(err error) {
		var fe *capture.FileError
		if errors.As(err, &fe) && errors.Is(fe.Err, capture.ErrNotCapture) && !named[fe.Path] {
			skipped = append(skipped, fe.Path)
			return
		}
		fileErrs++
		fmt.Fprintf(stderr, "%v\n", err)
	}))
	if err != nil {
		return configErr(err)
	}
	defer src.Close()
	rf.durable.logf = func(format string, a ...any) { fmt.Fprintf(stderr, "egresswatch replay: "+format+"\n", a...) }
	r, err := newRun(&rf, src.Paths(), *workers, stdout, stderr)
	if err != nil {
		return err
	}
	defer r.close()
	r.warnPlacement(stderr)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return configErr(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return configErr(fmt.Errorf("cpu profile: %w", err))
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	eng := pipeline.New(r.cfg)
	start := time.Now()
	actors := []actor{progressBar(*progress, stderr, src, start), r.watchPolicy(&rf, eng), r.heartbeat(rf.pub.heartbeat, eng, nil)}
	if *metricsAddr != "" {
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return configErr(fmt.Errorf("metrics: %w", err))
		}
		col := metrics.New(metrics.Sources{Summary: eng.Snapshot, PlacementTime: r.placement})
		actors = append(actors, serveMetrics(ln, col.Handler()))
	}
	var sum pipeline.Summary
	runErr := runGroup(ctx, func(ctx context.Context) (err error) {
		sum, err = eng.Run(ctx, src)
		return err
	}, nil, actors...)
	if *memProfile != "" {
		if f, perr := os.Create(*memProfile); perr == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if r.rep != nil {
		// Added to what a continued report (--state) read before.
		for _, in := range fs.Args() {
			if !slices.Contains(r.rep.Inputs, in) {
				r.rep.Inputs = append(r.rep.Inputs, in)
			}
		}
		r.rep.Skipped += len(skipped)
		r.rep.FileErrs += fileErrs
	}
	if err := r.writeReport(); err != nil {
		return err
	}
	pubErr := r.finishPublish(stderr)
	if !*quiet {
		printSummary(stderr, sum, len(src.Paths())-len(skipped), fileErrs, time.Since(start))
		if len(skipped) > 0 {
			fmt.Fprintf(stderr, "  skipped %d file(s) in the directories given that are not captures:\n", len(skipped))
			for _, p := range skipped {
				fmt.Fprintf(stderr, "    %s\n", p)
			}
		}
		fmt.Fprintf(stderr, "  placement: %s\n", orNone(strings.Join(r.db.Sources(), ", ")))
		r.warnPlacement(stderr) // again at the end, where it is read
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr // SIGINT ends a replay early, not in failure
	}
	if fileErrs > 0 {
		return errReported
	}
	return pubErr
}

// progressBar draws a byte-based progress bar on stderr while the replay
// runs, when mode and the terminal allow. The rate is measured from start
// (when the replay began, before the first byte was read); at the end the
// bar is drawn once more at its final figures and left on the screen.
func progressBar(mode string, stderr io.Writer, src *capture.Multi, start time.Time) actor {
	show := mode == "always"
	if mode == "auto" {
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			show = true
		}
	}
	return func(done context.Context) error {
		if !show {
			return nil
		}
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done.Done():
				n, total := src.Progress()
				fmt.Fprintf(stderr, "\r%s\n", barLine(n, total, time.Since(start), true))
				return nil
			case <-t.C:
				n, total := src.Progress()
				fmt.Fprintf(stderr, "\r%s", barLine(n, total, time.Since(start), false))
			}
		}
	}
}

// barLine renders one state of the progress bar: percentage, bar, bytes
// read of the total, the mean rate since the start and, while running,
// the time left (or, at the end, the time taken).
func barLine(n, total int64, took time.Duration, final bool) string {
	total = max(total, n)
	frac := 1.0
	if total > 0 {
		frac = float64(n) / float64(total)
	}
	const width = 30
	fill := int(frac * width)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	line := fmt.Sprintf("replay %3d%% [%s] %s / %s", int(frac*100), bar, bytesIEC(n), bytesIEC(total))
	secs := took.Seconds()
	if secs < 0.5 && !final {
		return line + "           " // no rate from half a second of reading
	}
	rate := float64(n) / max(secs, 1e-3)
	line += fmt.Sprintf(", %s/s", bytesIEC(int64(rate)))
	if final {
		return line + fmt.Sprintf(", %s", took.Round(10*time.Millisecond))
	}
	if rate > 0 {
		left := time.Duration(float64(total-n) / rate * float64(time.Second))
		line += fmt.Sprintf(", %s left  ", left.Round(time.Second))
	}
	return line
}

func bytesIEC(n int64) string { return report.Bytes(uint64(max(n, 0))) }

// printSummary writes the end-of-run summary: files and packets, then the
// counters' lines (pipeline/counters.go declares them).
func printSummary(w io.Writer, s pipeline.Summary, files, fileErrs int, took time.Duration) {
	f := s.Decode.Frames
	fmt.Fprintf(w, "egresswatch: %d file(s), %d with errors; %d packets in %.2fs (%.0f packets/s)\n",
		files, fileErrs, f, took.Seconds(), float64(f)/max(took.Seconds(), 1e-9))
	_ = s.WriteText(w) // stderr: nowhere to report a failure
	if ev := s.Evidence; ev.Files+ev.OverTotal+ev.WriteErrors > 0 {
		fmt.Fprintf(w, "  evidence: %d capture(s), %d packets; left out: %d packets past a flow's bound, %d flows past --evidence-max; %d write errors\n",
			ev.Files, ev.Packets, ev.OverFlow, ev.OverTotal, ev.WriteErrors)
	}
}
