package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/egresswatch/egresswatch/evidence"
	"github.com/egresswatch/egresswatch/fleet"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/outfile"
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
	// errHelp: help was asked for and printed; that is success.
	errHelp = errors.New("help")
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
	case err == nil, errors.Is(err, errHelp):
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
	repFile   *os.File        // opened at the start; see openReport
	repFormat string
	repPath   string
	statePath string // the report's checkpoint; "": none

	durable *durableFlags   // durable.go
	files   []*outfile.File // live output files

	placedAt atomic.Int64 // unix time the placement data in force was made (georefresh.go)

	closers []func() error // outputs, closed by close

	placementWarning string           // what placement data is missing, with the fix; "" when none is
	pub              *fleet.Publisher // nil: not publishing (--publish)
	pubWait          time.Duration
	early            *earlyConn // the broker, reached while the placement data loads

	nc        *nats.Conn // nil: no broker
	js        jetstream.JetStream
	policyRev atomic.Uint64 // the fleet policy's revision in force (--policy nats:)
	logf      func(format string, args ...any)
}

// newRun builds the run from rf. inputs name what is read (files or
// interfaces) in the report. Every output file is created here, before a
// live run drops its privileges. The errors are configuration errors.
func newRun(rf *runFlags, inputs []string, workers int, stdout, stderr io.Writer) (_ *runSetup, err error) {
	r := &runSetup{durable: &rf.durable, logf: func(format string, args ...any) { fmt.Fprintf(stderr, "egresswatch: "+format+"\n", args...) }}
	defer func() {
		if err != nil {
			r.close()
			err = configErr(err)
		}
	}()
	if r.cfg.Observer, err = newObserver(rf.sensor); err != nil {
		return nil, err
	}
	r.early = dialEarly(rf, r.cfg.Observer.Name, r.logf)
	if r.db, err = rf.geo.open(); err != nil {
		return nil, err
	}
	// Parsing the placement files leaves garbage several times the size
	// of the tables kept: give it back before the run starts.
	debug.FreeOSMemory()
	r.cfg.PlacementData, r.placementWarning = placementGap(r.db)
	if rf.requirePlacement && r.placementWarning != "" {
		return nil, fmt.Errorf("--require-placement: %s", r.placementWarning)
	}
	r.notePlacement(rf.geo.options())
	r.cfg.PlacementTime = r.placement
	db := r.db
	r.cfg.NewPlacer = func() pipeline.Placer { return geo.NewCache(db, 1<<14) }
	r.cfg.Workers = workers
	rf.applyMemory(&r.cfg)
	if r.cfg.Inventory, err = rf.loadInventory(); err != nil {
		return nil, err
	}
	if !rf.noPolicy {
		if err := r.fleetPolicy(rf); err != nil {
			return nil, err
		}
		if r.cfg.Policy, err = rf.loadPolicy(); err != nil {
			return nil, err
		}
		if rf.alerts != "" {
			if r.cfg.Alerts, err = r.output("alerts", rf.alerts, stdout); err != nil {
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
		if err = r.openReport(rf.report, inputs); err != nil {
			return nil, err
		}
		reportPolicy(r.rep, r.cfg.Policy)
		r.rep.Placement = r.db.Sources()
		r.rep.PlacementWarning = r.placementWarning
		r.rep.Policy = policyName(rf)
		r.rep.ApprovedRules = approvedSets(r.cfg.Policy)
		r.cfg.Report = r.rep
	}
	if rf.events != "" {
		if r.cfg.Events, err = r.output("events", rf.events, stdout); err != nil {
			return nil, err
		}
	}
	if rf.evidence != "" {
		if r.cfg.Policy == nil {
			return nil, errors.New("--evidence needs a policy (drop --no-policy)")
		}
		if r.cfg.Evidence, err = evidence.New(evidence.Options{Dir: rf.evidence, Total: int64(rf.evidenceMax)}); err != nil {
			return nil, err
		}
		if r.rep != nil {
			r.rep.EvidenceDir = evidenceLink(rf.report, rf.evidence)
		}
	}
	if err := r.startPublish(rf, stderr); err != nil {
		return nil, err
	}
	return r, nil
}

// output opens an output file (see openFile), or stdout for "-".
func (r *runSetup) output(name, path string, stdout io.Writer) (io.Writer, error) {
	if path == "-" {
		return stdout, nil
	}
	return r.openFile(name, path)
}

// withoutPath drops the operation and path of an *fs.PathError, for a
// message that names the path already; errors.Is still sees the cause.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// close closes the output files (the pipeline has flushed them) and the
// report's file if writeReport did not.
func (r *runSetup) close() {
	// At the same time: each may wait for a failing disk (outfile).
	var wg sync.WaitGroup
	for _, c := range r.closers {
		wg.Go(func() { c() }) // flushed by the pipeline already
	}
	wg.Wait()
	r.closers = nil
	if r.early != nil && r.nc == nil {
		r.early.close() // a run that failed before it used the connection
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

// evidenceLink is the evidence folder as the report links it: relative to
// the report's folder when it can be, else absolute.
func evidenceLink(reportPath, dir string) string {
	if rel, err := filepath.Rel(filepath.Dir(reportPath), dir); err == nil {
		return filepath.ToSlash(rel)
	}
	abs, _ := filepath.Abs(dir)
	return filepath.ToSlash(abs)
}
