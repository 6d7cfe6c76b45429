package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Output is one output file's counters (outfile.Stats, copied by cmd so
// that this package needs no file code).
type Output struct {
	Name      string // "alerts", "events"
	Errors    uint64 // failed writes (ENOSPC, EIO, ...), retries included
	Dropped   uint64 // lines dropped: the queue was full while the disk failed
	Rotations uint64
	Queued    int64 // bytes waiting to be written
}

// outputDescs are the metrics of Sources.Outputs and Sources.PlacementTime.
type outputDescs struct {
	errors, dropped, rotations, queued, placementAge *prometheus.Desc
}

func newOutputDescs() outputDescs {
	return outputDescs{
		errors:       desc("output_errors_total", "Failed writes to an output file (no space, I/O error), retries included.", "output"),
		dropped:      desc("output_dropped_lines_total", "Lines an output could not hold in memory while its file failed, dropped.", "output"),
		rotations:    desc("output_rotations_total", "Output file rotations (by size or age).", "output"),
		queued:       desc("output_queued_bytes", "Bytes of lines waiting to be written to an output file.", "output"),
		placementAge: desc("placement_data_age_seconds", "Age of the placement data in force (its newest file)."),
	}
}

func (d *outputDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.errors, d.dropped, d.rotations, d.queued, d.placementAge}
}

func (d *outputDescs) collect(src *Sources, ch chan<- prometheus.Metric) {
	if src.Outputs != nil {
		for _, o := range src.Outputs() {
			ch <- prometheus.MustNewConstMetric(d.errors, prometheus.CounterValue, float64(o.Errors), o.Name)
			ch <- prometheus.MustNewConstMetric(d.dropped, prometheus.CounterValue, float64(o.Dropped), o.Name)
			ch <- prometheus.MustNewConstMetric(d.rotations, prometheus.CounterValue, float64(o.Rotations), o.Name)
			ch <- prometheus.MustNewConstMetric(d.queued, prometheus.GaugeValue, float64(o.Queued), o.Name)
		}
	}
	if src.PlacementTime != nil {
		if t := src.PlacementTime(); !t.IsZero() {
			ch <- prometheus.MustNewConstMetric(d.placementAge, prometheus.GaugeValue, time.Since(t).Seconds())
		}
	}
}
