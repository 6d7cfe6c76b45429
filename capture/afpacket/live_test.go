//go:build linux

package afpacket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/internal/netnstest"
)

// frame builds an Ethernet frame carrying a UDP/IPv4 packet from host
// 10.9.0.src to 10.9.0.dst, with the given VLAN tags (TPID, TCI pairs)
// and a payload that names it.
func frame(src, dst byte, sport uint16, tags [][2]uint16, id int) []byte {
	b := []byte{0x02, 0, 0, 0, 0, dst, 0x02, 0, 0, 0, 0, src}
	for _, tg := range tags {
		b = binary.BigEndian.AppendUint16(b, tg[0])
		b = binary.BigEndian.AppendUint16(b, tg[1])
	}
	payload := []byte(fmt.Sprintf("frame %06d", id))
	b = binary.BigEndian.AppendUint16(b, 0x0800)
	ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 9, 0, src, 10, 9, 0, dst}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	b = append(b, ip...)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, 9)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}

// sender opens a raw packet socket on ifc for writing whole frames.
func sender(t *testing.T, ifc string) func([]byte) {
	idx, err := ifIndex(ifc)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	sa := &unix.SockaddrLinklayer{Ifindex: idx, Halen: 6}
	return func(b []byte) {
		if err := unix.Sendto(fd, b, 0, sa); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

// collect reads frames until want have arrived or 3 s pass.
func collect(t *testing.T, src *Source, want int) []capture.Frame {
	var got []capture.Frame
	deadline := time.Now().Add(3 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		fr, err := src.Next()
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		fr.Data = bytes.Clone(fr.Data)
		got = append(got, fr)
	}
	return got
}

func TestLiveVLANAndOrder(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t, "afp")
	netnstest.Veth(t, ns, "tx0", "", ns, "rx0", "")
	for _, rings := range []int{1, 2} {
		t.Run(fmt.Sprintf("rings=%d", rings), func(t *testing.T) {
			err := ns.Do(func() error {
				src, err := Open(Config{Interfaces: []string{"rx0"}, Rings: rings, RingBytes: 4 << 20, PollTimeout: 20 * time.Millisecond})
				if err != nil {
					return err
				}
				defer src.Close()
				send := sender(t, "tx0")
				// Tags as a mirror port delivers them: none, 802.1Q 100,
				// priority-tagged VLAN 0, 802.1ad outer over 802.1Q inner.
				tagSets := [][][2]uint16{
					nil,
					{{0x8100, 100}},
					{{0x8100, 0x6000}}, // PCP 3, VID 0
					{{0x88a8, 200}, {0x8100, 300}},
				}
				var want [][]byte
				for i := 0; i < 400; i++ {
					f := frame(byte(1+i%7), byte(20+i%5), uint16(1000+i%13), tagSets[i%len(tagSets)], i)
					want = append(want, f)
					send(f)
				}
				got := collect(t, src, len(want))
				if len(got) != len(want) {
					t.Fatalf("got %d frames, want %d", len(got), len(want))
				}
				// Frames sent from one socket arrive in order; the rings
				// are merged back by timestamp.
				for i := range got {
					if !bytes.Equal(got[i].Data, want[i]) {
						t.Fatalf("frame %d:\n got %x\nwant %x", i, got[i].Data, want[i])
					}
					if got[i].WireLen != len(want[i]) || got[i].Seq != uint64(i+1) || got[i].Offset != -1 || got[i].Path != "rx0" {
						t.Fatalf("frame %d: wire %d seq %d offset %d path %q", i, got[i].WireLen, got[i].Seq, got[i].Offset, got[i].Path)
					}
					if i > 0 && got[i].Time.Before(got[i-1].Time) {
						t.Fatalf("frame %d at %v before frame %d at %v", i, got[i].Time, i-1, got[i-1].Time)
					}
				}
				stats, err := src.Stats()
				if err != nil {
					return err
				}
				var pk, drops uint64
				for _, s := range stats {
					pk += s.Packets
					drops += s.Drops
				}
				if len(stats) != rings || pk < uint64(len(want)) || drops != 0 {
					t.Errorf("stats %+v: want %d rings, >= %d packets, 0 drops", stats, rings, len(want))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLiveTimeoutAndStop(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t, "afs")
	netnstest.Veth(t, ns, "tx0", "", ns, "rx0", "")
	ns.Do(func() error {
		src, err := Open(Config{Interfaces: []string{"rx0"}, Rings: 2, RingBytes: 2 << 20, PollTimeout: 30 * time.Millisecond, NoPromisc: true})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		start := time.Now()
		if _, err := src.Next(); !errors.Is(err, capture.ErrTimeout) {
			t.Fatalf("quiet link: got %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("timeout took %v", d)
		}
		send := sender(t, "tx0")
		for i := 0; i < 10; i++ {
			send(frame(1, 2, uint16(i), nil, i))
		}
		src.Stop()
		n := 0
		for {
			_, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next after Stop: %v", err)
			}
			n++
		}
		if n != 10 {
			t.Errorf("drained %d frames after Stop, want 10", n)
		}
		return nil
	})
}

func TestSnaplenFilter(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t, "afl")
	netnstest.Veth(t, ns, "tx0", "", ns, "rx0", "")
	ns.Do(func() error {
		src, err := Open(Config{Interfaces: []string{"rx0"}, Snaplen: 40, RingBytes: 2 << 20})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		f := frame(1, 2, 3, [][2]uint16{{0x8100, 7}}, 1)
		sender(t, "tx0")(f)
		got := collect(t, src, 1)
		if len(got) != 1 {
			t.Fatal("no frame")
		}
		// The filter cuts the untagged frame to 40 bytes; the tag is put
		// back in front of that.
		if len(got[0].Data) != 44 || got[0].WireLen != len(f) || !bytes.Equal(got[0].Data, f[:44]) {
			t.Errorf("got %d bytes (wire %d) %x, want 44 (wire %d) %x", len(got[0].Data), got[0].WireLen, got[0].Data, len(f), f[:44])
		}
		return nil
	})
}
