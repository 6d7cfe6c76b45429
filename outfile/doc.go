// Package outfile writes JSON lines files that a sensor keeps for months:
// opened for append (a line torn by a crash is set aside first), rotated
// by size or age or reopened on request (logrotate's rename then SIGHUP),
// old files compressed and pruned, and written by a goroutine of its own
// behind a bounded queue, so that a full or slow disk never blocks the
// caller. What the queue cannot hold is dropped whole lines at a time and
// counted; write errors are counted and logged once per episode.
//
// A File is an io.Writer for whole lines: bytes up to the last newline of
// each Write are queued, the rest waits for the next Write.
package outfile
