// Package afpacket captures live traffic on Linux through AF_PACKET
// TPACKET_V3 rings, for egresswatch live on a SPAN or mirror port.
//
// Open opens one ring per worker on each interface, joins them in a fanout
// group (hash by flow), turns promiscuous mode on and, when asked, attaches
// a classic BPF filter. The returned *Source merges the rings back into one
// stream in timestamp order and hands it to pipeline.Engine, which re-shards
// it by its own symmetric host-pair hash:
//
//	src, err := afpacket.Open(afpacket.Config{Interfaces: []string{"eth1"}, Rings: 2})
//	if err != nil { ... }
//	go func() { <-ctx.Done(); src.Stop() }() // drain what the rings hold, then io.EOF
//	sum, err := engine.Run(context.Background(), src)
//
// VLAN tags survive: the kernel strips a frame's outer 802.1Q/802.1ad tag
// into the ring's metadata (tp_vlan_tci, tp_vlan_tpid), and Source puts it
// back into the frame, in place in the ring (there is headroom before the
// MAC header), with its TPID and priority bits, including tag 0.
//
// Next returns capture.ErrTimeout when nothing arrived within the poll
// interval (100 ms by default), so the engine hands out a short batch on a
// quiet link. Stats reads the kernel's PACKET_STATISTICS (packets, drops,
// queue freezes) per ring; the kernel resets them on every read, so the
// ring keeps the running totals.
//
// Allocation contract: Next allocates nothing. Frame.Data points into the
// ring and is valid until the next call to Next, which hands the block back
// to the kernel once every frame in it has been returned.
package afpacket
