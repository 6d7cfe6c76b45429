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
	if parseDNSCommon(b, m) {
		return true
	}
	*m = DNSMessage{Answers: m.Answers[:0], ECHPublicNames: m.ECHPublicNames[:0]}
	return parseDNSGeneral(b, m)
}

// parseDNSGeneral is parseDNS with miekg/dns alone.
func parseDNSGeneral(b []byte, m *DNSMessage) bool {
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

// parseDNSCommon reads the messages DNS traffic mostly is, one question
// and answers of type A, AAAA and CNAME, without building a dns.Msg: the
// general path allocates a record, a name and an address slice per
// answer, the larger part of a replay's allocations. It follows
// dns.Msg.Unpack step by step (the same name decoder, the same record
// length checks, the authority and additional sections read with
// dns.UnpackRR, the EDNS extended RCODE) and returns false, with m in any
// state, for anything else: then parseDNSGeneral decides.
// FuzzDNSCommonSame holds the two paths to the same answers.
func parseDNSCommon(b []byte, m *DNSMessage) bool {
	bits := binary.BigEndian.Uint16(b[2:4])
	qd := binary.BigEndian.Uint16(b[4:6])
	an := int(binary.BigEndian.Uint16(b[6:8]))
	ns := int(binary.BigEndian.Uint16(b[8:10]))
	ar := int(binary.BigEndian.Uint16(b[10:12]))
	if qd != 1 || len(b) == 12 {
		return false
	}
	qname, off, err := dns.UnpackDomainName(b, 12)
	if err != nil || off+4 > len(b) {
		return false
	}
	m.QType = binary.BigEndian.Uint16(b[off:])
	m.QClass = binary.BigEndian.Uint16(b[off+2:])
	off += 4
	for range an {
		if off == len(b) {
			break // fewer records than counted: Unpack stops here too
		}
		var name string
		if off+2 <= len(b) && b[off] == 0xc0 && b[off+1] == 12 {
			name, off = qname, off+2 // a pointer to the question's name
		} else if name, off, err = dns.UnpackDomainName(b, off); err != nil {
			return false
		}
		if off+10 > len(b) {
			return false
		}
		typ := binary.BigEndian.Uint16(b[off:])
		ttl := binary.BigEndian.Uint32(b[off+4:])
		end := off + 10 + int(binary.BigEndian.Uint16(b[off+8:]))
		off += 10
		if end > len(b) || end == off {
			return false // bad length, or no rdata (Unpack keeps such records empty)
		}
		r := DNSRecord{Name: trimDot(name), Type: typ, TTL: ttl}
		switch typ {
		case dns.TypeA:
			if end-off != 4 {
				return false
			}
			r.Addr = netip.AddrFrom4([4]byte(b[off:end]))
			r.Data = r.Addr.String()
		case dns.TypeAAAA:
			if end-off != 16 {
				return false
			}
			r.Addr = netip.AddrFrom16([16]byte(b[off:end]))
			r.Data = r.Addr.String()
		case dns.TypeCNAME:
			t, o, err := dns.UnpackDomainName(b[:end], off)
			if err != nil || o != end {
				return false
			}
			r.Data = trimDot(t)
		default:
			return false
		}
		m.Answers = append(m.Answers, r)
		off = end
	}
	rcode := bits & 0xf
	var opt *dns.OPT
	for i := range ns + ar {
		start := off
		rr, o, err := dns.UnpackRR(b, off)
		if err != nil {
			return false
		}
		if off = o; off == start {
			break // the message ended: both sections end here, as in Unpack
		}
		if o, ok := rr.(*dns.OPT); ok && i >= ns {
			opt = o // the last one counts, as with dns.Msg.IsEdns0
		}
	}
	if opt != nil {
		rcode |= uint16(opt.ExtendedRcode())
	}
	m.ID = binary.BigEndian.Uint16(b[0:2])
	m.Response = bits&0x8000 != 0
	m.Opcode = uint8(bits>>11) & 0xf
	m.Truncated = bits&0x0200 != 0
	m.RCode = rcode
	m.QName = trimDot(qname)
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
			r.Data = rdata(rr)
		}
		m.Answers = append(m.Answers, r)
	}
}

// rdata returns the RDATA of rr in the one form DNSRecord.Data has for
// every type: presentation format (RFC 1035 section 5.1, escapes
// included), with each domain name written as dns.question.name is,
// without its trailing dot (the root stays "."), and a TXT record's
// character-strings unquoted and concatenated, as SPF and DKIM read them
// (RFC 7208 section 3.3). An MX is "10 mail.example.com", a TXT
// "v=spf1 -all".
func rdata(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.MX:
		return uitoa(uint64(v.Preference)) + " " + rdataName(v.Mx)
	case *dns.NS:
		return rdataName(v.Ns)
	case *dns.PTR:
		return rdataName(v.Ptr)
	case *dns.DNAME:
		return rdataName(v.Target)
	case *dns.SRV:
		return uitoa(uint64(v.Priority)) + " " + uitoa(uint64(v.Weight)) + " " + uitoa(uint64(v.Port)) + " " + rdataName(v.Target)
	case *dns.SOA:
		return rdataName(v.Ns) + " " + rdataName(v.Mbox) + " " + uitoa(uint64(v.Serial)) + " " + uitoa(uint64(v.Refresh)) + " " +
			uitoa(uint64(v.Retry)) + " " + uitoa(uint64(v.Expire)) + " " + uitoa(uint64(v.Minttl))
	case *dns.TXT:
		return strings.Join(v.Txt, "")
	}
	s := rr.String()
	// rr.String() is "name ttl class type rdata"; keep the rdata.
	if i := strings.LastIndexByte(s, '\t'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// rdataName writes a domain name inside RDATA: without its trailing dot,
// except the root.
func rdataName(s string) string {
	if s == "." {
		return s
	}
	return trimDot(s)
}

func svcbData(s *dns.SVCB) string {
	var b strings.Builder
	b.WriteString(uitoa(uint64(s.Priority)))
	b.WriteByte(' ')
	b.WriteString(rdataName(s.Target))
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
