package classify

// Device-identity protocols: the messages that say which device holds an
// address and what it calls itself. DHCP and DHCPv6 hand out addresses;
// NetBIOS name service, LLMNR and mDNS announce and answer names on the
// local link. Their observations feed the pipeline's binding table, not
// passive DNS: an LLMNR or mDNS answer never names a destination.

// Observation kinds of the device-identity protocols. They are numbered
// apart from the other App values so that the two lists grow separately.
const (
	AppDHCP  App = 16 + iota // DHCPv4 or DHCPv6: Observation.DHCP
	AppNBNS                  // NetBIOS name service: Observation.NBNS
	AppLLMNR                 // LLMNR (RFC 4795): Observation.DNS
	AppMDNS                  // multicast DNS (RFC 6762): Observation.DNS
)

var deviceAppNames = [...]string{"dhcp", "nbns", "llmnr", "mdns"}

// deviceAppName returns the name of a device-identity App.
func deviceAppName(a App) (string, bool) {
	if a >= AppDHCP && int(a-AppDHCP) < len(deviceAppNames) {
		return deviceAppNames[a-AppDHCP], true
	}
	return "", false
}

// Ports of the device-identity protocols.
const (
	portNBNS  = 137
	portMDNS  = 5353
	portLLMNR = 5355
)

// deviceMessage inspects a UDP datagram to or from a device-identity port
// and reports whether it was one (then nothing else looks at it).
func (in *Inspector) deviceMessage(p *Packet) bool {
	sp, dp := p.Key.Src.Port(), p.Key.Dst.Port()
	switch {
	case isDHCPPort(sp) || isDHCPPort(dp), isDHCPv6Port(sp) || isDHCPv6Port(dp):
		parse := parseDHCPv6
		if isDHCPPort(sp) || isDHCPPort(dp) {
			parse = parseDHCPv4
		}
		m := in.nextDHCP()
		if !parse(p.Payload, m) {
			in.Stats.DHCPMalformed++
			return true
		}
		in.Stats.DHCPMessages++
		in.obs = append(in.obs, Observation{App: AppDHCP, Packet: p, DHCP: m})
	case sp == portNBNS || dp == portNBNS:
		k := len(in.obs)
		for k >= len(in.nbns) {
			in.nbns = append(in.nbns, NBNSMessage{})
		}
		m := &in.nbns[k]
		if !parseNBNS(p.Payload, m) {
			in.Stats.NBNSMalformed++
			return true
		}
		in.Stats.NBNSMessages++
		in.obs = append(in.obs, Observation{App: AppNBNS, Packet: p, NBNS: m})
	case sp == portLLMNR || dp == portLLMNR:
		in.localDNS(p, AppLLMNR)
	case sp == portMDNS || dp == portMDNS:
		in.localDNS(p, AppMDNS)
	default:
		return false
	}
	return true
}

func (in *Inspector) nextDHCP() *DHCPMessage {
	k := len(in.obs)
	for k >= len(in.dhcp) {
		in.dhcp = append(in.dhcp, DHCPMessage{})
	}
	return &in.dhcp[k]
}

// localDNS reads an LLMNR or mDNS message, which are DNS messages on
// their own ports.
func (in *Inspector) localDNS(p *Packet, app App) {
	k := len(in.obs)
	for k >= len(in.dns) {
		in.dns = append(in.dns, DNSMessage{})
	}
	m := &in.dns[k]
	if !parseDNS(p.Payload, m) {
		in.Stats.LocalMalformed++
		return
	}
	if app == AppLLMNR {
		in.Stats.LLMNRMessages++
	} else {
		in.Stats.MDNSMessages++
	}
	in.obs = append(in.obs, Observation{App: app, Packet: p, DNS: m})
}
