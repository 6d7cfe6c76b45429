package quic

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
)

// recordingConn is a net.PacketConn that keeps a copy of every datagram it sends.
type recordingConn struct {
	net.PacketConn
	mu   sync.Mutex
	sent *[]udpDatagram
	lock *sync.Mutex
}

func (r *recordingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	dst := addr.(*net.UDPAddr).AddrPort()
	src := r.LocalAddr().(*net.UDPAddr).AddrPort()
	r.lock.Lock()
	*r.sent = append(*r.sent, udpDatagram{frame: len(*r.sent) + 1, src: src, dst: dst, payload: bytes.Clone(b)})
	r.lock.Unlock()
	return r.PacketConn.WriteTo(b, addr)
}

func selfSigned(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(1<<33, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestQuicGoHandshake runs real quic-go handshakes on 127.0.0.1, records both sides'
// datagrams and checks that exactly the client's ClientHello is recovered, per attempt.
func TestQuicGoHandshake(t *testing.T) {
	t.Setenv("QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING", "true")
	const sni = "egresswatch.quic-go.test"
	cert := selfSigned(t, sni)
	for _, tt := range []struct {
		name    string
		version quicgo.Version
		retry   bool
	}{
		{"v1", quicgo.Version1, false},
		{"v2", quicgo.Version2, false},
		// Go's ClientHello (with an ML-KEM key share) spans several datagrams. The server
		// answers the first with a Retry; depending on timing the first attempt completes
		// or not, and the second attempt completes under keys from the new DCID.
		{"v1 with Retry", quicgo.Version1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				sent []udpDatagram
			)
			listen := func() *recordingConn {
				pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
				if err != nil {
					t.Skipf("no UDP on loopback: %v", err)
				}
				t.Cleanup(func() { pc.Close() })
				return &recordingConn{PacketConn: pc, sent: &sent, lock: &mu}
			}
			srvConn, cliConn := listen(), listen()
			srvTr := &quicgo.Transport{Conn: srvConn}
			if tt.retry {
				srvTr.VerifySourceAddress = func(net.Addr) bool { return true }
			}
			cliTr := &quicgo.Transport{Conn: cliConn}
			t.Cleanup(func() { cliTr.Close(); srvTr.Close() })
			conf := &quicgo.Config{Versions: []quicgo.Version{tt.version}}
			ln, err := srvTr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"ew"}}, conf)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			accepted := make(chan error, 1)
			go func() {
				c, err := ln.Accept(ctx)
				if err == nil {
					<-c.HandshakeComplete()
					c.CloseWithError(0, "")
				}
				accepted <- err
			}()
			c, err := cliTr.Dial(ctx, srvConn.LocalAddr(), &tls.Config{
				ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"ew"}}, conf)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if err := <-accepted; err != nil {
				t.Fatalf("accept: %v", err)
			}
			c.CloseWithError(0, "")

			mu.Lock()
			dgs := append([]udpDatagram(nil), sent...)
			mu.Unlock()
			hellos, errs := collectHellos(t, dgs)
			t.Logf("%d datagrams, %d ClientHellos, feed errors %v", len(dgs), len(hellos), errs)
			firstDCID, _ := InitialDCID(dgs[0].payload)
			switch {
			case !tt.retry && len(hellos) != 1, tt.retry && len(hellos) != 1 && len(hellos) != 2:
				t.Fatalf("got %d ClientHellos", len(hellos))
			case len(hellos) == 2 && !bytes.Equal(hellos[0].dcid, firstDCID):
				t.Errorf("first attempt's DCID = %x; want %x", hellos[0].dcid, firstDCID)
			}
			last := hellos[len(hellos)-1]
			if gotRetry := !bytes.Equal(last.dcid, firstDCID); gotRetry != tt.retry {
				t.Errorf("last ClientHello DCID %x, first DCID %x: new attempt = %v; want %v",
					last.dcid, firstDCID, gotRetry, tt.retry)
			}
			client := cliConn.LocalAddr().(*net.UDPAddr).AddrPort()
			for _, h := range hellos {
				if got := testSNI(h.raw); got != sni {
					t.Errorf("SNI = %q; want %q", got, sni)
				}
				if !strings.Contains(h.key, ": "+client.Addr().String()+" ") {
					t.Errorf("ClientHello from the wrong side: %s", h.key)
				}
			}
		})
	}
}
