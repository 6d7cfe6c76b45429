// Package prefetch asks the processor to start loading a cache line that
// the program will read soon. The replay workers read frames that another
// core (the reader) wrote into the batch a moment before; touching the
// first bytes of frame i+k while frame i is decoded overlaps the memory
// latency with useful work, as packet-processing frameworks do with their
// next descriptors. Go has no prefetch intrinsic, so this is one
// instruction of assembly on amd64 and arm64 and nothing elsewhere.
package prefetch
