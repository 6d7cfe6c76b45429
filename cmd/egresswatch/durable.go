package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/egresswatch/egresswatch/metrics"
	"github.com/egresswatch/egresswatch/outfile"
	"github.com/egresswatch/egresswatch/report"
)

// durableFlags say how the outputs of a long run survive it: append
// instead of truncate, rotation, the bounded queue in front of a failing
// disk, and the report's checkpoint (issue 12).
type durableFlags struct {
	live            bool
	appendOut       bool // replay: append instead of create new (live always appends)
	rotateSize      byteSize
	rotateEvery     time.Duration
	rotateKeep      int
	compress        string
	queue           byteSize
	stateDir        string
	checkpointEvery time.Duration
	reportEvery     time.Duration

	logf func(format string, args ...any) // set by the command before newRun
}

// stateFile is the report's checkpoint in --state DIR.
const stateFile = "report-state.json"

func (d *durableFlags) register(fs *flag.FlagSet, live bool) {
	d.live = live
	fs.StringVar(&d.stateDir, "state", defaultStateDir(live), "keep the report's state in `DIR` and continue it when started again "+
		"(live default: systemd's $STATE_DIRECTORY)")
	if !live {
		fs.BoolVar(&d.appendOut, "append", false, "append to the events and alerts files instead of creating them new")
		return
	}
	fs.Var(&d.rotateSize, "rotate-size", "rotate the events and alerts files at `SIZE` (e.g. 1GiB)")
	fs.DurationVar(&d.rotateEvery, "rotate-every", 0, "rotate the events and alerts files every `DURATION` (e.g. 24h)")
	fs.IntVar(&d.rotateKeep, "rotate-keep", 0, "keep `N` rotated files of each (0: all)")
	fs.StringVar(&d.compress, "rotate-compress", "zstd", "compress rotated files: zstd, gzip or none")
	d.queue = 32 << 20
	fs.Var(&d.queue, "output-buffer", "hold up to `SIZE` of lines per output in memory while its disk fails (full, I/O errors)")
	fs.DurationVar(&d.checkpointEvery, "checkpoint-every", time.Minute, "save the report's state (--state) this often")
	fs.DurationVar(&d.reportEvery, "report-every", 0, "also write the report this often (0: at exit only)")
}

// defaultStateDir is systemd's StateDirectory for live, if it set one.
func defaultStateDir(live bool) string {
	if !live {
		return ""
	}
	dir, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":")
	return dir
}

func (d *durableFlags) options(name string) outfile.Options {
	c := d.compress
	if c == "none" {
		c = ""
	}
	return outfile.Options{Name: name, RotateSize: int64(d.rotateSize), RotateEvery: d.rotateEvery, Keep: d.rotateKeep,
		Compress: c, QueueBytes: int(d.queue), Logf: d.logf}
}

// openFile opens an output file: live through outfile (append, rotation,
// a queue in front of the disk); replay new, or appended to with --append
// after a torn last line is set aside.
func (r *runSetup) openFile(name, path string) (io.Writer, error) {
	d := r.durable
	if d.live {
		f, err := outfile.Open(path, d.options(name))
		if err != nil {
			return nil, err
		}
		r.files = append(r.files, f)
		r.closers = append(r.closers, f.Close)
		return f, nil
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if d.appendOut {
		if n, err := outfile.Repair(path); err != nil {
			return nil, err
		} else if n > 0 {
			d.logf("%s: a torn last line (%d bytes) was moved to %s", path, n, path+outfile.TornSuffix)
		}
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, withoutPath(err))
	}
	r.closers = append(r.closers, f.Close)
	return f, nil
}

// reopen reopens the output files (SIGHUP, after logrotate renamed them).
func (r *runSetup) reopen() {
	for _, f := range r.files {
		f.Reopen()
	}
}

// outputStats are the output files' counters, for the metrics.
func (r *runSetup) outputStats() []metrics.Output {
	out := make([]metrics.Output, 0, len(r.files))
	for _, f := range r.files {
		s := f.Stats()
		out = append(out, metrics.Output{Name: s.Name, Errors: s.Errors, Dropped: s.Dropped, Rotations: s.Rotations, Queued: s.Queued})
	}
	return out
}

// printOutputs adds a line per output file that rotated, failed or
// dropped to the end-of-run summary. Call it after close.
func (r *runSetup) printOutputs(w io.Writer) {
	for _, f := range r.files {
		if s := f.Stats(); s.Errors+s.Dropped+s.Rotations+s.Reopens > 0 {
			fmt.Fprintf(w, "  output %s: %d lines, %d rotations, %d reopens, %d write errors, %d lines dropped\n",
				s.Name, s.Lines, s.Rotations, s.Reopens, s.Errors, s.Dropped)
		}
	}
}

// openReport checks that the report can be written (before a live run
// drops privileges) without truncating the last one, and starts the
// Builder, continued from --state DIR when a checkpoint is there.
func (r *runSetup) openReport(path string, inputs []string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("create report %s: %w", path, withoutPath(err))
	}
	r.repFile, r.repPath = f, path
	r.rep = report.New()
	if r.durable.stateDir != "" {
		r.statePath = filepath.Join(r.durable.stateDir, stateFile)
		if err := os.MkdirAll(r.durable.stateDir, 0o750); err != nil {
			return fmt.Errorf("--state: %w", err)
		}
		if sf, err := os.Open(r.statePath); err == nil {
			rep, lerr := report.Load(sf)
			sf.Close()
			if lerr != nil {
				// Written by rename, so only a foreign file or the checkpoint
				// of another egresswatch version (report.ErrStateVersion)
				// gets here: keep it for a look and start afresh.
				bad := r.statePath + ".bad"
				os.Rename(r.statePath, bad)
				r.durable.logf("%s: %v; moved to %s, the report starts afresh", r.statePath, lerr, bad)
			} else {
				r.rep = rep
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--state: %w", err)
		}
	}
	for _, in := range inputs {
		if !slices.Contains(r.rep.Files, in) {
			r.rep.Files = append(r.rep.Files, in)
		}
	}
	return nil
}

// writeReport writes the report at the end of the run (through a
// temporary file and a rename, so a reader never sees half a report) and
// saves its state for the next run.
func (r *runSetup) writeReport() error {
	if r.rep == nil {
		return nil
	}
	if err := r.writeReportOf(r.rep); err != nil {
		return err
	}
	if err := r.saveState(); err != nil {
		return err
	}
	f := r.repFile
	r.repFile = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("report %s: %w", r.repPath, err)
	}
	return nil
}

func (r *runSetup) writeReportOf(b *report.Builder) error {
	err := writeAtomic(r.repPath, func(w io.Writer) error { return b.Write(w, r.repFormat) })
	if errors.Is(err, fs.ErrPermission) {
		// The directory is not ours (after --user): rewrite the file
		// opened at the start in place.
		err = rewrite(r.repFile, func(w io.Writer) error { return b.Write(w, r.repFormat) })
	}
	if err != nil {
		return fmt.Errorf("report %s: %w", r.repPath, err)
	}
	return nil
}

// saveState checkpoints the report's state, if --state is set.
func (r *runSetup) saveState() error {
	if r.statePath == "" || r.rep == nil {
		return nil
	}
	if err := writeAtomic(r.statePath, r.rep.Save); err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	return nil
}

// writeAtomic writes path through a temporary file in its directory,
// synced, then renamed over it.
func writeAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing there
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func rewrite(f *os.File, write func(io.Writer) error) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return write(f)
}

// durableActors are the timers of a long run: the report's checkpoint
// and the periodic report.
func (r *runSetup) durableActors() []actor {
	var out []actor
	d := r.durable
	if r.rep != nil && r.statePath != "" && d.checkpointEvery > 0 {
		out = append(out, every(d.checkpointEvery, func() {
			if err := r.saveState(); err != nil {
				d.logf("checkpoint: %v", err)
			}
		}))
	}
	if r.rep != nil && d.reportEvery > 0 {
		out = append(out, every(d.reportEvery, func() {
			if err := r.writeReportOf(r.rep.Snapshot()); err != nil {
				d.logf("%v", err)
			}
		}))
	}
	return out
}

// every calls fn every interval until the run ends.
func every(interval time.Duration, fn func()) actor {
	return func(done context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done.Done():
				return nil
			case <-t.C:
				fn()
			}
		}
	}
}
