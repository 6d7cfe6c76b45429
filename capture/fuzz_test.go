package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture/pcaptest"
)

// fuzzLimit is a small packet limit so that the fuzzer reaches it.
const fuzzLimit = 4096

// fuzzRead reads everything a fuzzed input yields and checks the reader's
// invariants: no panic, frames within the limit with increasing offsets
// inside the input, a buffer bounded by the limit, and a sticky error.
func fuzzRead(t *testing.T, data []byte) {
	src, err := NewReader(bytes.NewReader(data), "fuzz", WithMaxPacket(fuzzLimit))
	if err != nil {
		var fe *FormatError
		if !errors.Is(err, ErrNotCapture) && !errors.As(err, &fe) {
			t.Fatalf("open error %v is neither ErrNotCapture nor *FormatError", err)
		}
		return
	}
	r := src.(*reader)
	last := int64(-1)
	for seq := uint64(1); ; seq++ {
		fr, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			if fe.Offset <= last {
				t.Fatalf("error offset %d not after last frame at %d", fe.Offset, last)
			}
			if _, err2 := src.Next(); err2 != err {
				t.Fatalf("error not sticky: %v then %v", err, err2)
			}
			break
		}
		if fr.Seq != seq || fr.Offset <= last || len(fr.Data) > fuzzLimit || fr.WireLen < len(fr.Data) || fr.Path != "fuzz" {
			t.Fatalf("frame %d: seq %d offset %d (last %d) len %d wire %d", seq, fr.Seq, fr.Offset, last, len(fr.Data), fr.WireLen)
		}
		// Uncompressed input: the frame's bytes are in the input at its record.
		if data[0] != 0x1f && data[0] != 0x28 && (fr.Offset >= int64(len(data)) || !bytes.Contains(data[fr.Offset:], fr.Data)) {
			t.Fatalf("frame %d: data not found after its offset %d", seq, fr.Offset)
		}
		last = fr.Offset
	}
	if len(r.s.buf) > fuzzLimit+blockOverhead {
		t.Fatalf("buffer grew to %d bytes, limit %d", len(r.s.buf), fuzzLimit+blockOverhead)
	}
}

// addSharedSeeds adds the small shared captures whose names match.
func addSharedSeeds(f *testing.F, pattern string) {
	paths, _ := filepath.Glob(filepath.Join(sharedPcaps, pattern))
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Size() <= 8<<10 {
			b, err := os.ReadFile(p)
			if err == nil {
				f.Add(b)
			}
		}
	}
}

func FuzzPcap(f *testing.F) {
	ps := samplePackets()
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, nanos := range []bool{false, true} {
			var buf bytes.Buffer
			pcaptest.WritePcap(&buf, layers.LinkTypeEthernet, nanos, order, ps[:4])
			f.Add(buf.Bytes())
		}
	}
	var buf bytes.Buffer
	pcaptest.WritePcap(&buf, layers.LinkTypeRaw, false, binary.LittleEndian, ps[2:4])
	f.Add(gzipBytes(f, buf.Bytes()))
	f.Add(buf.Bytes()[:30])
	addSharedSeeds(f, "*.pcap")
	f.Fuzz(fuzzRead)
}

func FuzzPcapng(f *testing.F) {
	sections, _ := multiSection()
	var buf bytes.Buffer
	pcaptest.WritePcapng(&buf, sections...)
	f.Add(buf.Bytes())
	buf.Reset()
	pcaptest.WritePcapng(&buf, pcaptest.Section{
		Order:      binary.BigEndian,
		Interfaces: []pcaptest.Interface{{LinkType: 1, TSResol: 0x80 | 20, TSOffset: -5}},
		Packets:    samplePackets()[:3],
	})
	f.Add(buf.Bytes())
	f.Add(gzipBytes(f, buf.Bytes()))
	addSharedSeeds(f, "*.pcapng")
	for _, name := range []string{"ndpi-dns.pcap", "ndpi-tls_missing_ch_frag.pcap"} { // pcapng inside
		if b, err := os.ReadFile(filepath.Join(sharedPcaps, name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(fuzzRead)
}
