package capture

import (
	"fmt"
	"io"
)

// stream is a buffered reader that hands out slices of its own buffer
// (zero-copy) and tracks the byte offset of the next unread byte.
//
// Slices returned by peek and take stay valid until the next call to fill,
// which may move or replace the buffer.
type stream struct {
	r      io.Reader
	buf    []byte
	rd, wr int   // unread bytes are buf[rd:wr]
	off    int64 // stream offset of buf[rd]
	maxBuf int   // the buffer never grows beyond this
	err    error // first error of r (io.EOF at the end); sticky
}

const initialBuffer = 64 << 10

func newStream(r io.Reader, maxBuf int) *stream {
	return &stream{r: r, buf: make([]byte, min(initialBuffer, maxBuf)), maxBuf: maxBuf}
}

// buffered reports how many unread bytes are in the buffer.
func (s *stream) buffered() int { return s.wr - s.rd }

// fill tries to make n unread bytes available and returns how many are
// (fewer than n only when the underlying reader ended or failed; s.err
// then says why). n must not exceed s.maxBuf.
func (s *stream) fill(n int) int {
	if s.wr-s.rd >= n {
		return n
	}
	if len(s.buf)-s.rd < n {
		if n > len(s.buf) {
			nb := make([]byte, min(max(n, 2*len(s.buf)), max(n, s.maxBuf)))
			s.wr = copy(nb, s.buf[s.rd:s.wr])
			s.buf = nb
		} else {
			s.wr = copy(s.buf, s.buf[s.rd:s.wr])
		}
		s.rd = 0
	}
	empty := 0
	for s.wr-s.rd < n && s.err == nil {
		m, err := s.r.Read(s.buf[s.wr:])
		s.wr += m
		if err != nil {
			s.err = err
		} else if m == 0 {
			if empty++; empty > 100 {
				s.err = io.ErrNoProgress
			}
		}
	}
	return min(s.wr-s.rd, n)
}

// peek returns the next n unread bytes without consuming them; the caller
// must have checked fill(n) == n.
func (s *stream) peek(n int) []byte { return s.buf[s.rd : s.rd+n : s.rd+n] }

// take consumes and returns the next n bytes; fill(n) == n must hold.
func (s *stream) take(n int) []byte {
	b := s.buf[s.rd : s.rd+n : s.rd+n]
	s.rd += n
	s.off += int64(n)
	return b
}

// skip consumes n bytes without buffering them all and returns how many it
// could consume.
func (s *stream) skip(n int64) int64 {
	var done int64
	for done < n {
		if s.rd == s.wr {
			s.rd, s.wr = 0, 0
			if s.fill(1) == 0 {
				break
			}
		}
		k := int(min(int64(s.wr-s.rd), n-done))
		s.rd += k
		s.off += int64(k)
		done += int64(k)
	}
	return done
}

// short describes a record that the input ended in the middle of: what
// was being read, how many bytes it needs and how many there were.
func (s *stream) short(what string, need, have int64) error {
	if s.err == nil || s.err == io.EOF {
		return fmt.Errorf("truncated %s: need %d bytes, have %d", what, need, have)
	}
	return fmt.Errorf("truncated %s: need %d bytes, have %d: %w", what, need, have, s.err)
}

// atEnd reports whether the input ended cleanly at a record boundary. A
// read error other than io.EOF is not a clean end.
func (s *stream) atEnd() bool { return s.wr == s.rd && s.err == io.EOF }
