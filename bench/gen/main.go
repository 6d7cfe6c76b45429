// Command gen writes the benchmark workload of egresswatch: a deterministic pcap of a
// realistic egress mix, or a flood that tests the memory bounds.
//
//	go run ./bench/gen -packets 1000000 -o out/bench/mix-1000000.pcap
//	go run ./bench/gen -flood flows -packets 10000000 -o - | egresswatch replay ... -
//
// The mix: 4000 clients (half on 802.1Q VLANs, a third dual-stack), 30000 IPv4 and 6000 IPv6
// servers behind 12000 names with a Zipf popularity; DNS lookups (A, AAAA, CNAME chains,
// NXDOMAIN) to internal and public resolvers before most connections; TLS over TCP with
// real Go ClientHellos (post-quantum ones span two segments, 12 % of the others are split
// on purpose into two or three), a ServerHello and encrypted flight, then bulk
// application_data records of 1000-1400 bytes a segment with ACKs; QUIC v1 with client
// Initials sealed as RFC 9001 says (the hello over one or two Initials), server long-header
// flights, then short-header bulk; a little plain HTTP. About 5 % of packets are DNS, half
// are VLAN-tagged and a tenth IPv6. The same flags and seed give the same bytes.
//
// Floods (-flood): flows (every packet a SYN of a new flow), dns (every packet an answer for
// a new random name), halfopen (handshake plus the first segment of a ClientHello that
// never completes, four packets a flow).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	packets := fs.Int64("packets", 1000000, "number of packets to write")
	out := fs.String("o", "", "output pcap FILE (- for stdout)")
	flood := fs.String("flood", "", "write a flood instead of the mix: flows, dns or halfopen")
	seed := fs.Uint64("seed", 1, "seed of the workload")
	record := fs.String("record", "", "record the ClientHello templates from crypto/tls into DIR and exit")
	quiet := fs.Bool("q", false, "print no summary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *record != "" {
		return recordHellos(*record)
	}
	if *out == "" {
		return errors.New("-o FILE is required")
	}
	hellos, err := loadHellos()
	if err != nil {
		return err
	}
	var w io.Writer = stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	pw, err := newPcapWriter(w)
	if err != nil {
		return err
	}
	wd := newWorld(*seed, hellos)
	const t0 = 1741683600 * 1e6 // 2025-03-11 09:00:00 UTC, in microseconds
	switch *flood {
	case "":
		err = wd.mix(pw, *packets, t0)
	case "flows":
		err = wd.floodFlows(pw, *packets, t0)
	case "dns":
		err = wd.floodDNS(pw, *packets, t0)
	case "halfopen":
		err = wd.floodHalfOpen(pw, *packets, t0)
	default:
		return fmt.Errorf("unknown -flood %q (flows, dns, halfopen)", *flood)
	}
	if err != nil {
		return err
	}
	if err := pw.flush(); err != nil {
		return err
	}
	if !*quiet {
		if *flood == "" {
			fmt.Fprintln(stderr, "gen:", wd.st.String())
		} else {
			fmt.Fprintf(stderr, "gen: flood %s: %d packets, %.1f MB\n", *flood, pw.n, float64(pw.bytes)/1e6)
		}
	}
	if *out != "-" {
		if f, ok := w.(*os.File); ok {
			if err := f.Close(); err != nil {
				return fmt.Errorf("close %s: %w", *out, err)
			}
		}
	}
	return nil
}
