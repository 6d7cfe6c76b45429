package fleet

import (
	"encoding/json"
	"time"

	"github.com/egresswatch/egresswatch/output"
)

// DatasetHealth is the event.dataset of heartbeats.
const DatasetHealth = "egresswatch.health"

// Health is a sensor's heartbeat on the wire (egresswatch.<sensor>.health).
type Health struct {
	Timestamp time.Time `json:"@timestamp"`
	Event     struct {
		Kind    string `json:"kind"` // "metric"
		Dataset string `json:"dataset"`
	} `json:"event"`
	Observer    json.RawMessage `json:"observer,omitempty"`
	Egresswatch struct {
		Health HealthStats `json:"health"`
	} `json:"egresswatch"`
}

// HealthStats is what a heartbeat reports.
type HealthStats struct {
	Run              string  `json:"run"`
	IntervalSeconds  float64 `json:"interval_seconds"` // the sensor's --heartbeat
	Packets          uint64  `json:"packets"`
	PacketsPerSecond float64 `json:"packets_per_second"` // since the last heartbeat
	KernelDrops      uint64  `json:"kernel_drops"`       // since the run started (live capture)
	// KernelDropsInterval and PacketsInterval are counted since the
	// sensor's previous heartbeat: a collector that has not seen that one
	// (it restarted) judges drops on them.
	KernelDropsInterval uint64  `json:"kernel_drops_interval"`
	PacketsInterval     uint64  `json:"packets_interval"`
	Flows               uint64  `json:"flows"`
	Alerts              uint64  `json:"alerts"`
	AlertsPerSecond     float64 `json:"alerts_per_second"`
	PolicyRevision      string  `json:"policy_revision,omitempty"`
	// PlacementAgeSeconds is the age of the oldest placement data file in
	// use (0: unknown).
	PlacementAgeSeconds float64 `json:"placement_age_seconds,omitempty"`
	Pending             int     `json:"pending"`       // messages awaiting the broker
	SpoolDropped        uint64  `json:"spool_dropped"` // not sent: dropped at the spool's cap, or too large
}

// EncodeHealth returns the heartbeat line for s, at t, from o.
func EncodeHealth(t time.Time, o *output.Observer, s HealthStats) []byte {
	var h Health
	h.Timestamp = t.UTC()
	h.Event.Kind, h.Event.Dataset = "metric", DatasetHealth
	h.Observer = output.AppendObserver(nil, o)[len(`"observer":`):]
	h.Egresswatch.Health = s
	line, _ := json.Marshal(&h) // plain values: cannot fail
	return line
}
