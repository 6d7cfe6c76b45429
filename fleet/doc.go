// Package fleet joins sensors into one picture over NATS JetStream: a
// sensor publishes its alerts, flow summaries and (optionally) every event
// to a stream (Publisher), holding what the broker has not acknowledged
// in a bounded on-disk spool (Spool) and sending a heartbeat (Heartbeat);
// a collector (Collector) consumes the stream with a durable consumer and
// writes the fleet's alerts, events and residency report exactly once; the
// policy lives in a key-value bucket (PushPolicy, WatchPolicy).
//
// Subjects: egresswatch.<sensor>.alert, .event, .health. Every message
// carries a Nats-Msg-Id made of sensor, run and sequence, so a message
// sent twice (a resend after a lost acknowledgement, a spool replayed
// after a crash) is stored once by the server and written once by the
// collector.
package fleet
