package output

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/track"
)

// TestReplaceNotes checks that replacing a line's notes gives the bytes
// the Encoder writes for the other view of the flow, whatever notes each
// view has, with and without other egresswatch members before them.
func TestReplaceNotes(t *testing.T) {
	type view struct {
		hidden bool
		blind  classify.BlindSpot
	}
	views := []view{{false, classify.BlindNone}, {true, classify.BlindNone}, {false, classify.BlindDoH},
		{true, classify.BlindDoT}, {false, classify.BlindDoQ}}
	for _, named := range []bool{false, true} {
		flowWith := func(v view) *track.FlowMeta {
			f := testFlow(flow.TCP, "10.0.0.1:50000", "1.1.1.1:443")
			if named {
				f.Name, f.NameSource = "cloudflare-dns.com", track.NameSNI
			}
			f.NameHidden, f.BlindSpot = v.hidden, v.blind
			return f
		}
		for _, from := range views {
			for _, to := range views {
				var e Encoder
				fFrom := flowWith(from)
				o := tlsObs(testPacket(fFrom))
				// With named=false and no placement, the egresswatch
				// object holds the ech flag only: clear it too, so the
				// notes can be its first members.
				o.Hello.ECH = named
				line := bytes.Clone(e.Observation(o, fFrom, nil))
				start, end := e.NotesSpan()
				got := ReplaceNotes(nil, line, start, end, flowWith(to))
				var e2 Encoder
				want := e2.Observation(o, flowWith(to), nil)
				if !bytes.Equal(got, want) {
					t.Errorf("named=%v %+v -> %+v:\n got %s\nwant %s", named, from, to, got, want)
				}
				var m map[string]any
				if err := json.Unmarshal(got, &m); err != nil {
					t.Errorf("named=%v %+v -> %+v: not JSON: %v\n%s", named, from, to, err, got)
				}
				if err := checkDupKeys(got); err != nil {
					t.Errorf("named=%v %+v -> %+v: %v", named, from, to, err)
				}
			}
		}
	}
}

func TestFlowNotes(t *testing.T) {
	f := testFlow(flow.TCP, "192.0.2.10:49160", "198.51.100.60:443")
	f.Name, f.NameSource = "secret.example.org", track.NameDNS
	f.ECH, f.NameHidden, f.BlindSpot = true, true, classify.BlindDoH
	m, _ := writeOne(t, func(w *Writer) { w.Flow(f, nil) })
	ew, _ := m["egresswatch"].(map[string]any)
	for k, want := range map[string]any{"ech": true, "name_hidden": true, "blind_spot": "doh", "name_source": "dns"} {
		if ew[k] != want {
			t.Errorf("egresswatch.%s = %v; want %v", k, ew[k], want)
		}
	}
}
