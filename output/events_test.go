package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/classify/tlshello"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/track"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)

// checkDupKeys walks a JSON document with a token decoder and fails on any
// object that repeats a key, at any depth.
func checkDupKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dupValue(dec, "$"); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after the object")
	}
	return nil
}

func dupValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k := kt.(string)
			if seen[k] {
				return fmt.Errorf("duplicate key %s.%s", path, k)
			}
			seen[k] = true
			if err := dupValue(dec, path+"."+k); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := dupValue(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // closing delimiter
	return err
}

func TestCheckDupKeys(t *testing.T) {
	cases := []struct {
		doc string
		dup bool
	}{
		{`{"a":1,"b":{"a":2}}`, false},
		{`{"a":1,"a":2}`, true},
		{`{"a":{"b":1,"c":[{"d":1,"d":2}]}}`, true},
		{`{"a":[{"d":1},{"d":2}]}`, false},
	}
	for _, c := range cases {
		if err := checkDupKeys([]byte(c.doc)); (err != nil) != c.dup {
			t.Errorf("%s: err=%v, want dup=%v", c.doc, err, c.dup)
		}
	}
}

// get walks a decoded event by a dotted path; "x[]" collects field values
// from every element of array x.
func get(v any, path string) (any, bool) {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		arr := strings.HasSuffix(p, "[]")
		p = strings.TrimSuffix(p, "[]")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
		if arr {
			a, ok := v.([]any)
			if !ok {
				return nil, false
			}
			rest := strings.Join(parts[i+1:], ".")
			var out []any
			for _, e := range a {
				x, ok := get(e, rest)
				if !ok {
					return nil, false
				}
				out = append(out, x)
			}
			return out, true
		}
	}
	return v, true
}

func testFlow(proto flow.Proto, src, dst string) *track.FlowMeta {
	return &track.FlowMeta{
		Key:      flow.Key{Proto: proto, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst)},
		First:    t0,
		Last:     t0.Add(1500 * time.Millisecond),
		FirstSeq: 3,
		Path:     "cap.pcap",
		Packets:  [2]uint64{5, 4},
		Bytes:    [2]uint64{700, 3000},
		Device:   flow.Device{MAC: [6]byte{0x02, 0xab, 0xcd, 0xef, 0x0a, 0x1b}, HasMAC: true},
	}
}

func testPacket(f *track.FlowMeta) *classify.Packet {
	return &classify.Packet{Time: t0.Add(time.Second), Seq: 42, Path: f.Path, Key: f.Key, WireLen: 100}
}

func testPlace() *geo.Placement {
	return &geo.Placement{
		Country: "IE", CountrySource: "aws", GeoIPCountry: "US", RegisteredCountry: "US",
		GeoIPSource: "GeoLite2-Country", ASN: 16509, ASOrg: "AMAZON-02", ASSource: "asn.csv",
		Cloud:         geo.Cloud{Provider: "aws", Region: "eu-west-1", Service: "EC2", Country: "IE", Source: "ip-ranges.json"},
		Indeterminate: true, Reason: "test \"reason\"",
	}
}

func writeOne(t *testing.T, fn func(w *Writer)) (map[string]any, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	fn(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.Count() != 1 {
		t.Fatalf("Count=%d, want 1", w.Count())
	}
	line := buf.Bytes()
	if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("not one line: %q", line)
	}
	if !json.Valid(line) {
		t.Fatalf("invalid JSON: %s", line)
	}
	if err := checkDupKeys(line); err != nil {
		t.Fatalf("%v in %s", err, line)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	return m, line
}

type want map[string]any // path -> value (float64 for numbers, []any for collected arrays)

// normalize passes v through JSON so that numbers compare as float64.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func checkFields(t *testing.T, m map[string]any, line []byte, w want, absent []string) {
	t.Helper()
	for path, wv := range w {
		got, ok := get(m, path)
		if !ok {
			t.Errorf("missing %s in %s", path, line)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(normalize(wv)) {
			t.Errorf("%s = %v, want %v", path, got, wv)
		}
	}
	for _, path := range absent {
		if v, ok := get(m, path); ok {
			t.Errorf("%s present (%v), want absent", path, v)
		}
	}
}

func TestObservationEvents(t *testing.T) {
	tcp := func() *track.FlowMeta { return testFlow(flow.TCP, "10.0.0.1:50000", "52.1.2.3:443") }
	udp := func() *track.FlowMeta { return testFlow(flow.UDP, "10.0.0.1:40000", "8.8.8.8:53") }
	common := want{
		"@timestamp":     "2024-03-01T12:00:01.123456789Z",
		"event.kind":     "event",
		"event.sequence": 42,
		"log.file.path":  "cap.pcap",
		"source.ip":      "10.0.0.1",
		"source.mac":     "02-AB-CD-EF-0A-1B",
		"network.type":   "ipv4",
	}
	cases := []struct {
		name   string
		flow   func() *track.FlowMeta
		obs    func(p *classify.Packet) *classify.Observation
		place  *geo.Placement
		want   want
		absent []string
	}{
		{
			name: "dns answer",
			flow: udp,
			obs: func(p *classify.Packet) *classify.Observation {
				return &classify.Observation{App: classify.AppDNS, Packet: p, DNS: &classify.DNSMessage{
					ID: 0x1234, Response: true, QName: "www.example.com", QType: 1,
					Answers: []classify.DNSRecord{
						{Name: "www.example.com", Type: 5, TTL: 300, Data: "example.edgekey.net"},
						{Name: "example.edgekey.net", Type: 1, TTL: 20, Data: "93.184.216.34", Addr: netip.MustParseAddr("93.184.216.34")},
						{Name: "example.edgekey.net", Type: 1, TTL: 20, Data: "93.184.216.35", Addr: netip.MustParseAddr("93.184.216.35")},
					},
				}}
			},
			want: want{
				"event.dataset":      DatasetDNS,
				"source.port":        40000,
				"destination.ip":     "8.8.8.8",
				"destination.port":   53,
				"network.transport":  "udp",
				"network.protocol":   "dns",
				"dns.type":           "answer",
				"dns.id":             0x1234,
				"dns.question.name":  "www.example.com",
				"dns.question.type":  "A",
				"dns.response_code":  "NOERROR",
				"dns.answers[].data": []any{"example.edgekey.net", "93.184.216.34", "93.184.216.35"},
				"dns.answers[].type": []any{"CNAME", "A", "A"},
				"dns.answers[].ttl":  []any{300, 20, 20},
				"dns.resolved_ip":    []any{"93.184.216.34", "93.184.216.35"},
			},
			absent: []string{"tls", "url", "http", "cloud", "destination.geo", "egresswatch.placement", "dns.header_flags", "source.bytes", "event.start"},
		},
		{
			name: "dns query truncated",
			flow: udp,
			obs: func(p *classify.Packet) *classify.Observation {
				return &classify.Observation{App: classify.AppDNS, Packet: p, DNS: &classify.DNSMessage{
					ID: 7, QName: "weird\"name\\.example", QType: 65, Truncated: true, ECH: true,
				}}
			},
			want: want{
				"dns.type":               "query",
				"dns.question.name":      "weird\"name\\.example",
				"dns.question.type":      "HTTPS",
				"dns.header_flags":       []any{"TC"},
				"egresswatch.ech_config": true,
			},
			absent: []string{"dns.answers", "dns.resolved_ip", "dns.response_code"},
		},
		{
			name: "tls with alpn and placement",
			flow: func() *track.FlowMeta {
				f := tcp()
				f.Name, f.NameSource = "api.example.com", flow.NameSNI
				f.Device.VLAN, f.Device.NVLAN = [2]uint16{100, 200}, 2
				return f
			},
			obs: func(p *classify.Packet) *classify.Observation {
				return &classify.Observation{App: classify.AppTLS, Packet: p, Hello: &tlshello.ClientHello{
					Version: 0x0303, SupportedVersions: []uint16{0x0a0a, 0x0304, 0x0303},
					ServerName: "api.example.com", ALPN: []string{"h2", "http/1.1"},
					JA4: "t13d1516h2_8daaf6152771_02713d6af862", ECH: true,
				}}
			},
			place: testPlace(),
			want: want{
				"event.dataset":                                DatasetTLS,
				"destination.ip":                               "52.1.2.3",
				"destination.port":                             443,
				"destination.domain":                           "api.example.com",
				"network.transport":                            "tcp",
				"network.protocol":                             "tls",
				"network.vlan.id":                              100,
				"network.inner.vlan.id":                        200,
				"tls.version":                                  "1.3",
				"tls.version_protocol":                         "tls",
				"tls.client.server_name":                       "api.example.com",
				"tls.client.alpn":                              []any{"h2", "http/1.1"},
				"tls.client.ja4":                               "t13d1516h2_8daaf6152771_02713d6af862",
				"tls.next_protocol":                            "h2",
				"destination.geo.country_iso_code":             "IE",
				"destination.geo.registered_country_iso_code":  "US",
				"destination.as.number":                        16509,
				"destination.as.organization.name":             "AMAZON-02",
				"cloud.provider":                               "aws",
				"cloud.region":                                 "eu-west-1",
				"cloud.service.name":                           "EC2",
				"egresswatch.placement.indeterminate":          true,
				"egresswatch.placement.reason":                 "test \"reason\"",
				"egresswatch.placement.source":                 "aws",
				"egresswatch.placement.geoip_country_iso_code": "US",
				"egresswatch.name_source":                      "sni",
				"egresswatch.ech":                              true,
			},
			absent: []string{"quic", "dns"},
		},
		{
			name: "http",
			flow: func() *track.FlowMeta {
				f := testFlow(flow.TCP, "10.0.0.1:50001", "203.0.113.9:8080")
				f.Name, f.NameSource = "www.example.org", flow.NameHTTP
				f.Device.VLAN, f.Device.NVLAN = [2]uint16{42, 0}, 1
				return f
			},
			obs: func(p *classify.Packet) *classify.Observation {
				return &classify.Observation{App: classify.AppHTTP, Packet: p, HTTP: classify.HTTPRequest{
					Method: "GET", Host: "www.example.org", Port: 8080, Target: "/a?b=\"c\"",
				}}
			},
			want: want{
				"event.dataset":           DatasetHTTP,
				"url.domain":              "www.example.org",
				"url.port":                8080,
				"url.original":            "/a?b=\"c\"",
				"http.request.method":     "GET",
				"network.protocol":        "http",
				"network.vlan.id":         42,
				"egresswatch.name_source": "http",
			},
			absent: []string{"network.inner", "tls", "egresswatch.placement", "cloud"},
		},
		{
			name: "quic ipv6",
			flow: func() *track.FlowMeta {
				f := testFlow(flow.UDP, "[2001:db8::1]:55555", "[2606:4700::1111]:443")
				f.Device.HasMAC = false
				return f
			},
			obs: func(p *classify.Packet) *classify.Observation {
				return &classify.Observation{App: classify.AppQUIC, Packet: p, QUICVersion: 1, Hello: &tlshello.ClientHello{
					Version: 0x0303, SupportedVersions: []uint16{0x0304}, ServerName: "cloudflare.com", ALPN: []string{"h3"}, QUIC: true,
				}}
			},
			want: want{
				"event.dataset":          DatasetQUIC,
				"source.ip":              "2001:db8::1",
				"destination.ip":         "2606:4700::1111",
				"network.type":           "ipv6",
				"network.transport":      "udp",
				"network.protocol":       "quic",
				"tls.client.server_name": "cloudflare.com",
				"quic.version":           "0x00000001",
			},
			absent: []string{"source.mac", "network.vlan"},
		},
		{
			name: "google quic",
			flow: func() *track.FlowMeta { return testFlow(flow.UDP, "10.0.0.1:50000", "216.58.210.238:443") },
			obs: func(p *classify.Packet) *classify.Observation {
				return &classify.Observation{App: classify.AppQUIC, Packet: p, QUICVersion: 'Q'<<24 | '0'<<16 | '4'<<8 | '6',
					Hello: &tlshello.ClientHello{ServerName: "www.youtube.com"}}
			},
			want: want{
				"event.dataset":          DatasetQUIC,
				"tls.client.server_name": "www.youtube.com",
				"quic.version":           "Q046",
			},
		},
		{
			name: "tls esni", // ndpi-encrypted_sni.pcap: no server_name, the draft ESNI extension
			flow: tcp,
			obs: func(p *classify.Packet) *classify.Observation {
				return &classify.Observation{App: classify.AppTLS, Packet: p, Hello: &tlshello.ClientHello{
					Version: 0x0303, SupportedVersions: []uint16{0x0304}, ESNI: true,
				}}
			},
			want: want{
				"event.dataset":        DatasetTLS,
				"egresswatch.ech":      true,
				"egresswatch.ech_kind": "esni",
			},
			absent: []string{"tls.client.server_name"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.flow()
			o := c.obs(testPacket(f))
			m, line := writeOne(t, func(w *Writer) { w.Observation(o, f, c.place) })
			w := want{}
			for k, v := range common {
				w[k] = v
			}
			for k, v := range c.want {
				w[k] = v
			}
			if !f.Device.HasMAC {
				delete(w, "source.mac")
			}
			checkFields(t, m, line, w, c.absent)
			cid, _ := get(m, "network.community_id")
			if s, _ := cid.(string); s != flow.CommunityID(f.Key, 0) || !strings.HasPrefix(s, "1:") {
				t.Errorf("network.community_id = %v, want %s", cid, flow.CommunityID(f.Key, 0))
			}
		})
	}
}

func TestObservationUnknownAppWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	f := testFlow(flow.TCP, "10.0.0.1:1", "10.0.0.2:2")
	w.Observation(&classify.Observation{App: classify.App(0), Packet: testPacket(f)}, f, nil)
	if err := w.Flush(); err != nil || buf.Len() != 0 || w.Count() != 0 {
		t.Errorf("err=%v len=%d count=%d, want nothing", err, buf.Len(), w.Count())
	}
}

func TestFlowEvent(t *testing.T) {
	cases := []struct {
		name   string
		flow   func() *track.FlowMeta
		place  *geo.Placement
		want   want
		absent []string
	}{
		{
			name: "tcp with placement",
			flow: func() *track.FlowMeta {
				f := testFlow(flow.TCP, "10.0.0.1:50000", "52.1.2.3:443")
				f.Name, f.NameSource = "api.example.com", flow.NameDNS
				return f
			},
			place: testPlace(),
			want: want{
				"@timestamp":                          "2024-03-01T12:00:00.123456789Z",
				"event.kind":                          "event",
				"event.dataset":                       DatasetFlow,
				"event.sequence":                      3,
				"event.start":                         "2024-03-01T12:00:00.123456789Z",
				"event.end":                           "2024-03-01T12:00:01.623456789Z",
				"event.duration":                      1500000000,
				"source.bytes":                        700,
				"source.packets":                      5,
				"destination.bytes":                   3000,
				"destination.packets":                 4,
				"network.bytes":                       3700,
				"network.packets":                     9,
				"destination.domain":                  "api.example.com",
				"destination.as.number":               16509,
				"cloud.region":                        "eu-west-1",
				"egresswatch.name_source":             "dns",
				"egresswatch.placement.indeterminate": true,
			},
			absent: []string{"network.protocol", "tls", "dns"},
		},
		{
			name: "unnamed udp with tunnel, no placement",
			flow: func() *track.FlowMeta {
				f := testFlow(flow.UDP, "10.0.0.1:40000", "10.0.0.2:40001")
				f.Path = ""
				f.Tunnel = classify.Tunnel{Kind: classify.TunnelVXLAN, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), ID: 5001, HasID: true}
				return f
			},
			want: want{
				"event.duration":                    1500000000,
				"network.bytes":                     3700,
				"egresswatch.tunnel.type":           "vxlan",
				"egresswatch.tunnel.source.ip":      "192.0.2.1",
				"egresswatch.tunnel.destination.ip": "192.0.2.2",
				"egresswatch.tunnel.id":             5001,
			},
			absent: []string{"log", "destination.domain", "destination.geo", "cloud", "egresswatch.placement", "egresswatch.name_source"},
		},
		{
			name:  "placement without geo or as",
			flow:  func() *track.FlowMeta { return testFlow(flow.TCP, "10.0.0.1:50000", "10.0.0.9:443") },
			place: &geo.Placement{Internal: true, Indeterminate: true, Reason: "rfc1918"},
			want: want{
				"egresswatch.placement.indeterminate": true,
				"egresswatch.placement.reason":        "rfc1918",
			},
			absent: []string{"destination.geo", "destination.as", "cloud"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.flow()
			m, line := writeOne(t, func(w *Writer) { w.Flow(f, c.place) })
			checkFields(t, m, line, c.want, c.absent)
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestWriterError(t *testing.T) {
	fw := &failWriter{}
	w := NewWriter(fw)
	f := testFlow(flow.TCP, "10.0.0.1:50000", "52.1.2.3:443")
	w.Flow(f, nil)
	err := w.Flush()
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush err = %v, want the write error", err)
	}
	if err2 := w.Flush(); err2 == nil {
		t.Error("second Flush forgot the error")
	}
}

func TestManyEventsAreLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	f := testFlow(flow.TCP, "10.0.0.1:50000", "52.1.2.3:443")
	o := tlsObs(testPacket(f))
	for range 1000 {
		w.Observation(o, f, testPlace())
		w.Flow(f, nil)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.Count() != 2000 {
		t.Errorf("Count=%d", w.Count())
	}
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("line %d invalid", n)
		}
		n++
	}
	if n != 2000 {
		t.Errorf("%d lines, want 2000", n)
	}
}

func tlsObs(p *classify.Packet) *classify.Observation {
	return &classify.Observation{App: classify.AppTLS, Packet: p, Hello: &tlshello.ClientHello{
		Version: 0x0303, SupportedVersions: []uint16{0x0304, 0x0303}, ServerName: "api.example.com",
		ALPN: []string{"h2", "http/1.1"}, JA4: "t13d1516h2_8daaf6152771_02713d6af862",
	}}
}

func TestObservationAllocs(t *testing.T) {
	f := testFlow(flow.TCP, "10.0.0.1:50000", "52.1.2.3:443")
	f.Name, f.NameSource = "api.example.com", flow.NameSNI
	f.Device.VLAN, f.Device.NVLAN = [2]uint16{100, 200}, 2
	o := tlsObs(testPacket(f))
	place := testPlace()
	w := NewWriter(io.Discard)
	w.Observation(o, f, place) // warm up the builder's buffer
	if n := testing.AllocsPerRun(1000, func() { w.Observation(o, f, place) }); n != 0 {
		t.Errorf("TLS Observation: %v allocs per event, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { w.Flow(f, place) }); n != 0 {
		t.Errorf("Flow: %v allocs per event, want 0", n)
	}
}

func BenchmarkObservation(b *testing.B) {
	f := testFlow(flow.TCP, "10.0.0.1:50000", "52.1.2.3:443")
	f.Name, f.NameSource = "api.example.com", flow.NameSNI
	o := tlsObs(testPacket(f))
	place := testPlace()
	w := NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		w.Observation(o, f, place)
	}
}
