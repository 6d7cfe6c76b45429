package classify

import "github.com/egresswatch/egresswatch/classify/tlshello"

// Keep copies observations out of the buffers a Decoder and an Inspector
// reuse (the packet, DNS answers, ClientHello lists), so that an
// observation can outlive the next Decode or Inspect call, for instance
// to be handed to another goroutine. Its storage is reused after Reset:
// a copy stays valid until then. Strings are shared, not copied (they
// are immutable). Once Keep's buffers have grown to a workload's size,
// copying allocates nothing.
//
// The zero value is ready to use; a Keep is not safe for concurrent use.
type Keep struct {
	pkts    []Packet
	obs     []Observation
	dns     []DNSMessage
	records []DNSRecord
	hellos  []tlshello.ClientHello
	strs    []string
	u16     []uint16
	dhcp    []DHCPMessage
	nbns    []NBNSMessage
	bytes   []byte
}

// Reset makes the storage of every copy made so far free for reuse. The
// copies must no longer be used.
func (k *Keep) Reset() {
	clear(k.pkts) // drop references to file paths and payloads
	k.pkts = k.pkts[:0]
	k.obs = k.obs[:0]
	k.dns = k.dns[:0]
	k.records = k.records[:0]
	k.hellos = k.hellos[:0]
	k.strs = k.strs[:0]
	k.u16 = k.u16[:0]
	k.dhcp = k.dhcp[:0]
	k.nbns = k.nbns[:0]
	k.bytes = k.bytes[:0]
}

// Observation returns a copy of o that is valid until Reset. The copy's
// packet has no payload (it is the frame's, which is not kept).
//
// A copy is an element of a slice that Keep appends to. When the slice
// grows, earlier copies stay in the old array, which nothing writes to
// again, so pointers handed out stay valid and unchanged.
func (k *Keep) Observation(o *Observation) *Observation {
	c := *o
	if o.Packet != nil {
		k.pkts = append(k.pkts, *o.Packet)
		p := &k.pkts[len(k.pkts)-1]
		p.Payload = nil
		c.Packet = p
	}
	if o.DNS != nil {
		k.dns = append(k.dns, *o.DNS)
		m := &k.dns[len(k.dns)-1]
		m.Answers = keepSlice(&k.records, o.DNS.Answers)
		m.ECHPublicNames = keepSlice(&k.strs, o.DNS.ECHPublicNames)
		c.DNS = m
	}
	if o.Hello != nil {
		k.hellos = append(k.hellos, *o.Hello)
		h := &k.hellos[len(k.hellos)-1]
		h.SupportedVersions = keepSlice(&k.u16, o.Hello.SupportedVersions)
		h.ALPN = keepSlice(&k.strs, o.Hello.ALPN)
		h.CipherSuites = keepSlice(&k.u16, o.Hello.CipherSuites)
		h.Extensions = keepSlice(&k.u16, o.Hello.Extensions)
		h.SupportedGroups = keepSlice(&k.u16, o.Hello.SupportedGroups)
		h.KeyShares = keepSlice(&k.u16, o.Hello.KeyShares)
		h.SignatureAlgs = keepSlice(&k.u16, o.Hello.SignatureAlgs)
		c.Hello = h
	}
	if o.DHCP != nil {
		c.DHCP = k.keepDHCP(o.DHCP)
	}
	if o.NBNS != nil {
		k.nbns = append(k.nbns, *o.NBNS)
		c.NBNS = &k.nbns[len(k.nbns)-1]
	}
	k.obs = append(k.obs, c)
	return &k.obs[len(k.obs)-1]
}

// keepSlice appends src to *store and returns the copy, capped so that an
// append to it cannot write into the store.
func keepSlice[T any](store *[]T, src []T) []T {
	if len(src) == 0 {
		return nil
	}
	start := len(*store)
	*store = append(*store, src...)
	return (*store)[start:len(*store):len(*store)]
}

// keepDHCP copies a DHCP message and the bytes it borrows.
func (k *Keep) keepDHCP(m *DHCPMessage) *DHCPMessage {
	k.dhcp = append(k.dhcp, *m)
	c := &k.dhcp[len(k.dhcp)-1]
	for _, f := range [...]*[]byte{&c.Hostname, &c.FQDN, &c.ClientID, &c.VendorClass, &c.DomainName, &c.CircuitID, &c.RemoteID} {
		*f = keepSlice(&k.bytes, *f)
	}
	return c
}
