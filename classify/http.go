package classify

import (
	"bytes"
)

const maxHTTPHeader = 16 << 10

// httpStart reports whether b begins like an HTTP/1.x request line: a
// method token of 3–20 upper-case letters or '-' followed by a space, or a
// well-known method alone on its line ("OPTIONS\r\n", which tshark takes
// for a request too). It is the cheap test run on the first bytes of a
// segment.
func httpStart(b []byte) bool {
	n := 0
	for n < len(b) && n < 21 {
		c := b[n]
		if c == ' ' {
			return n >= 3
		}
		if c == '\r' || c == '\n' {
			return bareMethod(b[:n])
		}
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
		n++
	}
	return false
}

// bareMethod reports whether m is a method tshark recognises as a request
// line by itself, without a target or version.
func bareMethod(m []byte) bool {
	switch string(m) {
	case "GET", "PUT", "POST", "HEAD", "OPTIONS", "CONNECT", "TRACE", "DELETE", "PATCH":
		return true
	}
	return false
}

// httpStatus is the outcome of parseHTTPRequest.
type httpStatus uint8

const (
	httpNeedMore httpStatus = iota
	httpNot
	httpDone
)

// parseHTTPRequest reads the request line and headers at the start of b.
// It needs the request line and either the Host header or the end of the
// headers; it does not need the body. consumed is the length of the
// request line and headers when the header block is complete, else 0.
func parseHTTPRequest(b []byte, r *HTTPRequest) (st httpStatus, consumed int) {
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		if len(b) > maxHTTPHeader {
			return httpNot, 0
		}
		return httpNeedMore, 0
	}
	line := bytes.TrimRight(b[:eol], "\r")
	if !httpStart(b[:eol+1]) {
		return httpNot, 0
	}
	// As tshark reads a request line: the method, then the target up to a
	// last token that names the version. An odd line still gives a request
	// ("OPTIONS HTTP/1.1", "GET /", "OPTIONS"), and its Host.
	method, target := line, line[len(line):]
	if sp1 := bytes.IndexByte(line, ' '); sp1 >= 0 {
		method, target = line[:sp1], line[sp1+1:]
		if sp2 := bytes.LastIndexByte(target, ' '); bytes.HasPrefix(target[sp2+1:], []byte("HTTP/")) {
			target = target[:max(sp2, 0)]
		}
	}
	rest := b[eol+1:]
	off := eol + 1
	var host []byte
	complete := false
	for {
		e := bytes.IndexByte(rest, '\n')
		if e < 0 {
			break
		}
		h := bytes.TrimRight(rest[:e], "\r")
		off += e + 1
		rest = rest[e+1:]
		if len(h) == 0 {
			complete = true
			break
		}
		if len(h) > 5 && h[4] == ':' && asciiEqualFold(h[:4], "host") && host == nil {
			host = bytes.TrimSpace(h[5:])
		}
	}
	if host == nil && !complete {
		if len(b) > maxHTTPHeader {
			return httpNot, 0
		}
		return httpNeedMore, 0
	}
	r.Method = string(method)
	if len(target) > 2048 {
		target = target[:2048]
	}
	r.Target = string(target)
	r.Host, r.Port = splitHostPort(host)
	if !complete {
		off = 0
	}
	return httpDone, off
}

// splitHostPort splits "example.com:8080" and "[2001:db8::1]:80"; the host
// is lower-cased.
func splitHostPort(h []byte) (string, uint16) {
	var port uint16
	if len(h) > 0 && h[0] == '[' {
		if i := bytes.IndexByte(h, ']'); i > 0 {
			if p, ok := atou16(h[i+1:]); ok {
				port = p
			}
			return lowerASCII(h[1:i]), port
		}
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 && bytes.IndexByte(h[:i], ':') < 0 {
		if p, ok := atou16(h[i:]); ok {
			return lowerASCII(h[:i]), p
		}
	}
	return lowerASCII(h), 0
}

// atou16 parses ":NNN".
func atou16(b []byte) (uint16, bool) {
	if len(b) < 2 || b[0] != ':' {
		return 0, false
	}
	v := 0
	for _, c := range b[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
		if v > 65535 {
			return 0, false
		}
	}
	return uint16(v), true
}

func lowerASCII(b []byte) string {
	s := []byte(string(b)) // copy: b is borrowed
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			s[i] = c + 'a' - 'A'
		}
	}
	return string(s)
}

func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
