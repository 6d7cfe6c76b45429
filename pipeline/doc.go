// Package pipeline wires the stages together: frames from a capture.Source
// are decoded (classify), accounted to flows (track), named, placed (geo),
// judged (rules) and written (output). Run reads one whole source; the
// Worker type is the per-worker unit that owns its decoder and flow table.
package pipeline
