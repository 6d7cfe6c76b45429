package output

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// TestObserverECS checks the observer block against the ECS field set
// (observer.name, .hostname, .type, .version: keywords) on a flow event
// an alert and observation events (a DHCP one too), and
// egresswatch.policy.revision on the alert.
func TestObserverECS(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SetObserver(&Observer{Name: "site-7", Hostname: "s7.example.gov", Version: "v1.2.3"})
	w.SetPolicyRevision("42")
	f := &track.FlowMeta{Key: flow.Key{Proto: flow.TCP,
		Src: netip.MustParseAddrPort("10.0.0.1:40000"), Dst: netip.MustParseAddrPort("192.0.2.1:443")},
		First: time.Unix(1, 0), Last: time.Unix(2, 0)}
	w.Flow(f, nil)
	w.Alert(&rules.Alert{Match: rules.Match{Rule: &rules.Rule{ID: "r1"}}, Input: rules.Input{Time: time.Unix(2, 0)}}, f, "")
	// Observation events, a device-identity one among them.
	p := &classify.Packet{Time: time.Unix(3, 0), Seq: 3, Key: f.Key}
	w.Observation(&classify.Observation{App: classify.AppHTTP, Packet: p, HTTP: classify.HTTPRequest{Method: "GET", Host: "example.org"}}, f, nil)
	w.Observation(&classify.Observation{App: classify.AppDHCP, Packet: p, DHCP: &classify.DHCPMessage{Type: 5}}, f, nil)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 4 {
		t.Fatalf("%d lines; want 4", n)
	}
	want := map[string]any{"name": "site-7", "hostname": "s7.example.gov", "type": "sensor", "version": "v1.2.3"}
	for i, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var ev struct {
			Observer    map[string]any `json:"observer"`
			Egresswatch struct {
				Policy struct {
					Revision string `json:"revision"`
				} `json:"policy"`
			} `json:"egresswatch"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, line)
		}
		if len(ev.Observer) != len(want) {
			t.Errorf("line %d: observer = %v, want %v", i, ev.Observer, want)
		}
		for k, v := range want {
			if ev.Observer[k] != v {
				t.Errorf("line %d: observer.%s = %v, want %v", i, k, ev.Observer[k], v)
			}
		}
		if i == 1 && ev.Egresswatch.Policy.Revision != "42" {
			t.Errorf("alert: egresswatch.policy.revision = %q, want 42", ev.Egresswatch.Policy.Revision)
		}
	}
}
