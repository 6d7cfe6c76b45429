package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// TestRetransmissionsCountOnce replays captures of the shared corpus with
// every TCP segment that carries data, and every UDP datagram that is not
// DNS (QUIC Initials), sent twice, as a retransmission would: the HTTP
// requests, ClientHellos, DNS-over-TCP messages and QUIC attempts found
// must still be exactly tshark's.
func TestRetransmissionsCountOnce(t *testing.T) {
	corpusFiles(t)
	for _, name := range []string{
		"ndpi-1kxun.pcap",        // 133 HTTP requests, TLS, DNS
		"zeek-http-methods.pcap", // odd request lines
		"ndpi-netflix.pcap",      // HTTP and TLS
		"arkime-dns-tcp.pcap",    // DNS over TCP
		"zeek-dns-edns-ecs.pcap", // DNS over TCP, split messages
		"arkime-tls-split-client-hello.pcap",
		"zeek-quic-multiple-initial-fragmented-crypto.pcap",
		"ndpi-quic_frags_ch_out_of_order.pcapng",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(corpusDir, name)
			frames, dups := doubledFrames(t, path)
			var buf bytes.Buffer
			if _, err := Run(context.Background(), &sliceSource{frames: frames}, Config{Events: &buf}); err != nil {
				t.Fatal(err)
			}
			got := map[string]multiset{"http": {}, "tls": {}, "quic": {}, "dns": {}}
			for _, e := range decodeEvents(t, buf.Bytes()) {
				switch str(e, "event.dataset") {
				case "egresswatch.http":
					got["http"][httpHost(e)]++
				case "egresswatch.tls":
					if n := str(e, "tls.client.server_name"); n != "" {
						got["tls"][n]++
					}
				case "egresswatch.quic":
					if n := str(e, "tls.client.server_name"); n != "" {
						port, _ := field(e, "destination.port").(float64)
						got["quic"][quicAttempt(str(e, "source.ip"), str(e, "destination.ip"), fmt.Sprint(port), n)] = 1
					}
				case "egresswatch.dns":
					if n := str(e, "dns.question.name"); n != "" && str(e, "network.transport") == "tcp" {
						got["dns"][tsharkName(n)]++
					}
				}
			}
			want := map[string]multiset{
				"http": truthHTTPHosts(readTruth(t, name+".http_host.tsv")),
				"tls":  truthSNIs(readTruth(t, name+".tls_sni.tsv")),
				"quic": truthQUIC(readTruth(t, name+".quic_sni.tsv")),
				"dns":  tcpDNSNames(t, path, readTruth(t, name+".dns.tsv")),
			}
			for _, what := range []string{"http", "tls", "quic", "dns"} {
				if m, x := diff(want[what], got[what]); len(m)+len(x) > 0 {
					t.Errorf("%s with %d segments sent twice: missing %v extra %v", what, dups, trunc(m), trunc(x))
				}
			}
		})
	}
}

// doubledFrames reads a capture and returns its frames with every TCP
// segment carrying data, and every non-DNS UDP datagram, repeated right
// after itself (with the same frame number).
func doubledFrames(t *testing.T, path string) (frames []capture.Frame, dups int) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := classify.NewDecoder(classify.Options{})
	var p classify.Packet
	for {
		fr, err := src.Next()
		if errors.Is(err, io.EOF) {
			return frames, dups
		}
		if err != nil {
			t.Fatal(err)
		}
		fr.Data = bytes.Clone(fr.Data)
		frames = append(frames, fr)
		if dec.Decode(fr, &p) != classify.ResultL4 || len(p.Payload) == 0 {
			continue
		}
		if p.Key.Proto == flow.UDP && (p.Key.Src.Port() == 53 || p.Key.Dst.Port() == 53) {
			continue
		}
		frames = append(frames, fr)
		dups++
	}
}

// tcpDNSNames keeps the truth's DNS names of the messages that travel over
// TCP: frames whose packet the decoder finds to be TCP.
func tcpDNSNames(t *testing.T, path string, rows [][]string) multiset {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tcp := map[string]bool{}
	dec := classify.NewDecoder(classify.Options{})
	var p classify.Packet
	for {
		fr, err := src.Next()
		if err != nil {
			break
		}
		if dec.Decode(fr, &p) == classify.ResultL4 && p.Key.Proto == flow.TCP {
			tcp[fmt.Sprint(fr.Seq)] = true
		}
	}
	var kept [][]string
	for _, r := range rows {
		if tcp[r[0]] {
			kept = append(kept, r)
		}
	}
	return truthDNSNames(kept)
}
