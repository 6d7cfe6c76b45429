package main

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// The ClientHellos are real ones, recorded once from Go's crypto/tls (go run ./bench/gen
// -record bench/gen/hellos) and embedded, so that the workload does not change with the Go
// version or the CPU (crypto/tls orders its cipher suites by AES hardware support). Every
// use rewrites the server name and overwrites the fields that are random on the wire (client
// random, session ID, key shares) from the generator's seeded source.

//go:embed hellos/*.bin
var helloFS embed.FS

// helloTemplate is one recorded ClientHello handshake message (type 1, 3-byte length, body):
// no record header.
type helloTemplate struct {
	name string
	msg  []byte
	quic bool
}

// placeholderSNI is the server name the templates are recorded with.
const placeholderSNI = "placeholder.example"

// recordSpecs are the ClientHellos recorded: browsers and libraries today offer the
// post-quantum X25519MLKEM768 key share (a 1.7 KB hello, split over two TCP segments by
// itself), older stacks do not.
var recordSpecs = []struct {
	name   string
	quic   bool
	curves []tls.CurveID
	maxVer uint16
	alpn   []string
}{
	{"tcp-pq", false, nil, 0, []string{"h2", "http/1.1"}},
	{"tcp-classic", false, []tls.CurveID{tls.X25519, tls.CurveP256}, 0, []string{"h2", "http/1.1"}},
	{"tcp-tls12", false, []tls.CurveID{tls.X25519, tls.CurveP256}, tls.VersionTLS12, []string{"http/1.1"}},
	{"quic-pq", true, nil, 0, []string{"h3"}},
	{"quic-classic", true, []tls.CurveID{tls.X25519}, 0, []string{"h3"}},
}

// recordHellos writes one file per spec into dir.
func recordHellos(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	for _, s := range recordSpecs {
		cfg := &tls.Config{ServerName: placeholderSNI, NextProtos: s.alpn, CurvePreferences: s.curves, MaxVersion: s.maxVer}
		var msg []byte
		var err error
		if s.quic {
			msg, err = recordQUIC(cfg)
		} else {
			msg, err = recordTCP(cfg)
		}
		if err != nil {
			return fmt.Errorf("record %s: %w", s.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.name+".bin"), msg, 0o644); err != nil {
			return fmt.Errorf("record: %w", err)
		}
	}
	return nil
}

// captureConn is a net.Conn that keeps what is written and reads EOF.
type captureConn struct{ out []byte }

func (c *captureConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c *captureConn) Write(b []byte) (int, error)      { c.out = append(c.out, b...); return len(b), nil }
func (c *captureConn) Close() error                     { return nil }
func (c *captureConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *captureConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *captureConn) SetDeadline(time.Time) error      { return nil }
func (c *captureConn) SetReadDeadline(time.Time) error  { return nil }
func (c *captureConn) SetWriteDeadline(time.Time) error { return nil }

func recordTCP(cfg *tls.Config) ([]byte, error) {
	c := &captureConn{}
	_ = tls.Client(c, cfg).Handshake() // fails at the first read, after the ClientHello
	if len(c.out) < 9 || c.out[0] != 22 {
		return nil, errors.New("no handshake record written")
	}
	n := int(c.out[3])<<8 | int(c.out[4])
	if len(c.out) < 5+n {
		return nil, errors.New("short record")
	}
	return append([]byte(nil), c.out[5:5+n]...), nil
}

func recordQUIC(cfg *tls.Config) ([]byte, error) {
	cfg.MinVersion = tls.VersionTLS13
	q := tls.QUICClient(&tls.QUICConfig{TLSConfig: cfg})
	q.SetTransportParameters(quicTransportParams())
	if err := q.Start(context.Background()); err != nil {
		return nil, err
	}
	defer q.Close()
	var msg []byte
	for {
		ev := q.NextEvent()
		if ev.Kind == tls.QUICNoEvent {
			break
		}
		if ev.Kind == tls.QUICWriteData && ev.Level == tls.QUICEncryptionLevelInitial {
			msg = append(msg, ev.Data...)
		}
	}
	if len(msg) < 4 || msg[0] != 1 {
		return nil, errors.New("no ClientHello")
	}
	return msg, nil
}

// quicTransportParams are the transport parameters of a typical client (RFC 9000 Section 18).
func quicTransportParams() []byte {
	var b []byte
	put := func(id uint64, v uint64) {
		val := appendVarint(nil, v)
		b = appendVarint(b, id)
		b = appendVarint(b, uint64(len(val)))
		b = append(b, val...)
	}
	put(0x01, 30000)          // max_idle_timeout
	put(0x03, 1472)           // max_udp_payload_size
	put(0x04, 15728640)       // initial_max_data
	put(0x05, 6291456)        // initial_max_stream_data_bidi_local
	put(0x06, 6291456)        // initial_max_stream_data_bidi_remote
	put(0x07, 6291456)        // initial_max_stream_data_uni
	put(0x08, 100)            // initial_max_streams_bidi
	put(0x09, 103)            // initial_max_streams_uni
	b = appendVarint(b, 0x0f) // initial_source_connection_id (8 bytes)
	b = appendVarint(b, 8)
	b = append(b, 0x5a, 0x17, 0x3c, 0x9e, 0x01, 0x44, 0xd2, 0x6b)
	return b
}

func loadHellos() ([]helloTemplate, error) {
	var ts []helloTemplate
	for _, s := range recordSpecs {
		msg, err := helloFS.ReadFile("hellos/" + s.name + ".bin")
		if err != nil {
			return nil, fmt.Errorf("hello template %s: %w", s.name, err)
		}
		ts = append(ts, helloTemplate{name: s.name, msg: msg, quic: s.quic})
	}
	return ts, nil
}

// helloWith returns a copy of the ClientHello message tmpl with its server_name set to sni and
// its random fields (random, session ID, key share keys) taken from fill. The lengths of the
// handshake message, the extension block and the server_name extension are rewritten.
func helloWith(dst, tmpl []byte, sni string, fill func([]byte)) ([]byte, error) {
	s := cryptobyte.String(tmpl)
	var typ uint8
	var body cryptobyte.String
	if !s.ReadUint8(&typ) || typ != 1 || !s.ReadUint24LengthPrefixed(&body) {
		return nil, errors.New("not a ClientHello")
	}
	bodyStart := 4
	var sessID, suites, comp cryptobyte.String
	if !body.Skip(2+32) || !body.ReadUint8LengthPrefixed(&sessID) ||
		!body.ReadUint16LengthPrefixed(&suites) || !body.ReadUint8LengthPrefixed(&comp) {
		return nil, errors.New("ClientHello: bad header")
	}
	extLenAt := len(tmpl) - len(body) // offset of the extensions' 2-byte length
	var exts cryptobyte.String
	if !body.ReadUint16LengthPrefixed(&exts) {
		return nil, errors.New("ClientHello: bad extensions")
	}
	// Locate server_name and key_share by offset.
	sniStart, sniEnd := -1, -1
	type span struct{ at, n int }
	var keys []span
	for len(exts) > 0 {
		at := len(tmpl) - len(exts)
		var et uint16
		var ed cryptobyte.String
		if !exts.ReadUint16(&et) || !exts.ReadUint16LengthPrefixed(&ed) {
			return nil, errors.New("ClientHello: bad extension")
		}
		switch et {
		case 0:
			sniStart, sniEnd = at, len(tmpl)-len(exts)
		case 51: // key_share: list of (group, key)
			var list cryptobyte.String
			if !ed.ReadUint16LengthPrefixed(&list) {
				return nil, errors.New("ClientHello: bad key_share")
			}
			for len(list) > 0 {
				var k cryptobyte.String
				if !list.Skip(2) || !list.ReadUint16LengthPrefixed(&k) {
					return nil, errors.New("ClientHello: bad key_share entry")
				}
				keys = append(keys, span{len(tmpl) - len(list) - len(k), len(k)})
			}
		}
	}
	if sniStart < 0 {
		return nil, errors.New("ClientHello: no server_name")
	}
	out := append(dst[:0], tmpl[:sniStart]...)
	n := len(sni)
	out = append(out, 0, 0, byte((n+5)>>8), byte(n+5), byte((n+3)>>8), byte(n+3), 0, byte(n>>8), byte(n))
	out = append(out, sni...)
	out = append(out, tmpl[sniEnd:]...)
	delta := (n + 9) - (sniEnd - sniStart)
	fix16 := func(at, d int) {
		v := int(out[at])<<8 | int(out[at+1]) + d
		out[at], out[at+1] = byte(v>>8), byte(v)
	}
	fix16(extLenAt, delta)
	hl := len(out) - 4
	out[1], out[2], out[3] = byte(hl>>16), byte(hl>>8), byte(hl)
	fill(out[bodyStart+2 : bodyStart+2+32]) // random
	sid := bodyStart + 2 + 32 + 1
	fill(out[sid : sid+int(tmpl[sid-1])])
	for _, k := range keys {
		at := k.at
		if at > sniStart {
			at += delta
		}
		fill(out[at : at+k.n])
	}
	return out, nil
}
