package evidence

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/egresswatch/egresswatch/flow"
)

var (
	key = flow.Key{Proto: flow.TCP, Src: netip.MustParseAddrPort("10.0.0.1:50000"), Dst: netip.MustParseAddrPort("203.0.113.9:443")}
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

type readPacket struct {
	data     []byte
	comments []string
}

func readFile(t *testing.T, path string) []readPacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var out []readPacket
	for {
		data, _, opts, err := r.ReadPacketDataWithOptions()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, readPacket{append([]byte(nil), data...), opts.Comments})
	}
}

// TestRecorder: a flow keeps its last Before packets until it alerts,
// then everything up to its bound; the file holds them in order, each
// commented with the rule and the Community ID; flows that never alert
// leave no file.
func TestRecorder(t *testing.T) {
	dir := t.TempDir()
	r, err := New(Options{Dir: dir, Before: 3, Packets: 8})
	if err != nil {
		t.Fatal(err)
	}
	pkt := func(id uint64, i int) {
		r.Packet(id, key, t0, []byte{byte(i), 1, 2, 3}, t0.Add(time.Duration(i)*time.Millisecond), 60, layers.LinkTypeEthernet)
	}
	for i := range 5 {
		pkt(1, i) // packets 0..4: only 2, 3, 4 are kept
		pkt(2, i) // a flow that never alerts
	}
	name := r.Alert(1, key, t0, "gov-outside")
	if want := FileName(1, t0, key); name != want {
		t.Fatalf("file %q; want %q", name, want)
	}
	if again := r.Alert(1, key, t0, "gov-app"); again != name {
		t.Fatalf("second rule: file %q; want %q", again, name)
	}
	for i := 5; i < 20; i++ {
		pkt(1, i) // 5..9 fill the bound of 8; 10.. are over it
	}
	r.End(2)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("%d files; want 1", len(ents))
	}
	got := readFile(t, filepath.Join(dir, name))
	if len(got) != 8 {
		t.Fatalf("%d packets; want 8", len(got))
	}
	cid := flow.CommunityID(key, 0)
	for i, p := range got {
		if int(p.data[0]) != i+2 {
			t.Errorf("packet %d is packet %d; want %d", i, p.data[0], i+2)
		}
		want := "egresswatch alert gov-outside, gov-app; community_id " + cid
		if i < 3 {
			want = "before the alert (gov-outside, gov-app); community_id " + cid
		}
		if len(p.comments) != 1 || p.comments[0] != want {
			t.Errorf("packet %d comments %q; want %q", i, p.comments, want)
		}
	}
	s := r.Stats()
	if s.Files != 1 || s.Packets != 8 || s.OverFlow != 10 {
		t.Errorf("stats %+v; want 1 file, 8 packets, 10 over the flow's bound", s)
	}
}

// TestRecorderTotal: past the total bound (bytes of files written) no new
// flow gets a file, and each one left out is counted.
func TestRecorderTotal(t *testing.T) {
	r, err := New(Options{Dir: t.TempDir(), Total: 1})
	if err != nil {
		t.Fatal(err)
	}
	for id := uint64(1); id <= 3; id++ {
		r.Packet(id, key, t0, make([]byte, 8), t0, 8, layers.LinkTypeEthernet)
		name := r.Alert(id, key, t0, "r")
		r.End(id)
		if (id == 1) != (name != "") {
			t.Errorf("flow %d: file %q", id, name)
		}
	}
	if s := r.Stats(); s.Files != 1 || s.OverTotal != 2 {
		t.Errorf("stats %+v; want 1 file, 2 flows over the total", s)
	}
}
