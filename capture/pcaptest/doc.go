// Package pcaptest writes pcap and pcapng files for tests: fixtures made in
// Go instead of copied captures. It writes what the reader in package
// capture must accept (both byte orders, microsecond and nanosecond pcap,
// pcapng with several sections and interfaces, if_tsresol, if_tsoffset,
// simple and obsolete packet blocks, blocks a reader must skip).
//
// It is meant for _test.go files; production code has no use for it.
package pcaptest
