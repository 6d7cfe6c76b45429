package rules

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// source is a policy file cut into lines the way yaml.v3 counts them, so
// that a node's Line and Column (in characters) point into it: lines end
// at \n, \r\n, \r, NEL, LS or PS, and a UTF-8 byte order mark is not on
// line 1. It shows where errors are, and finds where YAML syntax errors
// are.
type source struct {
	data  []byte
	lines []span // lines[i] is line i+1
}

// span is a line: data[start:end] is its text, data[start:next] the text
// with the line break.
type span struct{ start, end, next int }

func newSource(data []byte) *source {
	s := &source{data: data}
	start := 0
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		start = 3
	case bytes.HasPrefix(data, []byte("\xfe\xff")), bytes.HasPrefix(data, []byte("\xff\xfe")):
		return s // UTF-16: yaml.v3 reads it, but its lines are not these bytes'
	}
	for i := start; i < len(data); {
		n := lineBreak(data[i:])
		if n == 0 {
			i++ // a break starts with a byte that is never inside a character
			continue
		}
		s.lines = append(s.lines, span{start, i, i + n})
		i += n
		start = i
	}
	s.lines = append(s.lines, span{start, len(data), len(data)})
	return s
}

// lineBreak returns the length of the line break b starts with, or 0.
func lineBreak(b []byte) int {
	switch {
	case bytes.HasPrefix(b, []byte("\r\n")):
		return 2
	case len(b) > 0 && (b[0] == '\n' || b[0] == '\r'):
		return 1
	case bytes.HasPrefix(b, []byte("\u0085")):
		return 2
	case bytes.HasPrefix(b, []byte("\u2028")), bytes.HasPrefix(b, []byte("\u2029")):
		return 3
	}
	return 0
}

// line returns line n (from 1) without its break, and whether there is one.
func (s *source) line(n int) (string, bool) {
	if n < 1 || n > len(s.lines) {
		return "", false
	}
	l := s.lines[n-1]
	return string(s.data[l.start:l.end]), true
}

// Excerpts are at most this many characters wide; longer lines are cut
// around the column.
const excerptWidth = 100

// excerpt shows pos's line with a caret under its column, like a
// compiler, and, with before, the closest line above it that is not
// blank or a comment. It returns "" when the line is blank or not in the
// file, and otherwise lines that each start with a newline and a space.
func (s *source) excerpt(pos Pos, before bool) string {
	text, ok := s.line(pos.Line)
	if !ok || strings.TrimSpace(text) == "" {
		return ""
	}
	prev := 0
	if before {
		for n := pos.Line - 1; n > 0 && prev == 0; n-- {
			if t, _ := s.line(n); t != "" && !isComment(t) {
				prev = n
			}
		}
	}
	width := max(4, len(strconv.Itoa(pos.Line)))
	var b strings.Builder
	if prev > 0 {
		t, _ := s.line(prev)
		shown, _ := window(t, 0)
		fmt.Fprintf(&b, "\n %*d | %s", width, prev, shown)
	}
	shown, pad := window(text, pos.Col-1)
	fmt.Fprintf(&b, "\n %*d | %s\n %*s | %s^", width, pos.Line, shown, width, "", pad)
	return b.String()
}

// isComment says whether a line holds only a comment or white space.
func isComment(line string) bool {
	t := strings.TrimLeft(line, " \t")
	return t == "" || t[0] == '#'
}

// window returns the part of line to show, at most excerptWidth
// characters around character col (from 0; it may be just past the end),
// with characters that cannot be shown replaced, and the white space that
// puts a caret under col.
func window(line string, col int) (shown, pad string) {
	rs := []rune(line)
	col = min(max(col, 0), len(rs))
	from, to := 0, len(rs)
	if to > excerptWidth {
		from = min(max(col-excerptWidth/2, 0), len(rs)-excerptWidth)
		to = from + excerptWidth
	}
	var sb, pb strings.Builder
	if from > 0 {
		sb.WriteString("...")
		pb.WriteString("   ")
	}
	for i, r := range rs[from:to] {
		if r != '\t' && (r == utf8.RuneError || !unicode.IsPrint(r)) {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
		if from+i < col {
			if r == '\t' {
				pb.WriteByte('\t')
			} else {
				pb.WriteByte(' ')
			}
		}
	}
	if to < len(rs) {
		sb.WriteString("...")
	}
	return sb.String(), pb.String()
}

var yamlRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem returns why data is not YAML ("" if it is) and the line
// yaml.v3 gives for it (0 if none).
func yamlProblem(data []byte) (msg string, line int) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return splitYAMLError(err)
	}
	return "", 0
}

func splitYAMLError(err error) (msg string, line int) {
	msg = err.Error()
	if m := yamlRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		return m[2], line
	}
	return strings.TrimPrefix(msg, "yaml: "), 0
}

// maxLocate is the largest file whose YAML syntax errors syntaxError
// looks for, parsing up to 40 heads of it; policy files are a few KiB.
const maxLocate = 64 << 10

// syntaxError turns a yaml.v3 error into an Error at the fault.
//
// yaml.v3 gives no column, and for its line the start of what it was
// reading when it noticed: the opening of a mapping many lines up, counted
// from 0 rather than 1 for parser errors. The fault is found instead as
// the shortest head of the file that fails with the same message: first
// whole lines, then characters of the last line. A missing ']' or '}' is
// at the end of the line that leaves its list or mapping open; a fault at
// the start of a line is about its indentation, so the line above is
// shown too. Where no head fails like the file, or the file is too large
// to search, the error stays on yaml.v3's line, with the line above.
func (s *source) syntaxError(file string, err error) *Error {
	msg, line := splitYAMLError(err)
	e := &Error{Pos: Pos{file, max(line, 1), 1}, Msg: "YAML syntax: " + msg, before: true}
	n := len(s.lines)
	if n == 0 || len(s.data) > maxLocate {
		return e
	}
	fails := func(end int) bool { m, _ := yamlProblem(s.data[:end]); return m == msg }
	// The shortest run of whole lines that fails like the file.
	f := 1 + sort.Search(n, func(i int) bool { return fails(s.lines[i].next) })
	if f > n {
		return e
	}
	text, _ := s.line(f)
	var ends []int // ends[c]: the length of the line's first c+1 characters
	for i := range text {
		if i > 0 {
			ends = append(ends, i)
		}
	}
	if text != "" {
		ends = append(ends, len(text))
	}
	var col int
	switch {
	case strings.HasPrefix(msg, "did not find expected ',' or "):
		col = len([]rune(strings.TrimRight(stripComment(text), " \t"))) + 1
	case strings.HasPrefix(msg, "unknown anchor '"):
		name := strings.TrimSuffix(strings.TrimPrefix(msg, "unknown anchor '"), "' referenced")
		if i := strings.Index(text, "*"+name); i >= 0 {
			col = utf8.RuneCountInString(text[:i]) + 1
		}
	default:
		// The shortest head of the line that fails like the file.
		start := s.lines[f-1].start
		c := sort.Search(len(ends), func(c int) bool { return fails(start + ends[c]) })
		if c < len(ends) {
			col = c + 1
		}
	}
	indent := len(text) - len(strings.TrimLeft(text, " \t")) + 1
	if i := strings.IndexByte(text, ':'); col == 0 || i >= 0 && utf8.RuneCountInString(text[:i])+1 == col {
		// Nothing found, or the colon after the line's first key, where
		// yaml.v3 notices that the key is not where a key can be: the
		// fault is the key's indentation.
		col = indent
	}
	e.Pos.Line, e.Pos.Col, e.before = f, col, col == indent
	return e
}

// stripComment returns line without its comment: from a # that starts
// the line or follows white space, outside quoted text.
func stripComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == '"' && c == '\\':
			i++ // the escaped character
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case (c == '"' || c == '\'') && (i == 0 || strings.IndexByte(" \t[{,:", line[i-1]) >= 0):
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}
