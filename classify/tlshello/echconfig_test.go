package tlshello

import (
	"encoding/base64"
	"errors"
	"reflect"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// rawECHConfig builds one ECHConfig of the given version around contents.
func rawECHConfig(version uint16, contents []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint16(version)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	return b.BytesOrPanic()
}

// echList wraps configs in an ECHConfigList.
func echList(configs ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, c := range configs {
			b.AddBytes(c)
		}
	})
	return b.BytesOrPanic()
}

func TestECHPublicNames(t *testing.T) {
	_, one, _ := echConfigList(t, 7, "Public.Example.NET")
	_, two, _ := echConfigList(t, 8, "second.example.com")
	// A config of a future version whose layout this parser does not know.
	future := rawECHConfig(0xfe0e, []byte("anything at all"))
	// A public name with a space: not a host name, skipped.
	_, spaced, _ := echConfigList(t, 9, "bad name")
	// Cut in the middle of the public key.
	cut := one[:12]
	// A hand-made list published in DNS test data elsewhere whose outer
	// length (70) claims more than the 61 bytes that follow.
	// Cloudflare's config as served in its HTTPS records (zeek-dns-ech.pcap).
	cloudflare, _ := base64.StdEncoding.DecodeString("AEX+DQBBdAAgACDB6UNjy9kyv48V6cEOb99HnrfJuiTGKjW9A05sDxhcKQAEAAEAAQASY2xvdWRmbGFyZS1lY2guY29tAAA=")
	liar, _ := base64.StdEncoding.DecodeString("AEb+DQBCAQAgACBhbGwgdGhpcyBpcyB0ZXN0IGRhdGEgb25seSEhISEAAQABAA9wdWJsaWMuZXhhbXBsZQAA")
	tests := []struct {
		name    string
		list    []byte
		want    []string
		wantErr bool
	}{
		{"cloudflare", cloudflare, []string{"cloudflare-ech.com"}, false},
		{"one config", echList(one), []string{"public.example.net"}, false},
		{"two configs", echList(one, two), []string{"public.example.net", "second.example.com"}, false},
		{"unknown version skipped", echList(future, two), []string{"second.example.com"}, false},
		{"invalid name skipped", echList(spaced, two), []string{"second.example.com"}, false},
		{"empty list", echList(), nil, false},
		{"truncated config", echList(two, rawECHConfig(0xfe0d, cut[4:])), []string{"second.example.com"}, true},
		{"header cut", echList(two, []byte{0xfe}), []string{"second.example.com"}, true},
		{"outer length too long", liar, nil, true},
		{"trailing bytes", append(echList(one), 0), nil, true},
		{"nil", nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ECHPublicNames(nil, tc.list)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("names = %q; want %q", got, tc.want)
			}
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Errorf("err = %v; want error %v wrapping ErrMalformed", err, tc.wantErr)
			}
		})
	}
}

func TestECHPublicNamesAppends(t *testing.T) {
	list, _, _ := echConfigList(t, 1, "a.example")
	got, err := ECHPublicNames([]string{"kept"}, list)
	if err != nil || !reflect.DeepEqual(got, []string{"kept", "a.example"}) {
		t.Fatalf("ECHPublicNames = %q, %v; want [kept a.example]", got, err)
	}
}

func FuzzECHPublicNames(f *testing.F) {
	list, one, _ := echConfigList(f, 3, "public.example.net")
	f.Add(list)
	f.Add(echList(one, rawECHConfig(0xfe0e, []byte{1, 2, 3}), one))
	f.Add(list[:len(list)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		names, err := ECHPublicNames(nil, b)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		for _, n := range names {
			if !validHostName([]byte(n)) || len(n) > 255 {
				t.Fatalf("invalid public name %q returned", n)
			}
			for i := 0; i < len(n); i++ {
				if 'A' <= n[i] && n[i] <= 'Z' {
					t.Fatalf("public name %q is not lower-cased", n)
				}
			}
		}
	})
}
