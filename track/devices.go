package track

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// Bindings is the binding table: which device holds which address, as
// DHCP and DHCPv6 (leases), NBNS, LLMNR and mDNS (a device's answers for
// its own address) and the asset inventory tell. A DHCP binding lasts for
// its lease and ends with a RELEASE, DECLINE or NAK, or when the address
// is leased to another device; a name announcement (weaker) never
// replaces a live DHCP binding. Answers a device gives about another
// address (a resolver's, a WINS server's) name nothing.
//
// The pipeline's merger learns and looks up in frame order, so what a
// flow is named does not depend on how the capture was sharded. Not safe
// for concurrent use, except SetInventory.
type Bindings struct {
	byAddr bounded[netip.Addr, *binding]
	byMAC  bounded[[6]byte, *client] // what DHCP clients said of themselves
	inv    atomic.Pointer[Inventory]
	weak   time.Duration
	Stats  BindingStats
}

// BindingStats counts the table's work.
type BindingStats struct {
	Learned  uint64 // bindings made or renewed
	Ended    uint64 // ended by RELEASE, DECLINE or NAK
	Replaced uint64 // an address bound to another device
	Evicted  uint64 // entries dropped at the size cap
}

// BindingOptions configures Bindings.
type BindingOptions struct {
	MaxEntries int           // addresses and DHCP clients held (default 65536)
	WeakTTL    time.Duration // how long a name announcement binds (default 1 h)
}

// binding is one address's device.
type binding struct {
	id    *flow.Identity // as learned, before the inventory
	mac   [6]byte
	until time.Time // zero: no end
	// The identity with the inventory's entry applied, made once per
	// inventory version.
	invID  *flow.Identity
	invVer *Inventory
}

// client is what a DHCP client said of itself in its own messages, keyed
// by its MAC: the name its server's ACK may not repeat, and the DHCPv4
// address it last held (what a NAK ends).
type client struct {
	name string
	addr netip.Addr
}

// Long enough to be forever.
const foreverLease = 100 * 365 * 24 * time.Hour

// NewBindings returns an empty table.
func NewBindings(o BindingOptions) *Bindings {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 1 << 16
	}
	if o.WeakTTL <= 0 {
		o.WeakTTL = time.Hour
	}
	b := &Bindings{weak: o.WeakTTL}
	b.byAddr.init(o.MaxEntries - o.MaxEntries/4)
	b.byMAC.init(o.MaxEntries / 4)
	b.byAddr.evicted = &b.Stats.Evicted
	b.byMAC.evicted = &b.Stats.Evicted
	return b
}

// SetInventory replaces the asset inventory (nil: none). Safe to call
// from another goroutine (a SIGHUP reload); flows that start afterwards
// see the new one.
func (b *Bindings) SetInventory(inv *Inventory) { b.inv.Store(inv) }

// Len returns the addresses bound.
func (b *Bindings) Len() int { return len(b.byAddr.m) }

// Identify returns the identity of the device at address src at time t,
// or nil when nothing is known. dev is what the frame showed (its MAC,
// which the inventory may list). The result is shared and must not be
// changed.
func (b *Bindings) Identify(src netip.Addr, t time.Time, dev *flow.Device) *flow.Identity {
	src = src.Unmap()
	bd, ok := b.byAddr.m[src]
	if ok && !bd.until.IsZero() && !t.Before(bd.until) {
		bd, ok = nil, false // the lease is over; a later message may renew it
	}
	inv := b.inv.Load()
	if inv == nil || inv.Len() == 0 {
		if ok {
			return bd.id
		}
		return nil
	}
	if ok {
		if bd.invVer != inv {
			bd.invID, bd.invVer = inv.apply(bd.id, src, dev), inv
		}
		return bd.invID
	}
	return inv.apply(nil, src, dev)
}

// Learn takes one device-identity observation.
func (b *Bindings) Learn(o *classify.Observation) {
	p := o.Packet
	switch o.App {
	case classify.AppDHCP:
		if o.DHCP.V6 {
			b.dhcpv6(o.DHCP, p.Time)
		} else {
			b.dhcpv4(o.DHCP, p.Time)
		}
	case classify.AppNBNS:
		m := o.NBNS
		// A registration, refresh or positive answer for a unique
		// workstation or server name, whose address is the sender's own.
		if m.Group || m.NAddrs == 0 || m.NameLen == 0 || (m.Suffix != 0x00 && m.Suffix != 0x20) {
			return
		}
		if m.Response && (m.Opcode != 0 || m.RCode != 0) {
			return
		}
		if !m.Response && m.Opcode != 5 && m.Opcode != 8 && m.Opcode != 9 {
			return
		}
		if m.Addrs[0] == p.Key.Src.Addr().Unmap() {
			b.weakBind(m.Addrs[0], string(m.Name[:m.NameLen]), flow.DeviceNBNS, p)
		}
	case classify.AppLLMNR, classify.AppMDNS:
		m := o.DNS
		if !m.Response || m.RCode != 0 {
			return
		}
		src := flow.DeviceLLMNR
		if o.App == classify.AppMDNS {
			src = flow.DeviceMDNS
		}
		self := p.Key.Src.Addr().Unmap()
		for i := range m.Answers {
			a := &m.Answers[i]
			if a.Addr.IsValid() && a.Addr.Unmap() == self && a.Name != "" {
				name := strings.TrimSuffix(strings.TrimSuffix(a.Name, "."), ".local")
				b.weakBind(self, name, src, p)
				return
			}
		}
	}
}

// dhcpv4 learns from one DHCPv4 message.
func (b *Bindings) dhcpv4(m *classify.DHCPMessage, t time.Time) {
	if !m.HasMAC {
		return
	}
	name := string(m.Hostname)
	if name == "" {
		name = string(m.FQDN)
	}
	switch m.Type {
	case classify.DHCPDiscover, classify.DHCPRequest, classify.DHCPInform:
		c := b.client(m.ClientMAC)
		if name != "" {
			c.name = name
		}
		// A client that renews or informs with an address holds it.
		if m.ClientIP.IsValid() {
			if bd, ok := b.byAddr.m[m.ClientIP]; ok && bd.mac != m.ClientMAC {
				b.byAddr.delete(m.ClientIP)
				b.Stats.Replaced++
			}
		}
	case classify.DHCPAck:
		addr, lease := m.AssignedIP, time.Duration(0)
		if addr.IsValid() {
			lease = foreverLease
			if m.HasLease && m.LeaseTime != 0xffffffff {
				lease = time.Duration(m.LeaseTime) * time.Second
			}
		} else if addr = m.ClientIP; !addr.IsValid() {
			return
		}
		c := b.client(m.ClientMAC)
		if name == "" {
			name = c.name
		}
		c.addr = addr
		b.bind(addr, name, flow.DeviceDHCP, m.ClientMAC, true, t, lease)
	case classify.DHCPRelease:
		b.end(m.ClientIP, m.ClientMAC)
	case classify.DHCPDecline:
		b.end(m.RequestedIP, m.ClientMAC)
	case classify.DHCPNak:
		if c, ok := b.byMAC.m[m.ClientMAC]; ok {
			b.end(c.addr, m.ClientMAC)
		}
	}
}

// dhcpv6 learns from one DHCPv6 message.
func (b *Bindings) dhcpv6(m *classify.DHCPMessage, t time.Time) {
	if !m.HasMAC {
		return
	}
	name := string(m.FQDN)
	switch m.Type {
	case classify.DHCPv6Solicit, classify.DHCPv6Request, classify.DHCPv6Renew, classify.DHCPv6Rebind, classify.DHCPv6InfoRequest:
		if name != "" {
			b.client(m.ClientMAC).name = name
		}
	case classify.DHCPv6Reply:
		if m.NAddrs == 0 {
			return
		}
		if name == "" {
			if c, ok := b.byMAC.m[m.ClientMAC]; ok {
				name = c.name
			}
		}
		for _, a := range m.IAAddrs() {
			lease := foreverLease
			if m.HasLease && m.LeaseTime != 0xffffffff {
				lease = time.Duration(m.LeaseTime) * time.Second
			}
			if lease == 0 {
				b.end(a, m.ClientMAC) // a valid lifetime of 0 withdraws the address
				continue
			}
			b.bind(a, name, flow.DeviceDHCPv6, m.ClientMAC, true, t, lease)
		}
	case classify.DHCPv6Release, classify.DHCPv6Decline:
		for _, a := range m.IAAddrs() {
			b.end(a, m.ClientMAC)
		}
	}
}

// client returns the record of the DHCP client with the given MAC, made
// when new.
func (b *Bindings) client(mac [6]byte) *client {
	if c, ok := b.byMAC.m[mac]; ok {
		return c
	}
	c := &client{}
	b.byMAC.put(mac, c)
	return c
}

// weakBind binds addr to a name the device announced for itself, unless a
// live DHCP binding holds it.
func (b *Bindings) weakBind(addr netip.Addr, name string, src flow.DeviceSource, p *classify.Packet) {
	if bd, ok := b.byAddr.m[addr]; ok && !bd.id.Source.Weak() && (bd.until.IsZero() || p.Time.Before(bd.until)) {
		return
	}
	b.bind(addr, name, src, p.Sender.MAC, p.Sender.HasMAC, p.Time, b.weak)
}

// bind makes or renews addr's binding. An unchanged binding keeps its
// identity (and the flows that share it).
func (b *Bindings) bind(addr netip.Addr, name string, src flow.DeviceSource, mac [6]byte, hasMAC bool, t time.Time, d time.Duration) {
	addr = addr.Unmap()
	b.Stats.Learned++
	until := t.Add(d)
	if old, ok := b.byAddr.m[addr]; ok {
		id := old.id
		if id.Name == name && id.Source == src && id.HasMAC == hasMAC && id.MAC == mac {
			old.until = until
			return
		}
		if old.mac != mac {
			b.Stats.Replaced++
		}
	}
	id := &flow.Identity{Name: name, NameFold: strings.ToLower(name), Source: src, MAC: mac, HasMAC: hasMAC}
	b.byAddr.put(addr, &binding{id: id, mac: mac, until: until})
}

// end ends addr's binding if it belongs to the device with the given MAC.
func (b *Bindings) end(addr netip.Addr, mac [6]byte) {
	if !addr.IsValid() {
		return
	}
	addr = addr.Unmap()
	if bd, ok := b.byAddr.m[addr]; ok && bd.mac == mac {
		b.byAddr.delete(addr)
		b.Stats.Ended++
	}
}

// bounded is a map capped at max entries that evicts the oldest insertion
// first.
type bounded[K comparable, V any] struct {
	m       map[K]V
	order   []K // insertion order from head; may hold deleted keys
	head    int
	max     int
	evicted *uint64
}

func (t *bounded[K, V]) init(n int) {
	t.m, t.max = map[K]V{}, max(n, 1)
}

func (t *bounded[K, V]) put(k K, v V) {
	if _, ok := t.m[k]; !ok {
		for len(t.m) >= t.max && t.head < len(t.order) {
			old := t.order[t.head]
			t.head++
			if _, ok := t.m[old]; ok {
				delete(t.m, old)
				*t.evicted++
			}
		}
		t.order = append(t.order, k)
		if (t.head > len(t.order)/2 && t.head > 1024) || len(t.order) > 2*t.max+1024 {
			t.compact()
		}
	}
	t.m[k] = v
}

func (t *bounded[K, V]) delete(k K) { delete(t.m, k) }

// compact drops the consumed head of the order and keys no longer held.
func (t *bounded[K, V]) compact() {
	n := 0
	seen := make(map[K]struct{}, len(t.m))
	for _, k := range t.order[t.head:] {
		if _, ok := t.m[k]; ok {
			if _, dup := seen[k]; !dup {
				seen[k] = struct{}{}
				t.order[n] = k
				n++
			}
		}
	}
	clear(t.order[n:])
	t.order, t.head = t.order[:n], 0
}
