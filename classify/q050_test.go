package classify

import (
	"net/netip"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/classify/quic"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/internal/initialseal"
)

// TestInspectQ050 follows a Q050 flow sealed by internal/initialseal: its
// CHLO's SNI is reported once per connection attempt, as a Google QUIC
// hello of version Q050; a retransmission is not reported again, a new
// DCID on the same ports is, and an Initial sealed with another salt is
// counted as undecryptable.
func TestInspectQ050(t *testing.T) {
	seal := func(sni string, salt, dcid []byte, pn uint32) []byte {
		t.Helper()
		pkt, err := initialseal.Seal(initialseal.Initial{Salt: salt, DCID: dcid, PN: pn,
			Frames: initialseal.CryptoFrame(0, initialseal.CHLO(sni)), Size: 1350})
		if err != nil {
			t.Fatal(err)
		}
		return pkt
	}
	first, second := []byte{1, 1, 1, 1, 1, 1, 1, 1}, []byte{2, 2, 2, 2, 2, 2, 2, 2}
	v1Salt := []byte("\x38\x76\x2c\xf7\xf5\x59\x34\xb3\x4d\x17\x9a\xe6\xa4\xc8\x0c\xad\xcc\xbb\x7f\x0a")
	in := NewInspector()
	var st Stream
	for _, step := range []struct {
		name    string
		payload []byte
		want    string // SNI reported, "" for none
	}{
		{"wrong salt", seal("wrong.example.org", v1Salt, first, 1), ""},
		{"first attempt", seal("q050.example.org", nil, first, 1), "q050.example.org"},
		{"retransmission", seal("q050.example.org", nil, first, 2), ""},
		{"new attempt", seal("again.example.org", nil, second, 1), "again.example.org"},
	} {
		p := &Packet{
			Time:    time.Unix(1700000000, 0),
			Key:     flow.Key{Proto: flow.UDP, Src: netip.MustParseAddrPort("192.0.2.10:50000"), Dst: netip.MustParseAddrPort("203.0.113.5:443")},
			Payload: step.payload,
		}
		obs := in.Inspect(&st, p, true)
		switch {
		case step.want == "" && len(obs) > 0:
			t.Errorf("%s: %d observations, want none", step.name, len(obs))
		case step.want != "" && len(obs) != 1:
			t.Errorf("%s: %d observations, want 1", step.name, len(obs))
		case step.want != "":
			o := obs[0]
			if o.App != AppQUIC || o.QUICVersion != quic.VersionQ050 || !GoogleQUIC(o.QUICVersion) || o.Hello.ServerName != step.want {
				t.Errorf("%s: app %v, version %#x, SNI %q; want QUIC Q050 %q", step.name, o.App, o.QUICVersion, o.Hello.ServerName, step.want)
			}
		}
	}
	if in.Stats.QUICUndecrypt != 1 || in.Stats.GQUICHellos != 2 || in.Stats.QUICHellos != 2 {
		t.Errorf("stats: undecryptable %d, gquic %d, quic %d; want 1, 2, 2", in.Stats.QUICUndecrypt, in.Stats.GQUICHellos, in.Stats.QUICHellos)
	}
	st.Release()
}
