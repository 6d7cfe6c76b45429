package pipeline

import (
	"context"
	"errors"
	"io"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// Config is what Run needs. The zero value runs with defaults and writes
// nothing.
type Config struct {
	// Events receives one ECS JSON line per observation and per flow; nil
	// writes none.
	Events io.Writer
	// Placer places destinations; nil leaves events without placement.
	Placer Placer
	Flows  track.TableOptions
	Names  track.NamesOptions

	// Policy is evaluated on every flow, name and DNS question; nil
	// evaluates nothing. Alerts receives them as ECS JSON lines (nil
	// counts them only); Report, when set, is fed every egress flow and
	// alert.
	Policy *rules.Policy
	Alerts io.Writer
	Report *report.Builder

	events *output.Writer
	alerts *output.Writer
}

// Summary is what a run saw, for the end-of-run report on stderr.
type Summary struct {
	Decode  classify.DecodeStats
	Inspect classify.InspectStats
	Flows   track.TableStats
	Names   track.NameStats
	NamedBy map[string]uint64 // flows named, by name source
	Events  uint64
	Judge   JudgeStats
}

// Run reads src to the end (or until ctx is done) and returns what it saw.
// A *capture.FormatError from src ends the current file, not the run: the
// caller's Source (capture.Multi) records it and goes on; Run returns only
// errors that stop everything.
func Run(ctx context.Context, src capture.Source, cfg Config) (Summary, error) {
	if cfg.Events != nil {
		cfg.events = output.NewWriter(cfg.Events)
	}
	if cfg.Alerts != nil {
		cfg.alerts = output.NewWriter(cfg.Alerts)
	}
	names := track.NewNames(cfg.Names)
	w := newWorker(&cfg, names)
	var err error
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			err = ctx.Err()
			break
		}
		fr, e := src.Next()
		if e != nil {
			if !errors.Is(e, io.EOF) {
				err = e
			}
			break
		}
		w.Handle(fr)
	}
	w.flows.Flush()
	if w.judge != nil {
		w.judge.flush()
	}
	s := Summary{
		Decode:  w.dec.Stats,
		Inspect: w.insp.Stats,
		Flows:   w.flows.Stats,
		Names:   names.Stats(),
		NamedBy: map[string]uint64{},
	}
	for i, n := range w.stats.NamedBy {
		if n > 0 {
			s.NamedBy[track.NameSource(i).String()] = n
		}
	}
	if w.judge != nil {
		s.Judge = w.judge.stats
	}
	if cfg.alerts != nil {
		if ferr := cfg.alerts.Flush(); ferr != nil && err == nil {
			err = ferr
		}
	}
	if cfg.events != nil {
		s.Events = cfg.events.Count()
		if ferr := cfg.events.Flush(); ferr != nil && err == nil {
			err = ferr
		}
	}
	return s, err
}
