//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"

	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/egresswatch/egresswatch/internal/netnstest"
	"github.com/egresswatch/egresswatch/internal/testcache"
)

// The lab: namespace "srv" holds the servers on s0 (10.77.0.1 and one
// address per name, 10.77.0.10 up), namespace "cli" the client on c0
// (10.77.0.2). egresswatch and tcpdump watch c0.
const (
	srvIP = "10.77.0.1"
	cliIP = "10.77.0.2"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	workDir   string
)

// binary builds egresswatch once per test run into a directory every user
// can read (the --user test runs it as nobody).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		workDir, buildErr = os.MkdirTemp("", "egresswatch-e2e")
		if buildErr != nil {
			return
		}
		os.Chmod(workDir, 0o755)
		binPath = filepath.Join(workDir, "egresswatch")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/egresswatch").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	testcache.Main(&cleanupM{m})
}

// cleanupM removes the shared work directory after the tests.
type cleanupM struct{ *testing.M }

func (c *cleanupM) Run() int {
	code := c.M.Run()
	if workDir != "" {
		os.RemoveAll(workDir)
	}
	return code
}

// openDir is a temporary directory every user can write, removed at cleanup.
func openDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "ew-e2e-run")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o777)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

type lab struct {
	srv, cli *netnstest.NS
	names    map[string]string // name -> address the DNS server answers
}

// names the DNS server knows; each gets its own server address so passive
// DNS names flows unambiguously.
var labNames = []string{"www.tiktok.com", "portal.gov.test", "api.example.test", "tcp.example.test", "plain.example.test", "dot.example.test"}

func newLab(t *testing.T) *lab {
	netnstest.Require(t, "tcpdump")
	l := &lab{srv: netnstest.New(t, "srv"), cli: netnstest.New(t, "cli"), names: map[string]string{}}
	netnstest.Veth(t, l.srv, "s0", srvIP+"/24", l.cli, "c0", cliIP+"/24")
	for i, n := range labNames {
		a := fmt.Sprintf("10.77.0.%d", 10+i)
		l.names[n] = a
		l.srv.MustRun(t, "ip", "addr", "add", a+"/32", "dev", "s0")
	}
	l.srv.NoOffload(t, "s0")
	l.cli.NoOffload(t, "c0")
	l.startServers(t)
	return l
}

func (l *lab) startServers(t *testing.T) {
	cert := selfSigned(t)
	var closers []io.Closer
	err := l.srv.Do(func() error {
		pc, err := net.ListenPacket("udp4", "0.0.0.0:53")
		if err != nil {
			return err
		}
		tl, err := net.Listen("tcp4", "0.0.0.0:53")
		if err != nil {
			return err
		}
		tlsLn, err := net.Listen("tcp4", "0.0.0.0:443")
		if err != nil {
			return err
		}
		httpLn, err := net.Listen("tcp4", "0.0.0.0:80")
		if err != nil {
			return err
		}
		closers = append(closers, pc, tl, tlsLn, httpLn)
		h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			for _, q := range r.Question {
				name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
				a, ok := l.names[name]
				if !ok {
					// x17.tiktok.com and the like
					if strings.HasSuffix(name, ".tiktok.com") {
						a, ok = l.names["www.tiktok.com"], true
					}
				}
				if ok && q.Qtype == dns.TypeA {
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.ParseIP(a)})
				} else if !ok {
					m.Rcode = dns.RcodeNameError
				}
			}
			w.WriteMsg(m)
		})
		go (&dns.Server{PacketConn: pc, Handler: h}).ActivateAndServe()
		go (&dns.Server{Listener: tl, Handler: h}).ActivateAndServe()
		mux := http.NewServeMux()
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello %s\n", r.Host) })
		quiet := log.New(io.Discard, "", 0) // the bare TCP flow to :443 is no handshake
		go (&http.Server{Handler: mux, ErrorLog: quiet}).Serve(tls.NewListener(tlsLn, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}))
		go (&http.Server{Handler: mux}).Serve(httpLn)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range closers {
			c.Close()
		}
	})
}

func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"*.test", "*.tiktok.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// client runs fn in the client namespace. Every socket it opens must be
// opened before it returns (net.Dial, dns.Client.Exchange do).
func (l *lab) client(t *testing.T, fn func() error) {
	t.Helper()
	if err := l.cli.Do(fn); err != nil {
		t.Fatal(err)
	}
}

func resolve(name, network string) (string, error) {
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := c.Exchange(m, srvIP+":53")
	if err != nil {
		return "", fmt.Errorf("resolve %s over %s: %w", name, network, err)
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String(), nil
		}
	}
	return "", fmt.Errorf("resolve %s: no answer (rcode %d)", name, r.Rcode)
}

// tlsGet makes a TLS 1.3 connection to addr with server name sni (Go's
// ClientHello offers X25519MLKEM768: a large hello, split over two
// segments) and fetches / over HTTP/1.1.
func tlsGet(addr, sni string) error {
	conn, err := net.DialTimeout("tcp4", addr+":443", 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{ServerName: sni, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, NextProtos: []string{"http/1.1"}})
	tc.SetDeadline(time.Now().Add(3 * time.Second))
	return httpOn(tc, sni)
}

func httpGet(addr, host string) error {
	conn, err := net.DialTimeout("tcp4", addr+":80", 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	return httpOn(conn, host)
}

func httpOn(conn net.Conn, host string) error {
	req, _ := http.NewRequest("GET", "http://"+host+"/index.html", nil)
	req.Close = true
	if err := req.Write(conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return fmt.Errorf("%s: %w", host, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), host) {
		return fmt.Errorf("%s: unexpected body %q", host, body)
	}
	return nil
}

// traffic is the standard client session: names resolved over UDP and
// TCP, TLS and plain HTTP to them, and a bare TCP flow named only by
// passive DNS.
func (l *lab) traffic(t *testing.T) {
	l.client(t, func() error {
		for _, n := range []string{"www.tiktok.com", "portal.gov.test", "api.example.test", "plain.example.test"} {
			if _, err := resolve(n, "udp"); err != nil {
				return err
			}
		}
		if _, err := resolve("tcp.example.test", "tcp"); err != nil {
			return err
		}
		if err := tlsGet(l.names["www.tiktok.com"], "www.tiktok.com"); err != nil {
			return err
		}
		if err := tlsGet(l.names["api.example.test"], "api.example.test"); err != nil {
			return err
		}
		if err := httpGet(l.names["portal.gov.test"], "portal.gov.test"); err != nil {
			return err
		}
		// Named by passive DNS only: no SNI, no Host.
		c, err := net.DialTimeout("tcp4", l.names["plain.example.test"]+":80", 2*time.Second)
		if err != nil {
			return err
		}
		c.Close()
		c, err = net.DialTimeout("tcp4", l.names["tcp.example.test"]+":443", 2*time.Second)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	})
}

// proc is a process started in a namespace, with its stderr kept.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func start(t *testing.T, ns *netnstest.NS, ready string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: ns.Command(name, args...), done: make(chan error, 1)}
	p.cmd.Stderr = p
	p.cmd.Stdout = p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.log(), ready) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become ready (%q):\n%s", name, ready, p.log())
		}
		select {
		case err := <-p.done:
			t.Fatalf("%s exited: %v\n%s", name, err, p.log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return p
}

// stop sends sig and waits for the exit.
func (p *proc) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("no exit 20 s after %v:\n%s", sig, p.log())
	}
	return nil
}

// lines reads a JSON lines file into objects, dropping the keys that
// differ between a live capture and a replay of the same packets: frame
// numbers, file names, and times (the kernel stamps each socket's copy).
func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ln := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if ln == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Fatalf("%s: %v: %s", path, err, ln)
		}
		strip(m)
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

var unstable = map[string]bool{"@timestamp": true, "sequence": true, "path": true, "start": true, "end": true,
	"duration": true, "first_seen": true, "last_seen": true, "created": true, "ingested": true}

func strip(m map[string]any) {
	for k, v := range m {
		if unstable[k] {
			delete(m, k)
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			strip(sub)
			if len(sub) == 0 {
				delete(m, k)
			}
		}
	}
}

// diff reports the first differences between two sorted line lists.
func diff(a, b []string) string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, "- "+x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, "+ "+x)
		}
	}
	for i, ln := range out {
		if len(ln) > 400 {
			out[i] = ln[:400] + "..."
		}
	}
	if len(out) > 8 {
		out = append(out[:8], "...")
	}
	return strings.Join(out, "\n")
}
