package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/pipeline"
)

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return exitCode(stderr, "replay", replay(ctx, args, stdout, stderr))
}

func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
		return errUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
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
		var fe *capture.FileError
		if errors.As(err, &fe) && errors.Is(fe.Err, capture.ErrNotCapture) && !named[fe.Path] {
			skipped++
			return
		}
		fileErrs++
		fmt.Fprintf(stderr, "%v\n", err)
	}))
	if err != nil {
		return configErr(err)
	}
	defer src.Close()
	r, err := newRun(&rf, src.Paths(), *workers, stdout, stderr)
	if err != nil {
		return err
	}
	defer r.close()

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
	var sum pipeline.Summary
	start := time.Now()
	eng := pipeline.New(r.cfg)
	runErr := runGroup(ctx, func(ctx context.Context) (err error) {
		sum, err = eng.Run(ctx, src)
		return err
	}, nil, progressBar(*progress, stderr, src), r.watchPolicy(&rf, eng), r.heartbeat(rf.pub.heartbeat, eng, nil))
	if *memProfile != "" {
		if f, perr := os.Create(*memProfile); perr == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if err := r.writeReport(); err != nil {
		return err
	}
	pubErr := r.finishPublish(stderr)
	if !*quiet {
		printSummary(stderr, sum, len(src.Paths())-skipped, fileErrs, time.Since(start))
		if skipped > 0 {
			fmt.Fprintf(stderr, "  skipped %d file(s) in the directories given that are not captures\n", skipped)
		}
		fmt.Fprintf(stderr, "  placement: %s\n", strings.Join(r.db.Sources(), ", "))
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
// runs, when mode and the terminal allow.
func progressBar(mode string, stderr io.Writer, src *capture.Multi) actor {
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
		_, total := src.Progress()
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("replay"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetPredictTime(true),
		)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done.Done():
				n, _ := src.Progress()
				_ = bar.Set64(n)
				_ = bar.Finish()
				return nil
			case <-t.C:
				n, tot := src.Progress()
				if tot != bar.GetMax64() {
					bar.ChangeMax64(tot)
				}
				_ = bar.Set64(n)
			}
		}
	}
}

// printSummary writes the end-of-run summary: files and packets, then the
// counters' lines (pipeline/counters.go declares them).
func printSummary(w io.Writer, s pipeline.Summary, files, fileErrs int, took time.Duration) {
	f := s.Decode.Frames
	fmt.Fprintf(w, "egresswatch: %d file(s), %d with errors; %d packets in %.2fs (%.0f packets/s)\n",
		files, fileErrs, f, took.Seconds(), float64(f)/max(took.Seconds(), 1e-9))
	_ = s.WriteText(w) // stderr: nowhere to report a failure
}
