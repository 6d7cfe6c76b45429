package classify

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/egresswatch/egresswatch/classify/tlshello"
)

// parseDNS decodes one DNS message with miekg/dns into m. When the full
// message does not decode (bad labels in an answer, cut short by the
// snaplen), it falls back to the header and the first question, so that
// a name the device asked for is never lost; m.Partial says so. It returns
// false when not even a header and question can be read.
func parseDNS(b []byte, m *DNSMessage) bool {
	*m = DNSMessage{Answers: m.Answers[:0], ECHPublicNames: m.ECHPublicNames[:0]}
	if len(b) < 12 {
		return false
	}
	var msg dns.Msg
	if err := msg.Unpack(b); err == nil {
		fillDNS(&msg, m)
		return true
	}
	// Fallback: header and first question only.
	m.ID = binary.BigEndian.Uint16(b[0:2])
	flags := binary.BigEndian.Uint16(b[2:4])
	m.Response = flags&0x8000 != 0
	m.Opcode = uint8(flags>>11) & 0xf
	m.Truncated = flags&0x0200 != 0
	m.RCode = flags & 0xf
	m.Partial = true
	if binary.BigEndian.Uint16(b[4:6]) == 0 {
		return true
	}
	name, off, err := dns.UnpackDomainName(b, 12)
	if err != nil || off+4 > len(b) {
		return false
	}
	m.QName = trimDot(name)
	m.QType = binary.BigEndian.Uint16(b[off:])
	m.QClass = binary.BigEndian.Uint16(b[off+2:])
	return true
}

func fillDNS(msg *dns.Msg, m *DNSMessage) {
	m.ID = msg.Id
	m.Response = msg.Response
	m.Opcode = uint8(msg.Opcode)
	m.Truncated = msg.Truncated
	m.RCode = uint16(msg.Rcode)
	if len(msg.Question) > 0 {
		q := msg.Question[0]
		m.QName, m.QType, m.QClass = trimDot(q.Name), q.Qtype, q.Qclass
	}
	for _, rr := range msg.Answer {
		h := rr.Header()
		r := DNSRecord{Name: trimDot(h.Name), Type: h.Rrtype, TTL: h.Ttl}
		switch v := rr.(type) {
		case *dns.A:
			r.Addr, _ = netip.AddrFromSlice(v.A.To4())
			r.Data = r.Addr.String()
		case *dns.AAAA:
			r.Addr, _ = netip.AddrFromSlice(v.AAAA.To16())
			r.Data = r.Addr.String()
		case *dns.CNAME:
			r.Data = trimDot(v.Target)
		case *dns.HTTPS:
			r.Data = svcbData(&v.SVCB)
			echParam(&v.SVCB, m)
		case *dns.SVCB:
			r.Data = svcbData(v)
			echParam(v, m)
		default:
			s := rr.String()
			// rr.String() is "name ttl class type rdata"; keep the rdata.
			if i := strings.LastIndexByte(s, '\t'); i >= 0 {
				s = s[i+1:]
			}
			r.Data = s
		}
		m.Answers = append(m.Answers, r)
	}
}

func svcbData(s *dns.SVCB) string {
	var b strings.Builder
	b.WriteString(uitoa(uint64(s.Priority)))
	b.WriteByte(' ')
	b.WriteString(s.Target)
	for _, kv := range s.Value {
		b.WriteByte(' ')
		b.WriteString(kv.Key().String())
		b.WriteByte('=')
		b.WriteString(kv.String())
	}
	return b.String()
}

// echParam notes an ech parameter of an HTTPS/SVCB record in m: the flag,
// and the public names of its configs (a malformed list gives the names
// read before the fault, or none).
func echParam(s *dns.SVCB, m *DNSMessage) {
	for _, kv := range s.Value {
		if e, ok := kv.(*dns.SVCBECHConfig); ok {
			m.ECH = true
			m.ECHPublicNames, _ = tlshello.ECHPublicNames(m.ECHPublicNames, e.ECH)
		}
	}
}

func trimDot(s string) string {
	if len(s) > 1 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	if s == "." {
		return ""
	}
	return s
}

// DNSTypeString returns the mnemonic of a DNS RR type ("A", "AAAA",
// "HTTPS", ...), or "TYPE%d" as RFC 3597 writes unknown ones.
func DNSTypeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + uitoa(uint64(t))
}

// DNSRcodeString returns the mnemonic of a DNS response code.
func DNSRcodeString(r uint16) string {
	if s, ok := dns.RcodeToString[int(r)]; ok {
		return s
	}
	return "RCODE" + uitoa(uint64(r))
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
