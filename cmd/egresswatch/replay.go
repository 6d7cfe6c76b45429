package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/report"
)

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when a terminal), always, never")
	quiet := fs.Bool("q", false, "no summary on stderr")
	workers := fs.Int("workers", runtime.NumCPU(), "flow-sharded `N` workers (output is the same for any N)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of the run to `FILE` (go tool pprof)")
	var rf runFlags
	rf.register(fs, false)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: egresswatch replay [flags] PATH...")
		fmt.Fprintln(stderr, "PATH is a pcap or pcapng file (optionally gzip- or zstd-compressed), a directory (read")
		fmt.Fprintln(stderr, "recursively, in name order) or - for standard input.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}

	// A file named on the command line that is not a capture is an error;
	// one found while walking a directory (a README, a checksum list) is
	// skipped and counted.
	named := map[string]bool{}
	for _, a := range fs.Args() {
		named[a] = true
	}
	var fileErrs, skipped int
	src, err := capture.OpenAll(fs.Args(), capture.WithErrorHandler(func(err error) {
		if errors.Is(err, capture.ErrNotCapture) {
			path, _, _ := strings.Cut(err.Error(), ": ")
			if !named[path] {
				skipped++
				return
			}
		}
		fileErrs++
		fmt.Fprintf(stderr, "%v\n", err)
	}))
	if err != nil {
		fmt.Fprintf(stderr, "egresswatch replay: %v\n", err)
		return 2
	}
	defer src.Close()

	var cfg pipeline.Config
	db, err := rf.geo.open()
	if err != nil {
		fmt.Fprintf(stderr, "egresswatch replay: %v\n", err)
		return 2
	}
	// Parsing the placement files leaves garbage several times the size
	// of the tables kept: give it back before the run starts.
	debug.FreeOSMemory()
	cfg.NewPlacer = func() pipeline.Placer { return geo.NewCache(db, 1<<14) }
	cfg.Workers = *workers
	rf.applyMemory(&cfg)
	if !rf.noPolicy {
		pol, err := rf.loadPolicy()
		if err != nil {
			fmt.Fprintf(stderr, "egresswatch replay: %v\n", err)
			return 2
		}
		cfg.Policy = pol
		if rf.alerts != "" {
			w, closeFn, err := createOutput(rf.alerts, stdout)
			if err != nil {
				fmt.Fprintf(stderr, "egresswatch replay: %v\n", err)
				return 2
			}
			defer closeFn()
			cfg.Alerts = w
		}
	}
	var rep *report.Builder
	var repFormat string
	if rf.report != "" {
		if repFormat, err = report.FormatFor(rf.report); err != nil {
			fmt.Fprintf(stderr, "egresswatch replay: %v\n", err)
			return 2
		}
		if cfg.Policy == nil {
			fmt.Fprintln(stderr, "egresswatch replay: --report needs a policy (drop --no-policy)")
			return 2
		}
		rep = report.New()
		rep.Files = src.Paths()
		reportPolicy(rep, cfg.Policy)
		cfg.Report = rep
	}
	if rf.events != "" {
		w, closeFn, err := createOutput(rf.events, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "egresswatch replay: %v\n", err)
			return 2
		}
		defer closeFn()
		cfg.Events = w
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "egresswatch replay: %v\n", err)
			return 2
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "egresswatch replay: cpu profile: %v\n", err)
			return 2
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	stopBar := startProgress(*progress, stderr, src)
	start := time.Now()
	sum, err := pipeline.Run(ctx, src, cfg)
	stopBar()
	if *memProfile != "" {
		if f, perr := os.Create(*memProfile); perr == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if rep != nil {
		if werr := writeReport(rep, rf.report, repFormat); werr != nil {
			fmt.Fprintf(stderr, "egresswatch replay: %v\n", werr)
			return 1
		}
	}
	if !*quiet {
		printSummary(stderr, sum, len(src.Paths())-skipped, fileErrs, time.Since(start))
		if skipped > 0 {
			fmt.Fprintf(stderr, "  skipped %d file(s) in the directories given that are not captures\n", skipped)
		}
		fmt.Fprintf(stderr, "  placement: %s\n", strings.Join(db.Sources(), ", "))
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "egresswatch replay: %v\n", err)
		return 1
	}
	if fileErrs > 0 {
		return 1
	}
	return 0
}

// createOutput opens an output file, or stdout for "-".
func createOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", path, err)
	}
	return f, f.Close, nil
}

// startProgress draws a byte-based progress bar on stderr while the replay
// runs, when mode and the terminal allow; it returns the function that
// stops it.
func startProgress(mode string, stderr io.Writer, src *capture.Multi) func() {
	show := mode == "always"
	if mode == "auto" {
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			show = true
		}
	}
	if !show {
		return func() {}
	}
	_, total := src.Progress()
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("replay"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				n, _ := src.Progress()
				_ = bar.Set64(n)
				_ = bar.Finish()
				return
			case <-t.C:
				n, tot := src.Progress()
				if tot != bar.GetMax64() {
					bar.ChangeMax64(tot)
				}
				_ = bar.Set64(n)
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func writeReport(rep *report.Builder, path, format string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := rep.Write(f, format); err != nil {
		f.Close()
		return fmt.Errorf("report %s: %w", path, err)
	}
	return f.Close()
}

func printSummary(w io.Writer, s pipeline.Summary, files, fileErrs int, took time.Duration) {
	d, in := s.Decode, s.Inspect
	var named []string
	keys := make([]string, 0, len(s.NamedBy))
	for k := range s.NamedBy {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var namedTotal uint64
	for _, k := range keys {
		named = append(named, fmt.Sprintf("%s %d", k, s.NamedBy[k]))
		namedTotal += s.NamedBy[k]
	}
	fmt.Fprintf(w, "egresswatch: %d file(s), %d with errors; %d packets in %.2fs (%.0f packets/s)\n",
		files, fileErrs, d.Frames, took.Seconds(), float64(d.Frames)/max(took.Seconds(), 1e-9))
	fmt.Fprintf(w, "  flows %d (named %d: %s); evicted %d, expired %d\n",
		s.Flows.Flows, namedTotal, strings.Join(named, ", "), s.Flows.Evicted, s.Flows.Expired)
	fmt.Fprintf(w, "  dns messages %d, tls hellos %d, quic hellos %d, http requests %d; events written %d\n",
		in.DNSMessages, in.TLSHellos, in.QUICHellos, in.HTTPRequests, s.Events)
	fmt.Fprintf(w, "  decode: malformed %d, unknown link type %d, non-IP %d, tunnelled %d, IP fragments %d (reassembled %d, dropped %d)\n",
		d.Malformed, d.UnknownLink, d.NonIP, d.Tunnelled, d.Fragments, d.Reassembled, d.FragEvicted)
	if j := s.Judge; j.Evaluations > 0 {
		rulesSeen := make([]string, 0, len(j.ByRule))
		for r, n := range j.ByRule {
			rulesSeen = append(rulesSeen, fmt.Sprintf("%s %d", r, n))
		}
		sort.Strings(rulesSeen)
		fmt.Fprintf(w, "  policy: %d evaluations, %d alerts written, %d suppressed (%s); suppression windows open %d (evicted %d)\n",
			j.Evaluations, j.Alerts, j.Suppressed, strings.Join(rulesSeen, ", "), j.SuppressWindows, j.SuppressEvicted)
	}
	fmt.Fprintf(w, "  streams: malformed dns %d, malformed tls %d, buffer overflows %d, out-of-order dropped %d, over memory budget %d; passive dns %d entries (evicted %d)\n",
		in.DNSMalformed, in.TLSMalformed, in.StreamOverflow, in.OOODropped, in.BudgetRefused, s.Names.Entries, s.Names.Evicted)
}
