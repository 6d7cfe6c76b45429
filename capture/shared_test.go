package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// sharedPcaps is the real-capture corpus beside the repository.
const sharedPcaps = "../../shared/pcaps"

func needShared(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedPcaps, "MANIFEST.tsv")); err != nil {
		t.Skipf("shared capture corpus not available (%v); it lives beside the repo in ../shared/pcaps", err)
	}
}

type manifestRow struct {
	file    string
	packets int
	broken  bool // "N readable, then file error"
}

func readManifest(t *testing.T) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedPcaps, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 0 {
			if len(cols) < 6 || cols[5] != "packets" {
				t.Fatalf("MANIFEST.tsv header %q: want packets in column 6", sc.Text())
			}
			continue
		}
		if len(cols) < 6 {
			t.Fatalf("MANIFEST.tsv line %d: %d columns", line+1, len(cols))
		}
		num, rest, _ := strings.Cut(cols[5], " ")
		n, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("MANIFEST.tsv line %d: packets %q: %v", line+1, cols[5], err)
		}
		rows = append(rows, manifestRow{file: cols[0], packets: n, broken: strings.Contains(rest, "error")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// readAll returns copies of all frames of src and the final error (nil at
// a clean io.EOF).
func readAll(t testing.TB, src Source) ([]Frame, error) {
	t.Helper()
	var frames []Frame
	for {
		fr, err := src.Next()
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return frames, err
		}
		fr.Data = bytes.Clone(fr.Data)
		frames = append(frames, fr)
	}
}

// TestSharedManifest reads every real capture and compares the number of
// frames with MANIFEST.tsv (tshark's count), plain and gzip-compressed.
func TestSharedManifest(t *testing.T) {
	needShared(t)
	rows := readManifest(t)
	if len(rows) < 80 {
		t.Fatalf("MANIFEST.tsv lists %d captures, want the whole corpus", len(rows))
	}
	for _, row := range rows {
		t.Run(row.file, func(t *testing.T) {
			path := filepath.Join(sharedPcaps, row.file)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			check := func(t *testing.T, src Source) {
				frames, err := readAll(t, src)
				if len(frames) != row.packets {
					t.Errorf("%d frames, want %d", len(frames), row.packets)
				}
				var fe *FormatError
				switch {
				case row.broken && !errors.As(err, &fe):
					t.Errorf("end: %v, want a *FormatError", err)
				case !row.broken && err != nil:
					t.Errorf("end: %v, want io.EOF", err)
				}
				checkConsistent(t, frames, DefaultMaxPacket)
				if fe != nil && len(frames) > 0 && fe.Offset <= frames[len(frames)-1].Offset {
					t.Errorf("error offset %d not after last frame at %d", fe.Offset, frames[len(frames)-1].Offset)
				}
			}
			t.Run("file", func(t *testing.T) {
				src, err := OpenFile(path)
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				check(t, src)
			})
			t.Run("gzip", func(t *testing.T) {
				src, err := NewReader(bytes.NewReader(gzipBytes(t, raw)), path)
				if err != nil {
					t.Fatal(err)
				}
				check(t, src)
			})
		})
	}
}

// checkConsistent asserts what every frame sequence must satisfy.
func checkConsistent(t *testing.T, frames []Frame, limit int) {
	t.Helper()
	last := int64(-1)
	for i, fr := range frames {
		if fr.Seq != uint64(i+1) {
			t.Errorf("frame %d: Seq %d", i+1, fr.Seq)
		}
		if fr.Offset <= last {
			t.Errorf("frame %d: Offset %d not after %d", i+1, fr.Offset, last)
		}
		last = fr.Offset
		if len(fr.Data) > limit || fr.WireLen < len(fr.Data) {
			t.Errorf("frame %d: len(Data) %d, WireLen %d, limit %d", i+1, len(fr.Data), fr.WireLen, limit)
		}
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSharedDamaged pins what the damaged and edge-case captures give.
func TestSharedDamaged(t *testing.T) {
	needShared(t)
	for _, tt := range []struct {
		file    string
		frames  int
		offset  int64  // of the *FormatError; -1: clean end
		errText string // in the error message
	}{
		// record 7 claims 4325376 bytes (tshark: "File has 4325376-byte packet,
		// bigger than maximum of 262144").
		{"suricata-tls_DER-incomplete-header.pcap", 6, 5035, "record length 4325376 exceeds limit 262144"},
		// second section header is version 2.0 (tshark: "unknown SHB version 2.0").
		{"gopacket-pcapng-be-test901.pcapng", 1, 480, "unsupported pcapng version 2.0"},
		{"zeek-trunc-hdr.pcap", 1, -1, ""},
		{"zeek-empty.pcap", 0, -1, ""},
		{"tcpdump-empty.pcapng", 0, -1, ""},
	} {
		raw, err := os.ReadFile(filepath.Join(sharedPcaps, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range compressions { // offsets count in the uncompressed stream
			t.Run(tt.file+"/"+c.name, func(t *testing.T) {
				checkDamaged(t, c.wrap(t, raw), tt.file, tt.frames, tt.offset, tt.errText)
			})
		}
	}
}

func checkDamaged(t *testing.T, raw []byte, file string, nframes int, offset int64, errText string) {
	t.Helper()
	src, err := NewReader(bytes.NewReader(raw), file)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, src)
	if len(frames) != nframes {
		t.Errorf("%d frames, want %d", len(frames), nframes)
	}
	if offset < 0 {
		if err != nil {
			t.Errorf("end: %v, want io.EOF", err)
		}
		return
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("end: %v, want a *FormatError", err)
	}
	if fe.Offset != offset || !strings.Contains(err.Error(), errText) {
		t.Errorf("error %q at offset %d, want %q at %d", err, fe.Offset, errText, offset)
	}
	if _, err2 := src.Next(); err2 != err {
		t.Errorf("Next after error = %v, want the same error again", err2)
	}
}

// TestSharedTrunc checks the 8-byte-snaplen frame of zeek-trunc-hdr.pcap.
func TestSharedTrunc(t *testing.T) {
	needShared(t)
	src, err := OpenFile(filepath.Join(sharedPcaps, "zeek-trunc-hdr.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fr, err := src.Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(fr.Data) != 8 || fr.WireLen != 78 || fr.LinkType != layers.LinkTypeEthernet || fr.Offset != 24 {
		t.Errorf("frame: %d bytes of %d, link %v, offset %d; want 8 of 78, Ethernet, 24",
			len(fr.Data), fr.WireLen, fr.LinkType, fr.Offset)
	}
}

// TestSharedTimes compares the first frames' timestamps, link types and
// lengths with tshark 4.0.17 (`tshark -r F -T fields -e frame.number
// -e frame.time_epoch -e frame.encap_type -e frame.cap_len -e frame.len`).
func TestSharedTimes(t *testing.T) {
	needShared(t)
	type want struct {
		epoch   string // "" = no timestamp (simple packet block)
		link    layers.LinkType
		capLen  int
		wireLen int
	}
	eth, null := layers.LinkTypeEthernet, layers.LinkTypeNull
	for _, tt := range []struct {
		file   string
		frames []want
	}{
		{"tcpdump-tcp-handshake-nano.pcap", []want{ // nanosecond pcap, Linux cooked v1
			{"1418145369.924505488", layers.LinkTypeLinuxSLL, 76, 76},
			{"1418145370.052027262", layers.LinkTypeLinuxSLL, 76, 76},
			{"1418145370.052115157", layers.LinkTypeLinuxSLL, 68, 68},
		}},
		{"zeek-pcapng-multi-interface.pcapng", []want{ // interface 0 at 10^-9, interface 1 at 10^-6
			{"1767663089.500330493", eth, 96, 96},
			{"1767663089.514291940", eth, 214, 214},
			{"1767663437.111897000", eth, 70, 70},
			{"1767663437.126460000", eth, 166, 166},
		}},
		{"gopacket-pcapng-le-test100.pcapng", []want{ // SPB, EPB, SPB, EPB, EPB on a NULL interface
			{"", eth, 314, 314},
			{"1340954905.298858000", eth, 342, 342},
			{"", eth, 314, 314},
			{"1340954905.300858000", eth, 342, 342},
			{"1340954905.301858000", null, 168, 168},
		}},
		{"ndpi-quic-v2.pcapng", []want{
			{"1671528048.896780491", layers.LinkTypeLinuxSLL, 1296, 1296},
			{"1671528048.898552842", layers.LinkTypeLinuxSLL, 2098, 2098},
		}},
		{"ndpi-dns.pcap", []want{ // pcapng despite the name
			{"1112172654.366527000", eth, 76, 76},
			{"1112172695.204348000", eth, 75, 75},
		}},
		{"gopacket-test_loopback.pcap", []want{
			{"1357492952.275121000", null, 560, 560},
			{"1357492952.275178000", null, 76, 76},
			{"1357492952.461918000", null, 4172, 4172},
		}},
		{"zeek-trunc-hdr.pcap", []want{{"1404148886.981015000", eth, 8, 78}}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			src, err := OpenFile(filepath.Join(sharedPcaps, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			for i, w := range tt.frames {
				fr, err := src.Next()
				if err != nil {
					t.Fatalf("frame %d: %v", i+1, err)
				}
				epoch := ""
				if !fr.Time.IsZero() {
					epoch = fmt.Sprintf("%d.%09d", fr.Time.Unix(), fr.Time.Nanosecond())
				}
				got := want{epoch, fr.LinkType, len(fr.Data), fr.WireLen}
				if got != w {
					t.Errorf("frame %d = %+v, want %+v", i+1, got, w)
				}
			}
		})
	}
}
