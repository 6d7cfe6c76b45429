package output

import (
	"encoding/json"
	"testing"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// TestHelloNotes checks that a ClientHello's event carries the flow's
// notes (name_hidden, blind_spot) in every combination, as valid JSON
// without repeated keys, with and without other egresswatch members.
func TestHelloNotes(t *testing.T) {
	views := []struct {
		hidden bool
		blind  classify.BlindSpot
	}{{false, classify.BlindNone}, {true, classify.BlindNone}, {false, classify.BlindDoH},
		{true, classify.BlindDoT}, {false, classify.BlindDoQ}}
	for _, named := range []bool{false, true} {
		for _, v := range views {
			f := testFlow(flow.TCP, "10.0.0.1:50000", "1.1.1.1:443")
			if named {
				f.Name, f.NameSource = "cloudflare-dns.com", flow.NameSNI
			}
			f.NameHidden, f.BlindSpot = v.hidden, v.blind
			o := tlsObs(testPacket(f))
			o.Hello.ECH = named
			var e Encoder
			line := e.Observation(o, f, nil)
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("named=%v %+v: not JSON: %v\n%s", named, v, err, line)
			}
			if err := checkDupKeys(line); err != nil {
				t.Errorf("named=%v %+v: %v", named, v, err)
			}
			ew, _ := m["egresswatch"].(map[string]any)
			if got := ew["name_hidden"] == true; got != v.hidden {
				t.Errorf("named=%v %+v: name_hidden %v", named, v, ew["name_hidden"])
			}
			if got, _ := ew["blind_spot"].(string); got != v.blind.String() {
				t.Errorf("named=%v %+v: blind_spot %q; want %q", named, v, got, v.blind.String())
			}
		}
	}
}

func TestFlowNotes(t *testing.T) {
	f := testFlow(flow.TCP, "192.0.2.10:49160", "198.51.100.60:443")
	f.Name, f.NameSource = "secret.example.org", flow.NameDNS
	f.ECH, f.NameHidden, f.BlindSpot = true, true, classify.BlindDoH
	m, _ := writeOne(t, func(w *Writer) { w.Flow(f, nil) })
	ew, _ := m["egresswatch"].(map[string]any)
	for k, want := range map[string]any{"ech": true, "name_hidden": true, "blind_spot": "doh", "name_source": "dns"} {
		if ew[k] != want {
			t.Errorf("egresswatch.%s = %v; want %v", k, ew[k], want)
		}
	}
}
