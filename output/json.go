package output

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// builder appends one JSON object with nested objects and arrays. It keeps
// a stack of "a value was written at this level" flags to place commas.
type builder struct {
	buf   []byte
	comma [24]bool
	depth int
}

func (b *builder) begin() {
	b.buf = append(b.buf[:0], '{')
	b.depth = 0
	b.comma[0] = false
}

func (b *builder) end() []byte {
	for b.depth > 0 {
		b.close()
	}
	b.buf = append(b.buf, '}', '\n')
	return b.buf
}

func (b *builder) sep() {
	if b.comma[b.depth] {
		b.buf = append(b.buf, ',')
	}
	b.comma[b.depth] = true
}

func (b *builder) key(k string) {
	b.sep()
	b.buf = append(b.buf, '"')
	b.buf = append(b.buf, k...)
	b.buf = append(b.buf, '"', ':')
}

func (b *builder) push(c byte) {
	b.buf = append(b.buf, c)
	b.depth++
	b.comma[b.depth] = false
}

// open starts a nested object under k.
func (b *builder) open(k string) { b.key(k); b.push('{') }

// openArr starts an array under k.
func (b *builder) openArr(k string) { b.key(k); b.push('[') }

// elemObj starts an object element of the current array.
func (b *builder) elemObj() { b.sep(); b.push('{') }

func (b *builder) elemStr(v string) { b.sep(); b.buf = appendString(b.buf, v) }

func (b *builder) elemUint(v uint64) { b.sep(); b.buf = strconv.AppendUint(b.buf, v, 10) }

// close ends the innermost object.
func (b *builder) close() { b.closeWith('}') }

// closeArr ends the innermost array.
func (b *builder) closeArr() { b.closeWith(']') }

func (b *builder) closeWith(c byte) {
	b.buf = append(b.buf, c)
	b.depth--
}

func (b *builder) str(k, v string) {
	b.key(k)
	b.buf = appendString(b.buf, v)
}

// strOpt writes k only when v is not empty.
func (b *builder) strOpt(k, v string) {
	if v != "" {
		b.str(k, v)
	}
}

func (b *builder) uint(k string, v uint64) {
	b.key(k)
	b.buf = strconv.AppendUint(b.buf, v, 10)
}

func (b *builder) int(k string, v int64) {
	b.key(k)
	b.buf = strconv.AppendInt(b.buf, v, 10)
}

func (b *builder) bool(k string, v bool) {
	b.key(k)
	b.buf = strconv.AppendBool(b.buf, v)
}

func (b *builder) time(k string, t time.Time) {
	b.key(k)
	b.buf = append(b.buf, '"')
	b.buf = t.UTC().AppendFormat(b.buf, time.RFC3339Nano)
	b.buf = append(b.buf, '"')
}

// raw appends pre-encoded JSON under k.
func (b *builder) raw(k string, v []byte) {
	b.key(k)
	b.buf = append(b.buf, v...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// so the output is always valid JSON whatever the packet held.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
