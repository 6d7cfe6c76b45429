package output

import (
	"net/netip"
	"strconv"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// Dataset names of the device-identity events. LLMNR and mDNS messages
// are DNS events (DatasetDNS) with network.protocol llmnr or mdns.
const (
	DatasetDHCP = "egresswatch.dhcp"
	DatasetNBNS = "egresswatch.nbns"
)

var dhcpTypes = [...]string{"", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform"}

var dhcpv6Types = [...]string{"", "solicit", "advertise", "request", "confirm", "renew", "rebind", "reply",
	"release", "decline", "reconfigure", "information-request", "relay-forw", "relay-repl"}

// deviceDataset returns the event.dataset and network.protocol of a
// device-identity observation (DHCP, NBNS, LLMNR, mDNS); "" for any other
// App.
func deviceDataset(o *classify.Observation) (ds, proto string) {
	switch o.App {
	case classify.AppDHCP:
		ds, proto = DatasetDHCP, "dhcp"
		if o.DHCP.V6 {
			proto = "dhcpv6"
		}
	case classify.AppNBNS:
		ds, proto = DatasetNBNS, "nbns"
	case classify.AppLLMNR:
		ds, proto = DatasetDNS, "llmnr"
	case classify.AppMDNS:
		ds, proto = DatasetDNS, "mdns"
	}
	return ds, proto
}

// deviceFields writes the fields of a device-identity observation.
func deviceFields(b *builder, o *classify.Observation) {
	switch o.App {
	case classify.AppDHCP:
		if o.DHCP.V6 {
			dhcpv6Fields(b, o.DHCP)
		} else {
			dhcpv4Fields(b, o.DHCP)
		}
	case classify.AppNBNS:
		nbnsFields(b, o.NBNS)
	default:
		dnsFields(b, o.DNS)
	}
}

// dhcpv4Fields writes dhcpv4.*, as Packetbeat names them.
func dhcpv4Fields(b *builder, m *classify.DHCPMessage) {
	b.open("dhcpv4")
	dhcpClient(b, m)
	addrOpt(b, "client_ip", m.ClientIP)
	addrOpt(b, "assigned_ip", m.AssignedIP)
	addrOpt(b, "relay_ip", m.RelayIP)
	b.open("option")
	if int(m.Type) < len(dhcpTypes) && m.Type != 0 {
		b.str("message_type", dhcpTypes[m.Type])
	} else if m.Type != 0 {
		b.str("message_type", strconv.Itoa(int(m.Type)))
	}
	bytesOpt(b, "hostname", m.Hostname)
	addrOpt(b, "requested_ip_address", m.RequestedIP)
	addrOpt(b, "server_identifier", m.ServerID)
	bytesOpt(b, "vendor_identifier", m.VendorClass)
	bytesOpt(b, "domain_name", m.DomainName)
	if m.HasLease {
		b.uint("ip_address_lease_time_sec", uint64(m.LeaseTime))
	}
	bytesOpt(b, "client_fqdn", m.FQDN)
	hexOpt(b, "client_identifier", m.ClientID)
	if m.CircuitID != nil || m.RemoteID != nil {
		b.open("relay_agent_info")
		hexOpt(b, "circuit_id", m.CircuitID)
		hexOpt(b, "remote_id", m.RemoteID)
		b.close()
	}
	b.close()
	b.close()
}

// dhcpv6Fields writes dhcpv6.*, in the spirit of dhcpv4.*.
func dhcpv6Fields(b *builder, m *classify.DHCPMessage) {
	b.open("dhcpv6")
	if int(m.Type) < len(dhcpv6Types) && m.Type != 0 {
		b.str("message_type", dhcpv6Types[m.Type])
	} else {
		b.str("message_type", strconv.Itoa(int(m.Type)))
	}
	if m.Relayed {
		b.bool("relayed", true)
	}
	dhcpClient(b, m)
	hexOpt(b, "client_duid", m.ClientID)
	addrArr(b, "assigned_ip", m.IAAddrs())
	if m.HasLease {
		b.uint("valid_lifetime_sec", uint64(m.LeaseTime))
	}
	bytesOpt(b, "client_fqdn", m.FQDN)
	b.close()
}

// nbnsFields writes nbns.*.
func nbnsFields(b *builder, m *classify.NBNSMessage) {
	b.open("nbns")
	messageHead(b, m.Response, m.ID, m.Opcode)
	if m.Response {
		b.uint("response_code", uint64(m.RCode))
	}
	b.key("name")
	var name [64]byte
	b.buf = appendString(b.buf, string(m.AppendName(name[:0])))
	if m.Group {
		b.bool("group", true)
	}
	addrArr(b, "addresses", m.IPAddrs())
	b.close()
}

// deviceSource writes source.domain: the device's name, when known.
func deviceSource(b *builder, d *flow.Device) {
	if d.ID != nil {
		b.strOpt("domain", d.ID.Name)
	}
}

// deviceObj writes egresswatch.device: where the name came from and what
// the inventory says.
func deviceObj(b *builder, d *flow.Device) {
	id := d.ID
	if id == nil || (id.Name == "" && id.Owner == "" && id.Department == "" && id.Group == "") {
		return
	}
	b.open("device")
	b.strOpt("name", id.Name)
	if id.Name != "" {
		b.str("name_source", id.Source.String())
	}
	b.strOpt("owner", id.Owner)
	b.strOpt("department", id.Department)
	b.strOpt("group", id.Group)
	b.close()
}

// sourceMAC writes source.mac: the leased MAC when the binding knows it,
// else the frame's.
func sourceMAC(b *builder, d *flow.Device) {
	if mac, ok := d.LinkAddr(); ok {
		b.key("mac")
		b.buf = appendMAC(b.buf, mac)
	}
}

func addrOpt(b *builder, k string, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	b.key(k)
	b.buf = append(b.buf, '"')
	b.buf = a.AppendTo(b.buf)
	b.buf = append(b.buf, '"')
}

func bytesOpt(b *builder, k string, v []byte) {
	if len(v) == 0 {
		return
	}
	b.key(k)
	b.buf = appendString(b.buf, string(v))
}

// hexOpt writes v as colon-separated lower-case hex.
func hexOpt(b *builder, k string, v []byte) {
	if len(v) == 0 {
		return
	}
	b.key(k)
	b.buf = appendColonMAC(b.buf, v)
}

// appendColonMAC writes bytes as a JSON string of lower-case hex pairs
// joined by colons (Packetbeat's MAC form).
func appendColonMAC(dst []byte, v []byte) []byte {
	return appendHexPairs(dst, v, ':', hexDigits)
}

// messageHead writes the type (query or answer), id and op code of a DNS
// or NBNS message.
func messageHead(b *builder, response bool, id uint16, opcode uint8) {
	if response {
		b.str("type", "answer")
	} else {
		b.str("type", "query")
	}
	b.uint("id", uint64(id))
	if opcode != 0 {
		b.uint("op_code", uint64(opcode))
	}
}

// dhcpClient writes a DHCP message's transaction id and client MAC.
func dhcpClient(b *builder, m *classify.DHCPMessage) {
	b.key("transaction_id")
	b.buf = append(b.buf, '"', '0', 'x')
	b.buf = appendHex32(b.buf, m.XID)
	b.buf = append(b.buf, '"')
	if m.HasMAC {
		b.key("client_mac")
		b.buf = appendColonMAC(b.buf, m.ClientMAC[:])
	}
}

// addrArr writes a list of addresses; nothing when it is empty.
func addrArr(b *builder, k string, addrs []netip.Addr) {
	if len(addrs) == 0 {
		return
	}
	b.openArr(k)
	for _, a := range addrs {
		b.sep()
		b.buf = append(b.buf, '"')
		b.buf = a.AppendTo(b.buf)
		b.buf = append(b.buf, '"')
	}
	b.closeArr()
}
