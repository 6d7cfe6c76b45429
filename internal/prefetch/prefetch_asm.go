//go:build amd64 || arm64

package prefetch

// Line hints that the cache line holding *p will be read soon. It never
// faults, whatever p points at, and changes nothing the program can see.
//
//go:noescape
func Line(p *byte)
