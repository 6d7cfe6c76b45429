package fleet

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// scanner walks one JSON line, reading only the values the fleet report
// needs and skipping the rest unparsed: the collector reads every alert.
// Each method reports false on malformed input.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// rawString reads a string and returns it with its quotes.
func (s *scanner) rawString() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			if !s.escape() {
				return nil, false
			}
		case c == '"':
			s.i++
			return s.b[start:s.i], true
		case c < 0x20: // a control character must be escaped
			return nil, false
		}
	}
	return nil, false
}

// escape checks the escape at s.i (a backslash) and leaves s.i at its
// last byte.
func (s *scanner) escape() bool {
	if s.i+1 >= len(s.b) {
		return false
	}
	s.i++
	switch s.b[s.i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		if s.i+4 >= len(s.b) {
			return false
		}
		for _, c := range s.b[s.i+1 : s.i+5] {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		s.i += 4
		return true
	}
	return false
}

// null reads a null, if that is what comes next.
func (s *scanner) null() bool {
	s.ws()
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// str reads a string value (null reads as "").
func (s *scanner) str() (string, bool) {
	if s.null() {
		return "", true
	}
	raw, ok := s.rawString()
	if !ok {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') >= 0 || !utf8.Valid(in) {
		var v string
		err := json.Unmarshal(raw, &v) // rare: escapes, bytes that are not UTF-8 (read as U+FFFD)
		return v, err == nil
	}
	return string(in), true
}

// skip skips one value of any kind.
func (s *scanner) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		_, ok := s.rawString()
		return ok
	case '{':
		return s.object(func([]byte) bool { return s.skip() })
	case '[':
		return s.array(func() bool { return s.skip() })
	}
	start := s.i
	for s.i < len(s.b) { // number, true, false, null
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return literal(s.b[start:s.i])
		}
		s.i++
	}
	return literal(s.b[start:s.i])
}

// literal reports whether tok is true, false, null or a JSON number.
func literal(tok []byte) bool {
	switch string(tok) {
	case "true", "false", "null":
		return true
	}
	i := 0
	digits := func() int {
		n := 0
		for i < len(tok) && '0' <= tok[i] && tok[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(tok) && tok[i] == '-' {
		i++
	}
	if i < len(tok) && tok[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(tok) && tok[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(tok) && (tok[i] == 'e' || tok[i] == 'E') {
		i++
		if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(tok)
}

// object reads an object, calling member for each key with the scanner
// at its value; member reads or skips the value.
func (s *scanner) object(member func(key []byte) bool) bool {
	return s.list('{', '}', func() bool {
		raw, ok := s.rawString()
		if !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		return member(raw[1 : len(raw)-1])
	})
}

// array reads an array, calling elem with the scanner at each element.
func (s *scanner) array(elem func() bool) bool {
	return s.list('[', ']', elem)
}

// list reads open, items separated by commas, and close; item reads one
// item with the scanner at it.
func (s *scanner) list(open, close byte, item func() bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != open {
		return false
	}
	s.i++
	for first := true; ; first = false {
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == close && first {
			s.i++
			return true
		}
		if !item() {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		s.i++
		switch s.b[s.i-1] {
		case ',':
		case close:
			return true
		default:
			return false
		}
	}
}

// uint reads an unsigned integer.
func (s *scanner) uint() (uint64, bool) {
	s.ws()
	start := s.i
	if !s.skip() {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[start:s.i]), 10, 64)
	return v, err == nil
}

// key returns the name among names that the object key k (as it is in
// the line, without its quotes) stands for, as encoding/json matches
// them: escapes decoded, case folded; "" for none.
func key(k []byte, names ...string) string {
	if bytes.IndexByte(k, '\\') >= 0 {
		var d string
		if json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &d) != nil {
			return ""
		}
		k = []byte(d)
	}
	for _, n := range names {
		if string(k) == n || bytes.EqualFold(k, []byte(n)) {
			return n
		}
	}
	return ""
}

// parseAlertFields reads the parts of an alert line the report needs,
// as json.Unmarshal into alertFields would.
func parseAlertFields(line []byte, a *alertFields) bool {
	s := &scanner{b: line}
	str := func(dst *string) bool {
		v, ok := s.str()
		*dst = v
		return ok
	}
	// one reads an object (or null) of which only the string member
	// name is wanted.
	one := func(name string, dst *string) bool {
		return s.null() || s.object(func(k []byte) bool {
			if key(k, name) != "" {
				return str(dst)
			}
			return s.skip()
		})
	}
	e := &a.Egresswatch
	ok := s.null() || s.object(func(k []byte) bool {
		switch key(k, "@timestamp", "event", "rule", "source", "egresswatch") {
		case "@timestamp":
			if s.null() {
				return true // as encoding/json: null leaves the time alone
			}
			var t string
			if !str(&t) {
				return false
			}
			var err error
			a.Timestamp, err = time.Parse(time.RFC3339Nano, t)
			return err == nil
		case "event":
			return one("action", &a.Event.Action)
		case "rule":
			return one("id", &a.Rule.ID)
		case "source":
			return one("ip", &a.Source.IP)
		case "egresswatch":
			return s.null() || s.object(func(k []byte) bool {
				switch key(k, "group", "service", "country", "evidence") {
				case "group":
					e.Group = e.Group[:0]
					return s.null() || s.array(func() bool {
						var g string
						ok := str(&g)
						e.Group = append(e.Group, g)
						return ok
					})
				case "service":
					return str(&e.Service)
				case "country":
					return str(&e.Country)
				case "evidence":
					return s.null() || s.object(func(k []byte) bool {
						if key(k, "suppressed_count") != "" {
							if s.null() {
								return true
							}
							v, ok := s.uint()
							e.Evidence.Suppressed = v
							return ok
						}
						return s.skip()
					})
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	s.ws()
	return ok && s.i == len(s.b)
}
