// Package netnstest builds throwaway network namespaces joined by veth
// pairs for tests of live capture. Everything it makes is private to the
// test (names carry the process id) and removed at cleanup; it never
// touches an interface or address outside the namespaces it creates.
//
// Tests that use it need root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and the ip
// command; Require skips the test with a clear message otherwise.
package netnstest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Require skips t unless the process is root and ip is installed.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces (CI runs as root)")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (installed by .ci/run)", tool)
		}
	}
}

// NS is a named network namespace.
type NS struct {
	Name string
}

var counter atomic.Int64

// New creates a namespace with its loopback up and IPv6 off; it is
// deleted at cleanup.
func New(t testing.TB, prefix string) *NS {
	t.Helper()
	ns := &NS{Name: fmt.Sprintf("ew%s%d_%d", prefix, os.Getpid(), counter.Add(1))}
	MustRun(t, "ip", "netns", "add", ns.Name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.Name).Run() })
	ns.MustRun(t, "ip", "link", "set", "lo", "up")
	// No IPv6: its neighbour discovery would put unasked-for packets on
	// the links.
	ns.MustRun(t, "sh", "-c", "echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6")
	return ns
}

// Command returns cmd to run inside the namespace.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// MustRun runs a command inside the namespace and fails t on error.
func (ns *NS) MustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	return MustRun(t, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// MustRun runs a command and fails t on error, showing its output.
func MustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// Do runs fn on an OS thread that has entered the namespace: sockets fn
// opens live in the namespace for good. The thread is thrown away after.
func (ns *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		returned := false
		defer func() {
			if !returned { // an early error, or fn called t.Fatal (runtime.Goexit)
				select {
				case errc <- fmt.Errorf("netns %s: function did not return", ns.Name):
				default:
				}
			}
		}()
		fd, err := unix.Open("/var/run/netns/"+ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", ns.Name, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		err = fn()
		returned = true
		errc <- err
	}()
	return <-errc
}

// Veth joins a and b with a veth pair (aIf in a, bIf in b), gives them
// the addresses (CIDR notation, "" for none), and brings both up.
func Veth(t testing.TB, a *NS, aIf, aAddr string, b *NS, bIf, bAddr string) {
	t.Helper()
	MustRun(t, "ip", "link", "add", aIf, "netns", a.Name, "type", "veth", "peer", "name", bIf, "netns", b.Name)
	for _, s := range []struct {
		ns        *NS
		ifc, addr string
	}{{a, aIf, aAddr}, {b, bIf, bAddr}} {
		if s.addr != "" {
			s.ns.MustRun(t, "ip", "addr", "add", s.addr, "dev", s.ifc)
		}
		s.ns.MustRun(t, "ip", "link", "set", s.ifc, "up")
	}
}

// SetMTU sets an interface's MTU.
func (ns *NS) SetMTU(t testing.TB, ifc string, mtu int) {
	t.Helper()
	ns.MustRun(t, "ip", "link", "set", ifc, "mtu", fmt.Sprint(mtu))
}

// NoOffload turns segmentation and receive offloads off on ifc (when
// ethtool is installed), so what the capture sees is what a wire carries.
func (ns *NS) NoOffload(t testing.TB, ifc string) {
	t.Helper()
	if _, err := exec.LookPath("ethtool"); err != nil {
		t.Logf("ethtool missing: offloads stay on for %s", ifc)
		return
	}
	out, err := ns.Command("ethtool", "-K", ifc, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off").CombinedOutput()
	if err != nil {
		t.Logf("ethtool -K %s: %v %s", ifc, err, out)
	}
}
