package fleet

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spool holds a sensor's unacknowledged messages on disk, one queue per
// kind (alert, event), each a folder of segment files of records in the
// order they were put, and a cursor file: how many records the broker has
// acknowledged. Every message goes through it, so a sensor killed at any
// moment (SIGKILL) and started again on the same folder sends what was
// not acknowledged, with the message ids it had (the server and the
// collector drop the copies). Writes are not synced: a crash of the
// process loses nothing, a power cut may lose the last moments.
//
// The spool is capped: at the cap the oldest events go first, then the
// oldest alerts, and every message dropped is counted and logged.
type Spool struct {
	dir     string
	max     int64
	segSize int64
	logf    func(string, ...any)

	mu      sync.Mutex
	q       [2]*spoolQueue
	dropped uint64
}

// spoolQueue is one kind's queue. Records are numbered from 0 for the
// life of the folder; a segment is named by the number of its first.
type spoolQueue struct {
	s     *Spool
	kind  Kind
	dir   string
	segs  []segment // oldest first; the last is written to
	w     *os.File
	bw    *bufio.Writer
	next  uint64 // number of the next record put
	acked uint64 // records before this are acknowledged (or dropped)

	// The reader: records from acked on, read ahead into pending.
	pending []Msg
	r       *os.File
	br      *bufio.Reader
	rseg    int    // index in segs of r
	rnum    uint64 // number of the next record r gives

	cursorAt time.Time // when the acknowledged cursor was last written

	idBuf  []byte // Put's record id
	stream string // the last stream read: records share it
	chunk  []byte // readAhead carves payloads from it
}

type segment struct {
	first uint64 // number of its first record
	count uint64
	size  int64
}

const recordHeader = 8 // length, crc32 of the payload

// maxRecord bounds a record (a line is far smaller, and a message to the
// broker is at most 1 MiB): a length beyond it is a damaged file, not a
// reason to allocate gigabytes.
const maxRecord = 512 << 10

// OpenSpool opens (creating) the spool in dir, capped at size bytes.
// What an earlier run left unacknowledged is sent first.
func OpenSpool(dir string, size int64, logf func(string, ...any)) (*Spool, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	s := &Spool{dir: dir, max: size, segSize: min(max(size/32, 64<<10), 64<<20), logf: logf}
	for _, k := range []Kind{KindAlert, KindEvent} {
		q, err := s.openQueue(k)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("spool %s: %w", dir, err)
		}
		s.q[k] = q
	}
	if a, e := s.q[KindAlert].len(), s.q[KindEvent].len(); a+e > 0 {
		logf("spool %s: %d alert(s) and %d event(s) of an earlier run to send", dir, a, e)
	}
	return s, nil
}

func (s *Spool) openQueue(k Kind) (*spoolQueue, error) {
	q := &spoolQueue{s: s, kind: k, dir: filepath.Join(s.dir, k.String())}
	if err := os.MkdirAll(q.dir, 0o700); err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(q.dir, "*.seg"))
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		first, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(n), ".seg"), 10, 64)
		if err != nil {
			continue
		}
		q.segs = append(q.segs, segment{first: first})
	}
	slices.SortFunc(q.segs, func(a, b segment) int { return cmp.Compare(a.first, b.first) })
	for i := range q.segs {
		sg := &q.segs[i]
		if i > 0 && sg.first != q.segs[i-1].first+q.segs[i-1].count {
			// A gap: records were lost (a segment deleted by hand).
			s.logf("spool %s: records %d-%d missing", q.dir, q.segs[i-1].first+q.segs[i-1].count, sg.first)
		}
		n, size, err := scanSegment(q.path(sg.first))
		if err != nil {
			return nil, err
		}
		sg.count, sg.size = n, size
	}
	if len(q.segs) > 0 {
		l := q.segs[len(q.segs)-1]
		q.next = l.first + l.count
	}
	if b, err := os.ReadFile(filepath.Join(q.dir, "acked")); err == nil {
		q.acked, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	}
	if len(q.segs) > 0 && q.acked < q.segs[0].first {
		q.acked = q.segs[0].first
	}
	q.acked = min(q.acked, q.next)
	if err := q.openWriter(); err != nil {
		return nil, err
	}
	q.rnum = q.acked
	q.rseg = -1
	return q, nil
}

func (q *spoolQueue) path(first uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%020d.seg", first))
}

// scanSegment counts a segment's whole records and cuts off a torn last
// one (the process was killed while writing it).
func scanSegment(path string) (n uint64, size int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var hdr [recordHeader]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			break
		}
		l := binary.LittleEndian.Uint32(hdr[:4])
		if l > maxRecord+3+255 {
			break // damaged: what follows is cut off
		}
		if cap(buf) < int(l) {
			buf = make([]byte, l)
		}
		buf = buf[:l]
		if _, err := io.ReadFull(br, buf); err != nil || crc32.ChecksumIEEE(buf) != binary.LittleEndian.Uint32(hdr[4:]) {
			break
		}
		n++
		size += recordHeader + int64(l)
	}
	return n, size, f.Truncate(size)
}

// openWriter opens the last segment for appending, or starts one.
func (q *spoolQueue) openWriter() error {
	if len(q.segs) == 0 || q.segs[len(q.segs)-1].size >= q.s.segSize {
		q.segs = append(q.segs, segment{first: q.next})
	}
	f, err := os.OpenFile(q.path(q.segs[len(q.segs)-1].first), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	q.w, q.bw = f, bufio.NewWriterSize(f, 256<<10)
	return nil
}

// rotate seals the segment being written and starts the next.
func (q *spoolQueue) rotate() error {
	if err := q.bw.Flush(); err != nil {
		return err
	}
	q.w.Close()
	q.segs = append(q.segs, segment{first: q.next})
	return q.openWriter()
}

func (q *spoolQueue) len() int { return int(q.next - q.acked) }

func (s *Spool) size() int64 {
	var n int64
	for _, q := range s.q {
		for _, sg := range q.segs {
			n += sg.size
		}
	}
	return n
}

// Put appends m; at the cap it drops the oldest events, then the oldest
// alerts, first.
func (q *spoolQueue) Put(m Msg) error {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	q.idBuf = m.AppendID(q.idBuf[:0])
	id := q.idBuf
	l := 3 + len(id) + len(m.Data)
	for s.size()+int64(recordHeader+l) > s.max {
		if !s.reclaim() && !s.dropOldest(KindEvent) && !s.dropOldest(KindAlert) {
			break // nothing left to drop: one message over the cap
		}
	}
	last := &q.segs[len(q.segs)-1]
	if last.size >= s.segSize {
		if err := q.rotate(); err != nil {
			return err
		}
		last = &q.segs[len(q.segs)-1]
	}
	var hdr [recordHeader + 3]byte
	payload := hdr[recordHeader:]
	payload[0] = byte(m.Kind)
	binary.LittleEndian.PutUint16(payload[1:], uint16(len(id)))
	crc := crc32.Update(crc32.ChecksumIEEE(payload), crc32.IEEETable, id)
	crc = crc32.Update(crc, crc32.IEEETable, m.Data)
	binary.LittleEndian.PutUint32(hdr[:4], uint32(l))
	binary.LittleEndian.PutUint32(hdr[4:8], crc)
	q.bw.Write(hdr[:])
	q.bw.Write(id)
	if _, err := q.bw.Write(m.Data); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	last.count++
	last.size += int64(recordHeader + l)
	q.next++
	return nil
}

// reclaim deletes segments whose records are all acknowledged, the one
// being written included (a new one is started): what the cap counts is
// the disk the spool takes. It reports whether it freed any.
func (s *Spool) reclaim() bool {
	freed := false
	for _, q := range s.q {
		if q == nil || q.len() > 0 || q.segs[len(q.segs)-1].size == 0 {
			continue
		}
		if err := q.rotate(); err != nil {
			continue
		}
		q.closeReader()
		for _, sg := range q.segs[:len(q.segs)-1] {
			os.Remove(q.path(sg.first))
		}
		q.segs = q.segs[len(q.segs)-1:]
		freed = true
	}
	return freed
}

// dropOldest drops kind k's oldest segment holding unacknowledged
// records, counting and logging them; false when there is none.
func (s *Spool) dropOldest(k Kind) bool {
	q := s.q[k]
	if q.len() == 0 {
		return false
	}
	if len(q.segs) == 1 {
		if err := q.rotate(); err != nil {
			return false
		}
	}
	sg := q.segs[0]
	end := sg.first + sg.count
	if n := end - max(q.acked, sg.first); n > 0 {
		s.dropped += n
		s.logf("spool %s at its cap (%d bytes): dropped the %d oldest %s(s)", s.dir, s.max, n, k)
	}
	q.closeReader()
	os.Remove(q.path(sg.first))
	q.segs = q.segs[1:]
	if q.acked < end {
		q.acked = end
		q.pending = q.pending[:0]
		q.rnum = end
		q.writeCursor()
	}
	return true
}

func (q *spoolQueue) closeReader() {
	if q.r != nil {
		q.r.Close()
		q.r, q.br, q.rseg = nil, nil, -1
	}
	q.rnum = q.acked + uint64(len(q.pending))
}

// Peek returns up to n unacknowledged messages numbered from on.
func (q *spoolQueue) Peek(buf []Msg, from uint64, n int) ([]Msg, error) {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	skip := int(max(from, q.acked) - q.acked)
	var err error
	if want := skip + n; len(q.pending) < want && q.rnum < q.next {
		err = q.readAhead(want - len(q.pending))
	}
	if skip >= len(q.pending) {
		return buf, err
	}
	return append(buf, q.pending[skip:min(skip+n, len(q.pending))]...), err
}

// readAhead reads up to n more records into pending.
func (q *spoolQueue) readAhead(n int) error {
	if err := q.bw.Flush(); err != nil {
		return err
	}
	var hdr [recordHeader]byte
	for ; n > 0 && q.rnum < q.next; n-- {
		if q.r == nil || q.rnum >= q.segs[q.rseg].first+q.segs[q.rseg].count {
			if err := q.openReader(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(q.br, hdr[:]); err != nil {
			return fmt.Errorf("spool %s: record %d: %w", q.dir, q.rnum, err)
		}
		l := int(binary.LittleEndian.Uint32(hdr[:4]))
		if l > maxRecord+3+255 || l < 3 {
			return fmt.Errorf("spool %s: record %d: damaged (length %d)", q.dir, q.rnum, l)
		}
		var payload []byte // pending holds it until it is acknowledged
		payload, q.chunk = reserve(q.chunk, l)
		if _, err := io.ReadFull(q.br, payload); err != nil {
			return fmt.Errorf("spool %s: record %d: %w", q.dir, q.rnum, err)
		}
		idLen := int(binary.LittleEndian.Uint16(payload[1:3]))
		id := payload[3 : 3+idLen]
		i := bytes.LastIndexByte(id, '.')
		seq, err := strconv.ParseUint(string(id[i+1:]), 10, 64)
		if i < 0 || err != nil {
			return fmt.Errorf("spool %s: record %d: bad id %q", q.dir, q.rnum, id)
		}
		if string(id[:i]) != q.stream {
			q.stream = string(id[:i])
		}
		q.pending = append(q.pending, Msg{Num: q.rnum, Kind: Kind(payload[0]), Stream: q.stream, Seq: seq, Data: payload[3+idLen:]})
		q.rnum++
	}
	return nil
}

// openReader opens the segment holding record rnum at that record.
func (q *spoolQueue) openReader() error {
	if q.r != nil {
		q.r.Close()
	}
	i, _ := slices.BinarySearchFunc(q.segs, q.rnum, func(sg segment, n uint64) int {
		return cmp.Compare(sg.first+sg.count, n+1)
	})
	if i >= len(q.segs) || q.rnum < q.segs[i].first {
		return fmt.Errorf("spool %s: record %d is missing", q.dir, q.rnum)
	}
	f, err := os.Open(q.path(q.segs[i].first))
	if err != nil {
		return err
	}
	q.r, q.br, q.rseg = f, bufio.NewReaderSize(f, 256<<10), i
	var hdr [recordHeader]byte
	for skip := q.rnum - q.segs[i].first; skip > 0; skip-- {
		if _, err := io.ReadFull(q.br, hdr[:]); err != nil {
			return err
		}
		if _, err := q.br.Discard(int(binary.LittleEndian.Uint32(hdr[:4]))); err != nil {
			return err
		}
	}
	return nil
}

// Ack marks the messages numbered below to acknowledged; sealed segments
// wholly acknowledged are deleted. The cursor is written at most every
// cursorEvery (a crash before it resends a few, and their copies are
// dropped by id).
func (q *spoolQueue) Ack(to uint64) error {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if to <= q.acked {
		return nil // dropped meanwhile
	}
	q.pending = q.pending[min(int(to-q.acked), len(q.pending)):]
	q.acked = to
	for len(q.segs) > 1 && q.segs[0].first+q.segs[0].count <= q.acked {
		if q.rseg == 0 && q.r != nil {
			q.r.Close()
			q.r, q.br = nil, nil
		}
		os.Remove(q.path(q.segs[0].first))
		q.segs = q.segs[1:]
		if q.rseg > 0 {
			q.rseg--
		}
	}
	if now := time.Now(); now.Sub(q.cursorAt) >= cursorEvery {
		q.cursorAt = now
		return q.writeCursor()
	}
	return nil
}

const cursorEvery = 100 * time.Millisecond

// writeCursor records how far the broker has acknowledged.
func (q *spoolQueue) writeCursor() error {
	tmp := filepath.Join(q.dir, "acked.tmp")
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(q.acked, 10)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(q.dir, "acked"))
}

func (q *spoolQueue) Len() int {
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	return q.len()
}

// Flush writes what was put through to the files (not to the disk), so
// that a process killed now loses none of it.
func (s *Spool) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, q := range s.q {
		if q != nil && q.bw != nil {
			errs = append(errs, q.bw.Flush())
		}
	}
	return errors.Join(errs...)
}

// Dir returns the spool's folder.
func (s *Spool) Dir() string { return s.dir }

// Dropped returns how many messages were dropped at the cap.
func (s *Spool) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close writes everything through and closes the files.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, q := range s.q {
		if q == nil {
			continue
		}
		if q.bw != nil {
			errs = append(errs, q.bw.Flush(), q.w.Close())
			q.bw = nil
		}
		if q.r != nil {
			q.r.Close()
			q.r = nil
		}
		errs = append(errs, q.writeCursor())
	}
	return errors.Join(errs...)
}

func (s *Spool) queue(k Kind) queue { return s.q[k] }
