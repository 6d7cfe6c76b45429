package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/klauspost/compress/zstd"

	"github.com/egresswatch/egresswatch/capture/pcaptest"
)

var t0 = time.Unix(1700000000, 123456789)

// samplePackets are frames of assorted sizes, one snapped short of its
// wire length and one empty.
func samplePackets() []pcaptest.Packet {
	var ps []pcaptest.Packet
	for i, n := range []int{60, 1514, 0, 3, 9000, 1} {
		d := make([]byte, n)
		for j := range d {
			d[j] = byte(i*31 + j)
		}
		p := pcaptest.Packet{Time: t0.Add(time.Duration(i) * 1500 * time.Millisecond), Data: d}
		if i == 3 {
			p.WireLen = 1500
		}
		ps = append(ps, p)
	}
	return ps
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

// compressions lists the wrappers every generated file is also read with.
var compressions = []struct {
	name string
	wrap func(testing.TB, []byte) []byte
}{
	{"plain", func(_ testing.TB, b []byte) []byte { return b }},
	{"gzip", gzipBytes},
	{"zstd", zstdBytes},
}

// wantFrame is what a reader must return for one packet.
type wantFrame struct {
	data    []byte
	time    time.Time // compared with Equal; zero for SPB
	wireLen int
	link    layers.LinkType
}

func compareFrames(t *testing.T, got []Frame, want []wantFrame, path string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if !bytes.Equal(g.Data, w.data) || !g.Time.Equal(w.time) || g.WireLen != w.wireLen ||
			g.LinkType != w.link || g.Seq != uint64(i+1) || g.Path != path {
			t.Errorf("frame %d = {%d bytes, %v, wire %d, %v, seq %d, %q}, want {%d bytes, %v, wire %d, %v, seq %d, %q}",
				i+1, len(g.Data), g.Time, g.WireLen, g.LinkType, g.Seq, g.Path,
				len(w.data), w.time, w.wireLen, w.link, i+1, path)
		}
	}
}

func TestPcap(t *testing.T) {
	packets := samplePackets()
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, nanos := range []bool{false, true} {
			var buf bytes.Buffer
			if err := pcaptest.WritePcap(&buf, layers.LinkTypeRaw, nanos, order, packets); err != nil {
				t.Fatal(err)
			}
			raw := buf.Bytes()
			var want []wantFrame
			offsets := []int64{}
			off := int64(24)
			for _, p := range packets {
				tm := p.Time
				if !nanos {
					tm = tm.Truncate(time.Microsecond)
				}
				wl := len(p.Data)
				if p.WireLen != 0 {
					wl = p.WireLen
				}
				want = append(want, wantFrame{p.Data, tm, wl, layers.LinkTypeRaw})
				offsets = append(offsets, off)
				off += 16 + int64(len(p.Data))
			}
			for _, c := range compressions {
				t.Run(fmt.Sprintf("%v/nanos=%v/%s", order, nanos, c.name), func(t *testing.T) {
					src, err := NewReader(bytes.NewReader(c.wrap(t, raw)), "gen.pcap")
					if err != nil {
						t.Fatal(err)
					}
					got, err := readAll(t, src)
					if err != nil {
						t.Fatal(err)
					}
					compareFrames(t, got, want, "gen.pcap")
					for i, fr := range got {
						if fr.Offset != offsets[i] {
							t.Errorf("frame %d: Offset %d, want %d", i+1, fr.Offset, offsets[i])
						}
					}
				})
			}
		}
	}
}

// multiSection is a pcapng file with three sections in alternating byte
// order, interfaces of different link types and resolutions, and every
// packet block kind plus a block the reader must skip.
func multiSection() ([]pcaptest.Section, []wantFrame) {
	p := samplePackets()
	bin10 := time.Unix(1600000000, 1953125) // 2/1024 s: exact at 2^-10
	pico := time.Unix(1e7, 123456789)       // 10^-12 ticks overflow 64 bits after 1970-08
	sections := []pcaptest.Section{
		{
			Order: binary.LittleEndian,
			Interfaces: []pcaptest.Interface{
				{LinkType: layers.LinkTypeEthernet, TSResol: 9},
				{LinkType: layers.LinkTypeNull},
			},
			Packets: []pcaptest.Packet{
				{Time: t0, Data: p[0].Data},
				{Time: t0, Data: p[1].Data, Interface: 1},
				{Data: []byte("skip me"), Kind: pcaptest.Skip},
				{Time: t0, Data: p[4].Data, Interface: 0, Kind: pcaptest.PB},
			},
		},
		{
			Order: binary.BigEndian,
			Interfaces: []pcaptest.Interface{
				{LinkType: layers.LinkTypeRaw, TSResol: 0x80 | 10, TSOffset: 1000},
				{LinkType: layers.LinkTypeLinuxSLL, TSResol: 3},
			},
			Packets: []pcaptest.Packet{
				{Time: bin10, Data: p[0].Data},
				{Time: t0, Data: p[3].Data, WireLen: 1500, Interface: 1},
				{Data: p[5].Data, Kind: pcaptest.SPB},
			},
		},
		{ // an empty section, then one with a 10^-12 interface and an SPB snapped by snaplen
			Order: binary.LittleEndian,
		},
		{
			Interfaces: []pcaptest.Interface{{LinkType: layers.LinkTypeIPv4, TSResol: 12, SnapLen: 100}},
			Packets: []pcaptest.Packet{
				{Time: t0, Data: p[1].Data[:200], Kind: pcaptest.SPB},
				{Time: pico, Data: p[2].Data},
			},
		},
	}
	want := []wantFrame{
		{p[0].Data, t0, 60, layers.LinkTypeEthernet},
		{p[1].Data, t0.Truncate(time.Microsecond), 1514, layers.LinkTypeNull},
		{p[4].Data, t0, 9000, layers.LinkTypeEthernet},
		{p[0].Data, bin10, 60, layers.LinkTypeRaw},
		{p[3].Data, t0.Truncate(time.Millisecond), 1500, layers.LinkTypeLinuxSLL},
		{p[5].Data, time.Time{}, 1, layers.LinkTypeRaw},
		{p[1].Data[:100], time.Time{}, 200, layers.LinkTypeIPv4},
		{p[2].Data, pico, 0, layers.LinkTypeIPv4},
	}
	return sections, want
}

func TestPcapng(t *testing.T) {
	p := samplePackets()
	single := []pcaptest.Section{{
		Interfaces: []pcaptest.Interface{{LinkType: layers.LinkTypeEthernet}},
		Packets:    []pcaptest.Packet{{Time: t0, Data: p[0].Data}, {Time: t0.Add(time.Second), Data: p[1].Data}},
	}}
	singleWant := []wantFrame{
		{p[0].Data, t0.Truncate(time.Microsecond), 60, layers.LinkTypeEthernet},
		{p[1].Data, t0.Add(time.Second).Truncate(time.Microsecond), 1514, layers.LinkTypeEthernet},
	}
	bigEndian := []pcaptest.Section{{Order: binary.BigEndian, Interfaces: single[0].Interfaces, Packets: single[0].Packets}}
	multi, multiWant := multiSection()
	for _, tt := range []struct {
		name     string
		sections []pcaptest.Section
		want     []wantFrame
	}{
		{"single-le", single, singleWant},
		{"single-be", bigEndian, singleWant},
		{"multi-section", multi, multiWant},
		{"empty", []pcaptest.Section{{}}, nil},
		{"interfaces-only", []pcaptest.Section{{Interfaces: single[0].Interfaces}}, nil},
	} {
		var buf bytes.Buffer
		if err := pcaptest.WritePcapng(&buf, tt.sections...); err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		for _, c := range compressions {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				src, err := NewReader(bytes.NewReader(c.wrap(t, raw)), "gen.pcapng")
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAll(t, src)
				if err != nil {
					t.Fatal(err)
				}
				compareFrames(t, got, tt.want, "gen.pcapng")
				// Every Offset points at a packet block of the raw file.
				for i, fr := range got {
					typ := raw[fr.Offset : fr.Offset+4]
					if b, l := binary.BigEndian.Uint32(typ), binary.LittleEndian.Uint32(typ); b != 6 && l != 6 &&
						b != 3 && l != 3 && b != 2 && l != 2 {
						t.Errorf("frame %d: Offset %d holds block type % x", i+1, fr.Offset, typ)
					}
				}
			})
		}
	}
}

// blockEnds walks a little-endian pcapng (or a pcap) and returns the end
// offset of every block (record) and whether it is a packet.
func blockEnds(t *testing.T, raw []byte, pcap bool) (ends []int64, packet []bool) {
	t.Helper()
	off := int64(0)
	if pcap {
		off = 24
	}
	for off < int64(len(raw)) {
		var n int64
		if pcap {
			n = 16 + int64(binary.LittleEndian.Uint32(raw[off+8:]))
			packet = append(packet, true)
		} else {
			typ := binary.LittleEndian.Uint32(raw[off:])
			n = int64(binary.LittleEndian.Uint32(raw[off+4:]))
			packet = append(packet, typ == 6 || typ == 3 || typ == 2)
		}
		off += n
		ends = append(ends, off)
	}
	return ends, packet
}

// TestTruncated cuts generated files at every byte: the reader must return
// exactly the complete packets before the cut, then a *FormatError at the
// offset of the first incomplete record (or io.EOF at a record boundary).
func TestTruncated(t *testing.T) {
	var pcapBuf, ngBuf bytes.Buffer
	if err := pcaptest.WritePcap(&pcapBuf, layers.LinkTypeEthernet, false, binary.LittleEndian, samplePackets()[:4]); err != nil {
		t.Fatal(err)
	}
	sections, _ := multiSection()
	for i := range sections {
		sections[i].Order = binary.LittleEndian // blockEnds reads little-endian
	}
	if err := pcaptest.WritePcapng(&ngBuf, sections...); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		raw    []byte
		pcap   bool
		header int // bytes needed before a reader can be opened
	}{
		{"pcap", pcapBuf.Bytes(), true, 24},
		{"pcapng", ngBuf.Bytes(), false, 28},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ends, packet := blockEnds(t, tt.raw, tt.pcap)
			if ends[len(ends)-1] != int64(len(tt.raw)) {
				t.Fatalf("blocks end at %d, file is %d bytes", ends[len(ends)-1], len(tt.raw))
			}
			for cut := 0; cut < len(tt.raw); cut++ {
				src, err := NewReader(bytes.NewReader(tt.raw[:cut]), "cut")
				if cut < tt.header {
					var fe *FormatError
					if cut < 4 && !errors.Is(err, ErrNotCapture) || cut >= 4 && !errors.As(err, &fe) {
						t.Fatalf("cut %d: open error %v", cut, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				frames, err := readAll(t, src)
				wantFrames, boundary, badOff := 0, tt.header == cut, int64(-1)
				start := int64(0)
				if tt.pcap {
					start = 24
				}
				for i, end := range ends {
					if end <= int64(cut) {
						if packet[i] {
							wantFrames++
						}
						boundary = end == int64(cut)
						start = end
					} else {
						if !boundary {
							badOff = start
						}
						break
					}
				}
				if len(frames) != wantFrames {
					t.Fatalf("cut %d: %d frames, want %d", cut, len(frames), wantFrames)
				}
				var fe *FormatError
				switch {
				case badOff < 0 && err != nil:
					t.Fatalf("cut %d (block boundary): %v, want io.EOF", cut, err)
				case badOff >= 0 && (!errors.As(err, &fe) || fe.Offset != badOff):
					t.Fatalf("cut %d: %v, want *FormatError at offset %d", cut, err, badOff)
				case fe != nil && !strings.Contains(fe.Error(), "truncated"):
					t.Fatalf("cut %d: %v, want a truncation error", cut, err)
				}
			}
		})
	}
}

func TestTruncatedMessage(t *testing.T) {
	var buf bytes.Buffer
	if err := pcaptest.WritePcap(&buf, layers.LinkTypeEthernet, false, binary.LittleEndian, samplePackets()[:2]); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()[:24+16+60+16+200] // second packet (1514 bytes) cut to 200
	src, err := NewReader(bytes.NewReader(raw), "t.pcap")
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(t, src)
	want := "t.pcap: offset 100: truncated packet record: need 1514 bytes, have 200"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestCorrupt damages generated files in one field each: good frames
// first, then a *FormatError at the damaged record that says what is wrong.
func TestCorrupt(t *testing.T) {
	p := samplePackets()
	pcapFile := func(order binary.ByteOrder) []byte {
		var buf bytes.Buffer
		if err := pcaptest.WritePcap(&buf, layers.LinkTypeEthernet, false, order, p[:2]); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	ngFile := func() []byte {
		var buf bytes.Buffer
		err := pcaptest.WritePcapng(&buf, pcaptest.Section{
			Interfaces: []pcaptest.Interface{{LinkType: layers.LinkTypeEthernet}},
			Packets:    []pcaptest.Packet{{Time: t0, Data: p[0].Data}, {Time: t0, Data: p[1].Data}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	le := binary.LittleEndian
	// pcapng layout: SHB 0..28, IDB 28..48, EPB#1 48..140 (60 bytes + 32),
	// EPB#2 140..1688 (1514 bytes padded to 1516, + 32).
	for _, tt := range []struct {
		name   string
		raw    []byte
		opts   []Option
		frames int
		offset int64
		msg    string
	}{
		{"pcap huge length", func() []byte {
			b := pcapFile(le)
			le.PutUint32(b[24+16+60+8:], 4325376)
			return b
		}(), nil, 1, 100, "record length 4325376 exceeds limit 262144"},
		{"pcap huge length big-endian", func() []byte {
			b := pcapFile(binary.BigEndian)
			binary.BigEndian.PutUint32(b[24+8:], 0xffffffff)
			return b
		}(), nil, 0, 24, "record length 4294967295 exceeds limit 262144"},
		{"pcap WithMaxPacket", pcapFile(le), []Option{WithMaxPacket(1000)}, 1, 100, "record length 1514 exceeds limit 1000"},
		{"pcapng WithMaxPacket", ngFile(), []Option{WithMaxPacket(1000)}, 1, 140, "record length 1514 exceeds limit 1000"},
		{"pcapng huge block", func() []byte {
			b := ngFile()
			le.PutUint32(b[140+4:], 1<<30)
			return b
		}(), nil, 1, 140, "block length 1073741824 exceeds limit"},
		{"pcapng block length not a multiple of 4", func() []byte {
			b := ngFile()
			le.PutUint32(b[48+4:], 91)
			return b
		}(), nil, 0, 48, "invalid block length 91"},
		{"pcapng trailer mismatch", func() []byte {
			b := ngFile()
			le.PutUint32(b[140-4:], 96)
			return b
		}(), nil, 0, 48, "trailing block length 96 does not match 92"},
		{"pcapng caplen overruns block", func() []byte {
			b := ngFile()
			le.PutUint32(b[48+20:], 64)
			return b
		}(), nil, 0, 48, "packet length 64 overruns the block (60 bytes)"},
		{"pcapng undefined interface", func() []byte {
			b := ngFile()
			le.PutUint32(b[140+8:], 3)
			return b
		}(), nil, 1, 140, "packet on undefined interface 3 (1 defined)"},
		{"pcapng bad if_tsresol", func() []byte {
			var buf bytes.Buffer
			pcaptest.WritePcapng(&buf, pcaptest.Section{
				Interfaces: []pcaptest.Interface{{LinkType: 1, TSResol: 30}},
				Packets:    []pcaptest.Packet{{Time: t0, Data: p[0].Data}},
			})
			return buf.Bytes()
		}(), nil, 0, 28, "unsupported if_tsresol 10^-30"},
		{"pcapng second section bad version", func() []byte {
			var buf bytes.Buffer
			buf.Write(ngFile())
			pcaptest.WritePcapng(&buf, pcaptest.Section{Major: 2})
			return buf.Bytes()
		}(), nil, 2, 1688, "unsupported pcapng version 2.0"},
		{"pcapng second section bad byte-order magic", func() []byte {
			b := ngFile()
			b = append(b, b[:28]...)
			b[len(b)-28+8] = 0
			return b
		}(), nil, 2, 1688, "bad byte-order magic"},
		{"gzip corrupt checksum", func() []byte {
			b := gzipBytes(t, pcapFile(le))
			b[len(b)-8] ^= 0xff // CRC-32 of the trailer
			return b
		}(), nil, 2, 24 + 16 + 60 + 16 + 1514, "gzip: invalid checksum"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewReader(bytes.NewReader(tt.raw), "bad", tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			frames, err := readAll(t, src)
			var fe *FormatError
			if len(frames) != tt.frames || !errors.As(err, &fe) || fe.Offset != tt.offset || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("%d frames, error %v; want %d frames, *FormatError at %d containing %q",
					len(frames), err, tt.frames, tt.offset, tt.msg)
			}
		})
	}
}

func TestHeaderErrors(t *testing.T) {
	var pcapBuf bytes.Buffer
	if err := pcaptest.WritePcap(&pcapBuf, 1, false, binary.LittleEndian, nil); err != nil {
		t.Fatal(err)
	}
	badVersion := bytes.Clone(pcapBuf.Bytes())
	badVersion[4] = 3
	for _, tt := range []struct {
		name       string
		raw        []byte
		notCapture bool
		msg        string
	}{
		{"empty", nil, true, "x: not a capture file (pcap or pcapng)"},
		{"text", []byte("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"), true, "x: not a capture file (pcap or pcapng)"},
		{"gzip text", gzipBytes(t, []byte("hello, world")), true, "x: not a capture file (pcap or pcapng)"},
		{"gzip garbage", []byte{0x1f, 0x8b, 0, 0, 0}, false, "x: offset 0: gzip: "},
		{"pcap short header", pcapBuf.Bytes()[:20], false, "x: offset 0: truncated pcap file header: need 24 bytes, have 20"},
		{"pcap version", badVersion, false, "x: offset 0: unsupported pcap version 3.4"},
		{"pcapng short", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0}, false, "x: offset 0: truncated section header block: need 16 bytes, have 8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.raw), "x")
			var fe *FormatError
			if err == nil || errors.Is(err, ErrNotCapture) != tt.notCapture || !tt.notCapture && !errors.As(err, &fe) ||
				!strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("error %v, want %q (not a capture: %v)", err, tt.msg, tt.notCapture)
			}
		})
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := pcaptest.WritePcap(&buf, 1, true, binary.BigEndian, samplePackets()); err != nil {
		t.Fatal(err)
	}
	// The extension lies: the format comes from the content.
	path := filepath.Join(dir, "trace.txt")
	if err := os.WriteFile(path, gzipBytes(t, buf.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, src)
	if err != nil || len(frames) != 6 || frames[0].Path != path {
		t.Errorf("%d frames, %v", len(frames), err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := src.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close = %v, want an error", err)
	}

	if _, err := OpenFile(filepath.Join(dir, "missing.pcap")); err == nil || !strings.Contains(err.Error(), "missing.pcap") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := OpenFile(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("directory: %v", err)
	}
	notCap := filepath.Join(dir, "notes.pcap")
	os.WriteFile(notCap, []byte("just some notes\n"), 0o644)
	_, err = OpenFile(notCap)
	var fe *FileError
	if !errors.Is(err, ErrNotCapture) || !errors.As(err, &fe) || fe.Path != notCap || err.Error() != notCap+": not a capture file (pcap or pcapng)" {
		t.Errorf("not a capture: %v, want a *FileError for %s", err, notCap)
	}
}

func TestStdin(t *testing.T) {
	var buf bytes.Buffer
	if err := pcaptest.WritePcapng(&buf, pcaptest.Section{
		Interfaces: []pcaptest.Interface{{LinkType: 1}},
		Packets:    samplePackets(),
	}); err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	gz := gzipBytes(t, buf.Bytes())
	go func() {
		pw.Write(gz)
		pw.Close()
	}()
	old := os.Stdin
	os.Stdin = pr
	defer func() { os.Stdin = old; pr.Close() }()
	src, err := OpenFile("-")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames, err := readAll(t, src)
	if err != nil || len(frames) != 6 || frames[5].Path != "-" {
		t.Errorf("stdin: %d frames, %v", len(frames), err)
	}
}

func TestNextAllocs(t *testing.T) {
	for _, tt := range []struct {
		name  string
		write func(io.Writer, []pcaptest.Packet) error
	}{
		{"pcap", func(w io.Writer, ps []pcaptest.Packet) error {
			return pcaptest.WritePcap(w, 1, false, binary.LittleEndian, ps)
		}},
		{"pcapng", func(w io.Writer, ps []pcaptest.Packet) error {
			return pcaptest.WritePcapng(w, pcaptest.Section{
				Order:      binary.BigEndian,
				Interfaces: []pcaptest.Interface{{LinkType: 1, TSResol: 9}},
				Packets:    ps,
			})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := make([]pcaptest.Packet, 0, 2000)
			for i := range cap(ps) {
				ps = append(ps, pcaptest.Packet{Time: t0, Data: make([]byte, 60+i%1400)})
			}
			var buf bytes.Buffer
			if err := tt.write(&buf, ps); err != nil {
				t.Fatal(err)
			}
			src, err := NewReader(bytes.NewReader(buf.Bytes()), "mem")
			if err != nil {
				t.Fatal(err)
			}
			n := testing.AllocsPerRun(1000, func() {
				if _, err := src.Next(); err != nil {
					t.Fatal(err)
				}
			})
			if n != 0 {
				t.Errorf("Next = %v allocs per frame, want 0", n)
			}
		})
	}
}

// TestSkipLargeBlock streams past a 1 MiB non-packet block without
// buffering it: the buffer stays at its initial size.
func TestSkipLargeBlock(t *testing.T) {
	var buf bytes.Buffer
	if err := pcaptest.WritePcapng(&buf, pcaptest.Section{
		Interfaces: []pcaptest.Interface{{LinkType: 1}},
		Packets: []pcaptest.Packet{
			{Time: t0, Data: []byte{1}},
			{Data: make([]byte, 1<<20), Kind: pcaptest.Skip},
			{Time: t0, Data: []byte{2}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	src, err := NewReader(bytes.NewReader(buf.Bytes()), "big", WithMaxPacket(1000))
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, src)
	if err != nil || len(frames) != 2 || frames[1].Data[0] != 2 {
		t.Fatalf("%d frames, %v", len(frames), err)
	}
	if n := len(src.(*reader).s.buf); n > initialBuffer {
		t.Errorf("buffer grew to %d bytes", n)
	}
}

// TestPcapModified reads the "modified" pcap of Kuznetzov's patched
// libpcap (magic 0xa1b2cd34): 24-byte record headers with ifindex,
// protocol and packet type after the usual 16 bytes.
func TestPcapModified(t *testing.T) {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2cd34)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint32(b, 65535)
	b = le.AppendUint32(b, uint32(layers.LinkTypeEthernet))
	for i, data := range [][]byte{{0xaa, 0xbb}, {0xcc}} {
		b = le.AppendUint32(b, 1700000000+uint32(i))
		b = le.AppendUint32(b, 250000)
		b = le.AppendUint32(b, uint32(len(data)))
		b = le.AppendUint32(b, 60)
		b = le.AppendUint32(b, 2)      // ifindex
		b = le.AppendUint16(b, 0x0800) // protocol
		b = append(b, 0, 0)            // packet type, padding
		b = append(b, data...)
	}
	src, err := NewReader(bytes.NewReader(b), "mod")
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	compareFrames(t, frames, []wantFrame{
		{[]byte{0xaa, 0xbb}, time.Unix(1700000000, 250000000), 60, layers.LinkTypeEthernet},
		{[]byte{0xcc}, time.Unix(1700000001, 250000000), 60, layers.LinkTypeEthernet},
	}, "mod")
	if frames[1].Offset != 24+24+2 {
		t.Errorf("second frame at offset %d, want 50", frames[1].Offset)
	}
}
