package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/pipeline"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

func sample() pipeline.Summary {
	return pipeline.Summary{
		Decode:  classify.DecodeStats{Frames: 1000, L4: 990, Malformed: 3, UnknownLink: 1},
		Inspect: classify.InspectStats{DNSMessages: 40, TLSHellos: 12, HTTPRequests: 2},
		Flows:   track.TableStats{Flows: 70, Active: 9, Evicted: 4, Expired: 57},
		Names:   track.NameStats{Entries: 33, Evicted: 1, Hits: 5},
		NamedBy: map[string]uint64{"sni": 12, "dns": 6},
		Events:  88,
		Judge:   rules.JudgeStats{Evaluations: 100, Alerts: 7, Suppressed: 2, ByRule: map[string]uint64{"uk-only": 6, "no-tiktok": 3}},
		Workers: 2,
	}
}

func TestCollect(t *testing.T) {
	var rl Reloads
	rl.Success(time.Unix(1700000000, 0))
	rl.Failure()
	c := New(Sources{
		Summary: sample,
		Rings: func() []Ring {
			return []Ring{{"eth1", 0, 600, 0, 0}, {"eth1", 1, 450, 25, 1}}
		},
		Reloads: &rl,
	})
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"egresswatch_packets_total", 1000},
		{"egresswatch_flows_active", 9},
		{"egresswatch_flow_evictions_total", 4},
		{"egresswatch_events_total", 88},
		{"egresswatch_alerts_written_total", 7},
		{"egresswatch_passive_dns_entries", 33},
		{"egresswatch_last_reload_success_timestamp_seconds", 1700000000},
	} {
		mfs, err := c.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, mf := range mfs {
			if mf.GetName() == tc.name {
				found = true
				m := mf.GetMetric()[0]
				got := m.GetCounter().GetValue() + m.GetGauge().GetValue()
				if got != tc.want {
					t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
				}
			}
		}
		if !found {
			t.Errorf("%s missing", tc.name)
		}
	}
	const labelled = `
# HELP egresswatch_alerts_total Alerts raised (written or suppressed), by rule.
# TYPE egresswatch_alerts_total counter
egresswatch_alerts_total{rule="no-tiktok"} 3
egresswatch_alerts_total{rule="uk-only"} 6
# HELP egresswatch_kernel_drops_total Packets the kernel dropped because a capture ring was full.
# TYPE egresswatch_kernel_drops_total counter
egresswatch_kernel_drops_total{interface="eth1",ring="0"} 0
egresswatch_kernel_drops_total{interface="eth1",ring="1"} 25
# HELP egresswatch_reloads_total Configuration loads (policy, GeoIP, cloud ranges), by result.
# TYPE egresswatch_reloads_total counter
egresswatch_reloads_total{result="failure"} 1
egresswatch_reloads_total{result="success"} 1
`
	if err := testutil.GatherAndCompare(c.Registry(), strings.NewReader(labelled),
		"egresswatch_alerts_total", "egresswatch_kernel_drops_total", "egresswatch_reloads_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "egresswatch_names_total"); n != 4 {
		t.Errorf("names_total has %d series, want 4 (sni, quic, http, dns)", n)
	}
}

func TestHandler(t *testing.T) {
	c := New(Sources{Summary: sample})
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"egresswatch_packets_total 1000", `egresswatch_names_total{source="sni"} 12`, "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "go_") || strings.HasPrefix(line, "process_") {
			continue
		}
		if !strings.HasPrefix(line, "egresswatch_") {
			t.Errorf("metric without the egresswatch_ prefix: %s", line)
		}
	}
}

func TestLine(t *testing.T) {
	s := sample()
	prev := s
	prev.Decode.Frames = 400
	got := Line(s, prev, time.Minute, []Ring{{Packets: 900, Drops: 9}, {Packets: 100, Drops: 1}})
	for _, want := range []string{"packets 1000 (10/s)", "kernel drops 10 (1.000%)", "flows 70 active 9 evicted 4", "named 18", "alerts 7 written 2 suppressed", "decode errors 4"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
}
