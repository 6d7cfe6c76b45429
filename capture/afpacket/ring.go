//go:build linux

package afpacket

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Offsets in struct tpacket_block_desc (its header is a tpacket_hdr_v1
// at offset 8) and struct tpacket3_hdr, from <linux/if_packet.h>.
const (
	bdStatus   = 8
	bdNumPkts  = 12
	bdFirstPkt = 16

	phNext    = 0
	phSec     = 4
	phNsec    = 8
	phSnaplen = 12
	phLen     = 16
	phStatus  = 20
	phMac     = 24
	phVLANTCI = 32
	phVLANPID = 36

	// The tpacket3_hdr (aligned to 16: 48 bytes) and the sockaddr_ll (20
	// bytes) the kernel writes after it; the frame starts after these.
	phEnd = 48 + 20
)

// ring is one TPACKET_V3 receive ring bound to one interface. Its cursor
// is used only by the Source's reader; stats may be read concurrently.
type ring struct {
	iface    string
	index    int // ring number within its interface
	link     layers.LinkType
	fd       int
	mem      []byte
	blockLen int
	nblocks  int

	cur     int    // block the cursor is in
	held    bool   // block cur belongs to user space
	left    uint32 // packets not yet returned from block cur
	pkt     int    // offset in mem of the next packet's header
	headSec uint32 // its timestamp
	headNs  uint32

	statsMu sync.Mutex
	stats   RingStats
}

// RingStats are one ring's kernel counters since it was opened.
type RingStats struct {
	Interface string
	Ring      int
	Packets   uint64 // reached the socket (after the filter), dropped or not
	Drops     uint64 // dropped because the ring was full
	Freezes   uint64 // times the ring had no free block
}

func (cfg *Config) openRing(iface string, index int, ifindex int) (*ring, error) {
	// Protocol 0: the socket receives nothing until it is bound, so the
	// filter is in place before the first packet.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("afpacket %s: socket: %w", iface, err)
	}
	r := &ring{iface: iface, index: index, fd: fd, blockLen: cfg.BlockBytes, nblocks: cfg.RingBytes / cfg.BlockBytes}
	fail := func(what string, err error) (*ring, error) {
		r.close()
		return nil, fmt.Errorf("afpacket %s: %s: %w", iface, what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3", err)
	}
	const frameLen = 2048 // only checked by the kernel: V3 packs frames of any size
	req := unix.TpacketReq3{
		Block_size:     uint32(r.blockLen),
		Block_nr:       uint32(r.nblocks),
		Frame_size:     frameLen,
		Frame_nr:       uint32(r.blockLen / frameLen * r.nblocks),
		Retire_blk_tov: uint32(cfg.BlockTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail(fmt.Sprintf("ring of %d blocks of %d bytes", r.nblocks, r.blockLen), err)
	}
	r.mem, err = unix.Mmap(fd, 0, r.blockLen*r.nblocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("mmap", err)
	}
	if prog := cfg.program(); len(prog) > 0 {
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
			return fail("attach filter", err)
		}
	}
	sa := unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(fd, &sa); err != nil {
		return fail("bind", err)
	}
	if sa, err := unix.Getsockname(fd); err != nil {
		return fail("getsockname", err)
	} else if ll, ok := sa.(*unix.SockaddrLinklayer); !ok {
		return fail("getsockname", fmt.Errorf("unexpected address %T", sa))
	} else if r.link, err = linkType(iface, ll.Hatype); err != nil {
		r.close()
		return nil, err
	}
	if cfg.Rings > 1 {
		// Hash by flow: the kernel's flow hash keeps a connection on one
		// ring. Each interface has its own group.
		id := (os.Getpid() + ifindex) & 0xffff
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, id|unix.PACKET_FANOUT_HASH<<16); err != nil {
			return fail("fanout", err)
		}
	}
	if !cfg.NoPromisc {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("promiscuous mode", err)
		}
	}
	return r, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// program is the filter to attach: the caller's, or one that only cuts
// frames to Snaplen.
func (cfg *Config) program() []bpf.RawInstruction {
	if len(cfg.Filter) > 0 {
		return cfg.Filter
	}
	if cfg.Snaplen > 0 {
		return []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: uint32(cfg.Snaplen)}}
	}
	return nil
}

// linkType maps the hardware type the bound socket reports.
func linkType(iface string, hatype uint16) (layers.LinkType, error) {
	switch hatype {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return layers.LinkTypeEthernet, nil
	case unix.ARPHRD_NONE:
		return layers.LinkTypeRaw, nil
	}
	return 0, fmt.Errorf("afpacket %s: hardware type %d is not supported (Ethernet, loopback or raw IP)", iface, hatype)
}

func ifIndex(iface string) (int, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return 0, fmt.Errorf("afpacket: %w", err)
	}
	return ifi.Index, nil
}

func (r *ring) status(block int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[block*r.blockLen+bdStatus]))
}

// fill makes sure the cursor is on a packet, handing exhausted blocks back
// to the kernel. It reports whether a packet is ready.
func (r *ring) fill() bool {
	for {
		if r.held {
			if r.left > 0 {
				return true
			}
			atomic.StoreUint32(r.status(r.cur), unix.TP_STATUS_KERNEL)
			r.held = false
			r.cur++
			if r.cur == r.nblocks {
				r.cur = 0
			}
		}
		if atomic.LoadUint32(r.status(r.cur))&unix.TP_STATUS_USER == 0 {
			return false
		}
		base := r.cur * r.blockLen
		r.held = true
		r.left = ne.Uint32(r.mem[base+bdNumPkts:])
		r.pkt = base + int(ne.Uint32(r.mem[base+bdFirstPkt:]))
		r.head()
	}
}

var ne = binary.NativeEndian

func (r *ring) head() {
	if r.left > 0 {
		r.headSec = ne.Uint32(r.mem[r.pkt+phSec:])
		r.headNs = ne.Uint32(r.mem[r.pkt+phNsec:])
	}
}

// before reports whether r's next packet is older than o's.
func (r *ring) before(o *ring) bool {
	if r.headSec != o.headSec {
		return r.headSec < o.headSec
	}
	return r.headNs < o.headNs
}

func (r *ring) headTime() time.Time { return time.Unix(int64(r.headSec), int64(r.headNs)) }

// take returns the packet under the cursor and moves on. The bytes stay
// valid until fill hands the block back, on the next call to Next.
func (r *ring) take(scratch *[]byte) (data []byte, wire int) {
	h := r.mem[r.pkt:]
	snap := int(ne.Uint32(h[phSnaplen:]))
	wire = int(ne.Uint32(h[phLen:]))
	st := ne.Uint32(h[phStatus:])
	mac := int(ne.Uint16(h[phMac:]))
	start := r.pkt + mac
	data = r.mem[start : start+snap : start+snap]
	if st&unix.TP_STATUS_VLAN_VALID != 0 && r.link == layers.LinkTypeEthernet && len(data) >= 12 {
		tci := uint16(ne.Uint32(h[phVLANTCI:]))
		tpid := uint16(unix.ETH_P_8021Q)
		if p := ne.Uint16(h[phVLANPID:]); st&unix.TP_STATUS_VLAN_TPID_VALID != 0 && p != 0 {
			tpid = p
		}
		if mac >= phEnd+4 {
			// Headroom before the frame: move the MAC addresses back
			// and write the tag between them and the EtherType.
			copy(r.mem[start-4:start+8], r.mem[start:start+12])
			binary.BigEndian.PutUint16(r.mem[start+8:], tpid)
			binary.BigEndian.PutUint16(r.mem[start+10:], tci)
			data = r.mem[start-4 : start+snap : start+snap]
		} else {
			b := append((*scratch)[:0], data[:12]...)
			b = binary.BigEndian.AppendUint16(b, tpid)
			b = binary.BigEndian.AppendUint16(b, tci)
			b = append(b, data[12:]...)
			*scratch = b
			data = b
		}
		wire += 4
	}
	r.left--
	if r.left > 0 {
		r.pkt += int(ne.Uint32(h[phNext:]))
		r.head()
	}
	return data, wire
}

// readStats adds the kernel's counters (which it resets on every read) to
// the running totals and returns them.
func (r *ring) readStats() (RingStats, error) {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	if r.fd < 0 {
		return r.stats, nil
	}
	st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return r.stats, fmt.Errorf("afpacket %s ring %d: statistics: %w", r.iface, r.index, err)
	}
	r.stats.Packets += uint64(st.Packets)
	r.stats.Drops += uint64(st.Drops)
	r.stats.Freezes += uint64(st.Freeze_q_cnt)
	return r.stats, nil
}

func (r *ring) close() error {
	if r.fd >= 0 {
		r.readStats() // keep the last counts
	}
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	var err error
	if r.mem != nil {
		err = unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd >= 0 {
		if cerr := unix.Close(r.fd); err == nil {
			err = cerr
		}
		r.fd = -1
	}
	return err
}
