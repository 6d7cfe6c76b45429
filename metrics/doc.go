// Package metrics exposes a live run's counters to Prometheus and as a
// one-line summary for the log.
//
// Nothing is registered globally: New builds a Collector over functions
// that read the run's state (pipeline.Engine.Snapshot, the capture rings'
// kernel statistics, the reload counters), and Handler serves it from its
// own registry. Every scrape reads fresh values; the collector keeps no
// copies of its own. Metric names start with egresswatch_. The run's
// counters are the rows of pipeline.Counters: a counter declared there is
// exported without a change here.
//
//	c := metrics.New(metrics.Sources{Summary: eng.Snapshot, Rings: ringStats, Reloads: &reloads})
//	http.Handle("/metrics", c.Handler())
package metrics
