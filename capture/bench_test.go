package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture/pcaptest"
)

const benchFrames = 100_000

// benchPackets are 100k frames with a realistic size mix (mostly small
// ACKs and DNS, some full-size segments), 1 ms apart.
func benchPackets() []pcaptest.Packet {
	sizes := []int{66, 1514, 74, 90, 1514, 54, 590, 1514}
	data := make([]byte, 1514)
	ps := make([]pcaptest.Packet, benchFrames)
	for i := range ps {
		ps[i] = pcaptest.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: data[:sizes[i%len(sizes)]]}
	}
	return ps
}

// benchRead reads the capture in raw over and over; one op is one frame.
func benchRead(b *testing.B, raw []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)) / benchFrames)
	rd := bytes.NewReader(raw)
	src, err := NewReader(rd, "bench")
	if err != nil {
		b.Fatal(err)
	}
	frames := 0
	runtime.GC() // the generator's garbage is not the reader's cost
	start := time.Now()
	for b.Loop() {
		fr, err := src.Next()
		if err == io.EOF {
			rd.Reset(raw)
			if src, err = NewReader(rd, "bench"); err != nil {
				b.Fatal(err)
			}
			fr, err = src.Next()
		}
		if err != nil {
			b.Fatal(err)
		}
		frames += len(fr.Data) & 1 // keep fr alive
		frames++
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
}

func BenchmarkPcap(b *testing.B) {
	var buf bytes.Buffer
	if err := pcaptest.WritePcap(&buf, layers.LinkTypeEthernet, false, binary.LittleEndian, benchPackets()); err != nil {
		b.Fatal(err)
	}
	benchRead(b, buf.Bytes())
}

func BenchmarkPcapng(b *testing.B) {
	var buf bytes.Buffer
	if err := pcaptest.WritePcapng(&buf, pcaptest.Section{
		Interfaces: []pcaptest.Interface{{LinkType: layers.LinkTypeEthernet, TSResol: 9}},
		Packets:    benchPackets(),
	}); err != nil {
		b.Fatal(err)
	}
	benchRead(b, buf.Bytes())
}

func BenchmarkPcapGzip(b *testing.B) {
	var buf bytes.Buffer
	if err := pcaptest.WritePcap(&buf, layers.LinkTypeEthernet, false, binary.LittleEndian, benchPackets()); err != nil {
		b.Fatal(err)
	}
	benchRead(b, gzipBytes(b, buf.Bytes()))
}
