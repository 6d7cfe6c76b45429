package output

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "example.com", `"example.com"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"named controls", "a\nb\rc\td", `"a\nb\rc\td"`},
		{"other controls", "\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"del kept", "\x7f", "\"\x7f\""},
		{"utf8 kept", "bücher.de 日本", `"bücher.de 日本"`},
		{"invalid byte", "a\xffb", `"a\ufffdb"`},
		{"truncated rune", "a\xe6\x97", `"a\ufffd\ufffd"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"html left alone", "<a>&", `"<a>&"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(appendString([]byte("x"), c.in))
			if got != "x"+c.want {
				t.Errorf("appendString(%q) = %s, want %s", c.in, got[1:], c.want)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", `"\`, "\x00\n\r\t\x1f", "\xff\xfe", "\u2028\u2029", "日本語", "\xe6\x97", "\xed\xa0\x80", "a\x80b", "\U0010ffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		doc := append(append([]byte(`{"k":`), out...), '}')
		if !json.Valid(doc) {
			t.Fatalf("invalid JSON for %q: %s", s, doc)
		}
		var v struct{ K string }
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatalf("unmarshal %s: %v", doc, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = replaceInvalidPerByte(s)
		}
		if v.K != want {
			t.Fatalf("round trip %q -> %s -> %q, want %q", s, out, v.K, want)
		}
		// Only printable ASCII bytes appear unescaped below 0x80.
		for _, c := range out[1 : len(out)-1] {
			if c < 0x20 {
				t.Fatalf("raw control byte %#x in %s", c, out)
			}
		}
	})
}

// replaceInvalidPerByte replaces each byte that does not start a valid
// UTF-8 sequence with U+FFFD, as utf8.DecodeRuneInString steps.
func replaceInvalidPerByte(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
