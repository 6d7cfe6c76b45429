package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/egresswatch/egresswatch/fleet"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/report"
)

// Errors and exit codes. replay and live return an error; exitCode alone
// turns it into a message on stderr and an exit code: 2 for a usage or
// configuration error (found before the run starts), 1 for a run that
// failed.
var (
	// errUsage: the flag package or the usage text already said what is
	// wrong.
	errUsage = errors.New("usage")
	// errReported: the run failed in ways already reported on stderr as
	// they happened (files that could not be read).
	errReported = errors.New("failures reported above")
)

// configError marks an error in the flags, the configuration or the data
// they name.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// configErr wraps err, if any, as a configuration error.
func configErr(err error) error {
	if err == nil {
		return nil
	}
	return configError{err}
}

// exitCode reports err from command name on stderr and returns the exit
// code.
func exitCode(stderr io.Writer, name string, err error) int {
	var ce configError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errReported):
		return 1
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "egresswatch %s: %v\n", name, err)
		return 2
	}
	fmt.Fprintf(stderr, "egresswatch %s: %v\n", name, err)
	return 1
}

// runSetup is a replay or live run built from the flags they share: the
// placement data, the policy with its catalogues, the outputs, the report
// and the memory budget, in a pipeline.Config.
type runSetup struct {
	cfg pipeline.Config
	db  *geo.DB

	rep       *report.Builder // nil: no report
	repFile   *os.File
	repFormat string

	closers []func() error // outputs, closed by close

	pub     *fleet.Publisher // nil: not publishing (--publish)
	pubWait time.Duration

	nc        *nats.Conn // nil: no broker
	js        jetstream.JetStream
	policyRev atomic.Uint64 // the fleet policy's revision in force (--policy nats:)
	logf      func(format string, args ...any)
}

// newRun builds the run from rf. inputs name what is read (files or
// interfaces) in the report. Every output file is created here, before a
// live run drops its privileges. The errors are configuration errors.
func newRun(rf *runFlags, inputs []string, workers int, stdout, stderr io.Writer) (_ *runSetup, err error) {
	r := &runSetup{logf: func(format string, args ...any) { fmt.Fprintf(stderr, "egresswatch: "+format+"\n", args...) }}
	defer func() {
		if err != nil {
			r.close()
			err = configErr(err)
		}
	}()
	if r.db, err = rf.geo.open(); err != nil {
		return nil, err
	}
	// Parsing the placement files leaves garbage several times the size
	// of the tables kept: give it back before the run starts.
	debug.FreeOSMemory()
	if r.cfg.Observer, err = newObserver(rf.sensor); err != nil {
		return nil, err
	}
	db := r.db
	r.cfg.NewPlacer = func() pipeline.Placer { return geo.NewCache(db, 1<<14) }
	r.cfg.Workers = workers
	rf.applyMemory(&r.cfg)
	if !rf.noPolicy {
		if err := r.fleetPolicy(rf); err != nil {
			return nil, err
		}
		if r.cfg.Policy, err = rf.loadPolicy(); err != nil {
			return nil, err
		}
		if rf.alerts != "" {
			if r.cfg.Alerts, err = r.output(rf.alerts, stdout); err != nil {
				return nil, err
			}
		}
	}
	if rf.report != "" {
		if r.repFormat, err = report.FormatFor(rf.report); err != nil {
			return nil, err
		}
		if r.cfg.Policy == nil {
			return nil, errors.New("--report needs a policy (drop --no-policy)")
		}
		if r.repFile, err = os.Create(rf.report); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		r.rep = report.New()
		r.rep.Files = inputs
		r.cfg.Report = r.rep
	}
	if rf.events != "" {
		if r.cfg.Events, err = r.output(rf.events, stdout); err != nil {
			return nil, err
		}
	}
	if err := r.startPublish(rf, stderr); err != nil {
		return nil, err
	}
	return r, nil
}

// output opens an output file, or stdout for "-".
func (r *runSetup) output(path string, stdout io.Writer) (io.Writer, error) {
	if path == "-" {
		return stdout, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	r.closers = append(r.closers, f.Close)
	return f, nil
}

// writeReport writes the residency report, if any, at the end of the run.
func (r *runSetup) writeReport() error {
	if r.rep == nil {
		return nil
	}
	if err := r.rep.Write(r.repFile, r.repFormat); err != nil {
		return fmt.Errorf("report %s: %w", r.repFile.Name(), err)
	}
	f := r.repFile
	r.repFile = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("report %s: %w", f.Name(), err)
	}
	return nil
}

// close closes the output files (the pipeline has flushed them) and the
// report's file if writeReport did not.
func (r *runSetup) close() {
	for _, c := range r.closers {
		c() // flushed by the pipeline already
	}
	if r.repFile != nil {
		r.repFile.Close()
	}
}

// actor runs beside the pipeline until done is closed (the pipeline has
// ended) or it fails; its error stops the run.
type actor func(done context.Context) error

// runGroup runs the pipeline (run) and the actors beside it in one
// errgroup. run gets a context that ends on a signal (ctx) or when an
// actor fails; stop, if not nil, is called then too (live capture stops
// reading and drains the rings). When run returns, the actors are told to
// end. The first error of any of them is returned.
func runGroup(ctx context.Context, run func(ctx context.Context) error, stop func(), actors ...actor) error {
	g, gctx := errgroup.WithContext(ctx)
	done, ended := context.WithCancel(context.Background())
	defer ended()
	g.Go(func() error {
		defer ended()
		return run(gctx)
	})
	if stop != nil {
		g.Go(func() error {
			select {
			case <-gctx.Done():
				stop()
			case <-done.Done():
			}
			return nil
		})
	}
	for _, a := range actors {
		g.Go(func() error { return a(done) })
	}
	return g.Wait()
}
