// Package e2e holds end-to-end tests of egresswatch live on real traffic:
// network namespaces joined by veth pairs, real DNS, TLS and HTTP servers
// and clients, and tcpdump/tcpreplay beside the capture. They need root
// and skip with a message otherwise; CI runs them as root (.ci/run installs
// tcpdump, tcpreplay and ethtool).
package e2e
