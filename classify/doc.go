// Package classify turns captured frames into what egresswatch reports:
// the L2–L4 view of each packet (MACs, VLAN tags, tunnels, IP addresses
// after defragmentation, ports) and the names a flow goes to (DNS messages,
// TLS and QUIC ClientHello SNI, HTTP Host).
//
// A Decoder decodes one frame into a Packet. It is built once per worker
// and is not safe for concurrent use; decoding a data packet allocates
// nothing. Packet.Payload and every other slice in a Packet are borrowed
// from the frame (or from the Decoder's reassembly buffers) and are valid
// only until the next call to Decode.
//
// An Inspector follows the application layer of one flow: it reassembles
// the first flight of TCP streams (bounded, in or out of order), recognises
// TLS records and HTTP requests on any port, frames DNS over TCP, and feeds
// QUIC Initials to package quic. Per-flow state lives in a Stream value that
// the caller keeps with its flow record (package track).
//
// Parsers are total: malformed input is counted in Stats, never returned
// as an error that would stop a run.
package classify
