package output

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/track"
)

// Dataset names (event.dataset).
const (
	DatasetDNS  = "egresswatch.dns"
	DatasetTLS  = "egresswatch.tls"
	DatasetHTTP = "egresswatch.http"
	DatasetQUIC = "egresswatch.quic"
	DatasetFlow = "egresswatch.flow"
)

// Writer writes events as ECS JSON lines.
type Writer struct {
	w   *bufio.Writer
	b   builder
	enc Encoder
	obs *Observer // nil: no observer block
	// policyRev is egresswatch.policy.revision of alerts ("": none).
	policyRev string
	n         uint64
	err       error
	close     func() error
	// PlacementData, when set, is written as
	// egresswatch.evidence.placement_data on every alert: what placement
	// data the run lacked ("none", "geoip_only", "cloud_only"), so that an
	// alert read alone says its placement is weaker than it looks. Empty
	// when the run had both GeoIP and cloud ranges.
	PlacementData string
	// PlacementTime, when set, is when the placement data in force was
	// made; alerts carry its age at the alert's time as
	// egresswatch.evidence.placement_data_age_sec.
	PlacementTime func() time.Time
}

// NewWriter returns a Writer on w. Call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 256<<10)}
}

// Count returns the number of events written.
func (w *Writer) Count() uint64 { return w.n }

// Flush writes buffered events and returns the first write error.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil && w.err == nil {
		w.err = fmt.Errorf("write events: %w", err)
	}
	return w.err
}

func (w *Writer) emit() {
	if w.err != nil {
		return
	}
	if _, err := w.w.Write(w.b.end()); err != nil {
		w.err = fmt.Errorf("write events: %w", err)
		return
	}
	w.n++
}

// Observation writes the event for one DNS message, ClientHello or HTTP
// request seen in flow f. place is the destination's placement, or nil.
func (w *Writer) Observation(o *classify.Observation, f *track.FlowMeta, place *geo.Placement) {
	if line := w.enc.Observation(o, f, place); line != nil {
		w.Line(line)
	}
}

// Line writes one pre-encoded event line (from an Encoder).
func (w *Writer) Line(line []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.w.Write(line); err != nil {
		w.err = fmt.Errorf("write events: %w", err)
		return
	}
	w.n++
}

// Encoder builds event lines without writing them, so that workers can
// encode in parallel and one writer can put the lines in order. Not safe
// for concurrent use; one per worker.
type Encoder struct {
	b builder
	// Observer, when set, is written into every line (observer.*).
	Observer *Observer
}

// Observation returns the event line for o (nil for an App without an
// event). The line is valid until the next call.
func (e *Encoder) Observation(o *classify.Observation, f *track.FlowMeta, place *geo.Placement) []byte {
	var ds, proto string
	switch o.App {
	case classify.AppDNS:
		ds, proto = DatasetDNS, "dns"
	case classify.AppTLS:
		ds, proto = DatasetTLS, "tls"
	case classify.AppHTTP:
		ds, proto = DatasetHTTP, "http"
	case classify.AppQUIC:
		ds, proto = DatasetQUIC, "quic"
	default:
		if ds, proto = deviceDataset(o); ds == "" {
			return nil
		}
	}
	b := &e.b
	b.begin()
	p := o.Packet
	header(b, ds, p.Time, p.Seq, p.Path, nil)
	endpoints(b, f, place, false)
	network(b, f, proto, false)
	cloud(b, place)
	switch o.App {
	case classify.AppDNS:
		dnsFields(b, o.DNS)
	case classify.AppTLS, classify.AppQUIC:
		tlsFields(b, o)
	case classify.AppHTTP:
		b.open("url")
		b.str("domain", o.HTTP.Host)
		if o.HTTP.Port != 0 {
			b.uint("port", uint64(o.HTTP.Port))
		}
		b.strOpt("original", o.HTTP.Target)
		b.close()
		b.open("http")
		b.open("request")
		b.str("method", o.HTTP.Method)
		b.close()
		b.close()
	default:
		deviceFields(b, o)
	}
	ours(b, f, place, o)
	observer(b, e.Observer)
	return b.end()
}

// Flow writes the summary event of a flow that ended.
func (w *Writer) Flow(f *track.FlowMeta, place *geo.Placement) {
	b := &w.b
	b.begin()
	header(b, DatasetFlow, f.First, f.FirstSeq, f.Path, f)
	endpoints(b, f, place, true)
	network(b, f, "", true)
	cloud(b, place)
	ours(b, f, place, nil)
	observer(b, w.obs)
	w.emit()
}

// header writes @timestamp, event and log. For a flow event (f != nil)
// event also gets start, end and duration.
func header(b *builder, dataset string, t time.Time, seq uint64, path string, f *track.FlowMeta) {
	b.time("@timestamp", t)
	b.open("event")
	b.str("kind", "event")
	b.str("dataset", dataset)
	b.uint("sequence", seq)
	if f != nil {
		b.time("start", f.First)
		b.time("end", f.Last)
		b.int("duration", f.Last.Sub(f.First).Nanoseconds())
	}
	b.close()
	if path != "" {
		b.open("log")
		b.open("file")
		b.str("path", path)
		b.close()
		b.close()
	}
}

// endpoints writes the source and destination objects, each once (a JSON
// object must not repeat a key); counts adds the flow's byte and packet
// counts.
func endpoints(b *builder, f *track.FlowMeta, place *geo.Placement, counts bool) {
	b.open("source")
	addrPort(b, f.Key.Src)
	sourceMAC(b, &f.Device)
	deviceSource(b, &f.Device)
	if counts {
		b.uint("bytes", f.Bytes[0])
		b.uint("packets", f.Packets[0])
	}
	b.close()
	b.open("destination")
	addrPort(b, f.Key.Dst)
	if counts {
		b.uint("bytes", f.Bytes[1])
		b.uint("packets", f.Packets[1])
	}
	b.strOpt("domain", f.Name)
	if place != nil {
		placeFields(b, place)
	}
	b.close()
}

func addrPort(b *builder, ap netip.AddrPort) {
	b.key("ip")
	b.buf = append(b.buf, '"')
	b.buf = ap.Addr().Unmap().AppendTo(b.buf)
	b.buf = append(b.buf, '"')
	if ap.Port() != 0 {
		b.uint("port", uint64(ap.Port()))
	}
}

// placeFields writes destination.geo and destination.as.
func placeFields(b *builder, p *geo.Placement) {
	if p.Country != "" || p.RegisteredCountry != "" {
		b.open("geo")
		b.strOpt("country_iso_code", p.Country)
		b.strOpt("registered_country_iso_code", p.RegisteredCountry)
		b.close()
	}
	if p.ASN != 0 || p.ASOrg != "" {
		b.open("as")
		if p.ASN != 0 {
			b.uint("number", uint64(p.ASN))
		}
		if p.ASOrg != "" {
			b.open("organization")
			b.str("name", p.ASOrg)
			b.close()
		}
		b.close()
	}
}

func network(b *builder, f *track.FlowMeta, proto string, counts bool) {
	b.open("network")
	if counts {
		b.uint("bytes", f.Bytes[0]+f.Bytes[1])
		b.uint("packets", f.Packets[0]+f.Packets[1])
	}
	b.str("transport", f.Key.Proto.String())
	if f.Key.Src.Addr().Is4() || f.Key.Src.Addr().Is4In6() {
		b.str("type", "ipv4")
	} else {
		b.str("type", "ipv6")
	}
	b.strOpt("protocol", proto)
	if vlans := f.Device.VLANs(); len(vlans) > 0 {
		b.open("vlan")
		b.uint("id", uint64(vlans[0]))
		b.close()
		if len(vlans) > 1 {
			b.open("inner")
			b.open("vlan")
			b.uint("id", uint64(vlans[1]))
			b.close()
			b.close()
		}
	}
	b.key("community_id")
	b.buf = append(b.buf, '"')
	b.buf = flow.AppendCommunityID(b.buf, f.Key, 0)
	b.buf = append(b.buf, '"')
	b.close()
}

func cloud(b *builder, p *geo.Placement) {
	if p == nil || p.Cloud.Provider == "" {
		return
	}
	b.open("cloud")
	b.str("provider", p.Cloud.Provider)
	b.strOpt("region", p.Cloud.Region)
	b.strOpt("availability_zone", p.Cloud.Zone)
	if p.Cloud.Service != "" {
		b.open("service")
		b.str("name", p.Cloud.Service)
		b.close()
	}
	b.close()
}

// ours writes the egresswatch.* fields, the flow's notes last. An event
// with nothing to say there has no egresswatch object at all.
func ours(b *builder, f *track.FlowMeta, p *geo.Placement, o *classify.Observation) {
	before, comma := len(b.buf), b.comma[b.depth]
	b.open("egresswatch")
	opened := len(b.buf)
	if f.NameSource != flow.NameNone {
		b.str("name_source", f.NameSource.String())
	}
	deviceObj(b, &f.Device)
	esni := (o != nil && o.NameHiding() == classify.HidingESNI) || (o == nil && f.ESNI)
	if (o != nil && o.Hello != nil && o.Hello.ECH) || (o == nil && f.ECH) || esni {
		b.bool("ech", true)
	}
	if esni {
		b.str("ech_kind", classify.HidingESNI.String())
	}
	if o != nil && o.DNS != nil && o.DNS.ECH {
		b.bool("ech_config", true)
	}
	if p != nil {
		placementObj(b, p)
	}
	if t := f.Tunnel; t.Kind != classify.TunnelNone {
		b.open("tunnel")
		b.str("type", t.Kind.String())
		if t.Src.IsValid() {
			b.open("source")
			b.str("ip", t.Src.String())
			b.close()
			b.open("destination")
			b.str("ip", t.Dst.String())
			b.close()
		}
		if t.HasID {
			b.uint("id", uint64(t.ID))
		}
		b.close()
	}
	if f.NameHidden {
		b.bool("name_hidden", true)
	}
	if f.BlindSpot != classify.BlindNone {
		b.str("blind_spot", f.BlindSpot.String())
	}
	if len(b.buf) == opened { // empty: leave it out
		b.buf, b.comma[b.depth-1] = b.buf[:before], comma
		b.depth--
		return
	}
	b.close()
}

func dnsFields(b *builder, m *classify.DNSMessage) {
	b.open("dns")
	messageHead(b, m.Response, m.ID, m.Opcode)
	if m.QName != "" || m.QType != 0 {
		b.open("question")
		b.str("name", m.QName)
		b.str("type", classify.DNSTypeString(m.QType))
		b.close()
	}
	if m.Response {
		b.str("response_code", classify.DNSRcodeString(m.RCode))
	}
	if m.Truncated {
		b.openArr("header_flags")
		b.elemStr("TC")
		b.closeArr()
	}
	if len(m.Answers) > 0 {
		b.openArr("answers")
		for i := range m.Answers {
			a := &m.Answers[i]
			b.elemObj()
			b.str("name", a.Name)
			b.str("type", classify.DNSTypeString(a.Type))
			b.str("data", a.Data)
			b.uint("ttl", uint64(a.TTL))
			b.close()
		}
		b.closeArr()
		n := 0
		for i := range m.Answers {
			if m.Answers[i].Addr.IsValid() {
				if n == 0 {
					b.openArr("resolved_ip")
				}
				b.sep()
				b.buf = append(b.buf, '"')
				b.buf = m.Answers[i].Addr.AppendTo(b.buf)
				b.buf = append(b.buf, '"')
				n++
			}
		}
		if n > 0 {
			b.closeArr()
		}
	}
	b.close()
}

func tlsFields(b *builder, o *classify.Observation) {
	h := o.Hello
	b.open("tls")
	if v := maxVersion(h.SupportedVersions, h.Version); v != "" {
		b.str("version", v)
		b.str("version_protocol", "tls")
	}
	b.open("client")
	b.strOpt("server_name", h.ServerName)
	if len(h.ALPN) > 0 {
		b.openArr("alpn")
		for _, a := range h.ALPN {
			b.elemStr(a)
		}
		b.closeArr()
	}
	if h.JA4 != "" {
		b.str("ja4", h.JA4)
	}
	b.close()
	if len(h.ALPN) > 0 {
		b.str("next_protocol", h.ALPN[0])
	}
	b.close()
	if o.App == classify.AppQUIC {
		b.open("quic")
		b.key("version")
		if v := o.QUICVersion; classify.GoogleQUIC(v) { // "Q046", as gQUIC names its versions
			b.buf = append(b.buf, '"', byte(v>>24), byte(v>>16), byte(v>>8), byte(v), '"')
		} else {
			b.buf = append(b.buf, '"', '0', 'x')
			b.buf = appendHex32(b.buf, v)
			b.buf = append(b.buf, '"')
		}
		b.close()
	}
}

func maxVersion(supported []uint16, legacy uint16) string {
	best := legacy
	for _, v := range supported {
		if v&0x0f0f == 0x0a0a { // GREASE
			continue
		}
		if v > best && v <= 0x0304 {
			best = v
		}
	}
	switch best {
	case 0x0304:
		return "1.3"
	case 0x0303:
		return "1.2"
	case 0x0302:
		return "1.1"
	case 0x0301:
		return "1.0"
	}
	return ""
}

func appendHex32(dst []byte, v uint32) []byte {
	for i := 28; i >= 0; i -= 4 {
		dst = append(dst, hexDigits[(v>>uint(i))&0xf])
	}
	return dst
}

// appendMAC writes a MAC the way ECS asks: upper-case hex pairs joined by
// hyphens, as a JSON string.
func appendMAC(dst []byte, m [6]byte) []byte {
	return appendHexPairs(dst, m[:], '-', "0123456789ABCDEF")
}

// appendHexPairs writes v as a JSON string of hex pairs in digits (lower
// or upper case) joined by sep.
func appendHexPairs(dst, v []byte, sep byte, digits string) []byte {
	dst = append(dst, '"')
	for i, c := range v {
		if i > 0 {
			dst = append(dst, sep)
		}
		dst = append(dst, digits[c>>4], digits[c&0xf])
	}
	return append(dst, '"')
}

// placementObj writes egresswatch.placement: where each placement fact
// came from, and whether the address could be placed at all.
func placementObj(b *builder, p *geo.Placement) {
	b.open("placement")
	b.strOpt("source", p.CountrySource)
	b.strOpt("geoip_country_iso_code", p.GeoIPCountry)
	b.strOpt("geoip_source", p.GeoIPSource)
	b.strOpt("as_source", p.ASSource)
	b.strOpt("cloud_source", p.Cloud.Source)
	b.strOpt("cloud_country_iso_code", p.Cloud.Country)
	b.bool("indeterminate", p.Indeterminate)
	if p.Internal {
		b.bool("internal", true)
	}
	b.strOpt("reason", p.Reason)
	b.close()
}

// AppendPlacement appends one JSON line that places addr, with the field
// names events use: destination.ip, destination.geo, destination.as,
// cloud.*, egresswatch.placement.* (egresswatch lookup --json).
func AppendPlacement(dst []byte, addr netip.Addr, p *geo.Placement) []byte {
	b := builder{buf: dst[:0]}
	b.begin()
	b.open("destination")
	b.key("ip")
	b.buf = append(b.buf, '"')
	b.buf = addr.AppendTo(b.buf)
	b.buf = append(b.buf, '"')
	placeFields(&b, p)
	b.close()
	cloud(&b, p)
	b.open("egresswatch")
	placementObj(&b, p)
	b.close()
	return b.end()
}
