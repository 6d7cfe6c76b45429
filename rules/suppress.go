package rules

import (
	"net/netip"
	"sync"
	"time"
)

// SuppressKey is what makes two alerts the same for suppression.
type SuppressKey struct {
	Rule    string
	Device  netip.Addr
	Service string
	Country string
}

// Summary reports a closed window in which alerts were suppressed.
type Summary struct {
	Key        SuppressKey
	First      time.Time // the emitted alert's time (window start)
	Last       time.Time // the last suppressed alert's time
	Suppressed uint64    // alerts counted but not emitted
	Evicted    bool      // the window was closed early to make room
}

// Suppressor lets the first alert per key through in each window of
// packet time and counts the rest. Windows close when an alert for the
// same key arrives after the window, when Admit sees that the oldest
// window has ended, on Expire, on Flush, or when the key table is full (the
// oldest window is evicted). Each closed window with suppressed alerts
// yields a Summary. A Suppressor is safe for concurrent use.
type Suppressor struct {
	mu      sync.Mutex
	window  time.Duration
	max     int
	keys    map[SuppressKey]*openWindow
	head    *openWindow // oldest window start
	tail    *openWindow
	evicted uint64
}

type openWindow struct {
	key         SuppressKey
	first, last time.Time
	suppressed  uint64
	prev, next  *openWindow
}

// DefaultSuppressKeys is the key cap NewSuppressor uses.
const DefaultSuppressKeys = 100_000

// NewSuppressor returns a Suppressor with the given window (0 disables
// suppression: every alert is emitted) and a cap of DefaultSuppressKeys
// open windows.
func NewSuppressor(window time.Duration) *Suppressor {
	return NewSuppressorCap(window, DefaultSuppressKeys)
}

// NewSuppressorCap is NewSuppressor with a cap on open windows (at least 1).
func NewSuppressorCap(window time.Duration, maxKeys int) *Suppressor {
	return &Suppressor{window: window, max: max(maxKeys, 1), keys: map[SuppressKey]*openWindow{}}
}

// Admit decides whether the alert with key at packet time t is emitted,
// and appends to closed the summaries of windows that this call closed
// (the key's own earlier window, ended windows at the head, an evicted
// window).
func (s *Suppressor) Admit(key SuppressKey, t time.Time, closed []Summary) (emit bool, _ []Summary) {
	if s.window <= 0 {
		return true, closed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.keys[key]; w != nil {
		if t.Before(w.first.Add(s.window)) {
			w.suppressed++
			if t.After(w.last) {
				w.last = t
			}
			return false, closed
		}
		closed = s.close(w, false, closed)
	}
	// Close windows that ended, oldest first.
	for s.head != nil && !t.Before(s.head.first.Add(s.window)) {
		closed = s.close(s.head, false, closed)
	}
	if len(s.keys) >= s.max {
		s.evicted++
		closed = s.close(s.head, true, closed)
	}
	w := &openWindow{key: key, first: t, last: t}
	s.keys[key] = w
	s.push(w)
	return true, closed
}

// Expire closes the windows that ended by packet time now and appends the
// summaries of those with suppressed alerts.
func (s *Suppressor) Expire(now time.Time, closed []Summary) []Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := s.head; w != nil; {
		next := w.next
		if !now.Before(w.first.Add(s.window)) {
			closed = s.close(w, false, closed)
		}
		w = next
	}
	return closed
}

// Flush closes every open window (at the end of a replay) and appends the
// summaries of those with suppressed alerts, oldest first.
func (s *Suppressor) Flush(closed []Summary) []Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.head != nil {
		closed = s.close(s.head, false, closed)
	}
	return closed
}

// Len returns the number of open windows.
func (s *Suppressor) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// Evicted returns how many windows were closed early because the key table
// was full.
func (s *Suppressor) Evicted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evicted
}

func (s *Suppressor) close(w *openWindow, evicted bool, closed []Summary) []Summary {
	delete(s.keys, w.key)
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		s.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		s.tail = w.prev
	}
	if w.suppressed > 0 {
		closed = append(closed, Summary{Key: w.key, First: w.first, Last: w.last, Suppressed: w.suppressed, Evicted: evicted})
	}
	return closed
}

func (s *Suppressor) push(w *openWindow) {
	w.prev, w.next = s.tail, nil
	if s.tail != nil {
		s.tail.next = w
	} else {
		s.head = w
	}
	s.tail = w
}
