// Package fleet joins sensors into one picture over NATS JetStream: a
// sensor publishes its alerts, flow summaries and (optionally) every event
// to a stream (Publisher), holding what the broker has not acknowledged
// in a bounded on-disk spool (Spool) and sending a heartbeat (Heartbeat);
// a collector (Collector) consumes the stream with a durable consumer and
// writes the fleet's alerts, events and residency report exactly once; the
// policy lives in a key-value bucket (PushPolicy, WatchPolicy).
//
// Subjects: egresswatch.<sensor>.alert, .event, .health. An alert or event
// message packs up to 4096 records (JSON lines, up to 1 MiB, and within
// the broker's max_payload) of one kind, compressed with S2 unless the
// sensor is told not to (header Content-Encoding: s2); it carries a
// Nats-Msg-Id made of sensor, run, the first record's sequence and the
// count (site-7.lq3x9a-1f2e.a.42+256; one record: no count), and
// each record's own id is its sequence in that stream. A pack sent twice
// (a resend after a lost acknowledgement) is stored once by the server;
// records sent twice in different packs (a spool replayed after a crash)
// are written once by the collector, which keys on the record's id.
package fleet
