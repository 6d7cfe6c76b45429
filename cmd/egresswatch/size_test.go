package main

import "testing"

func TestByteSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true}, {"1GiB", 1 << 30, true}, {"300MB", 300e6, true},
		{"64K", 64 << 10, true}, {"1048576", 1 << 20, true}, {"0", 0, false}, {"-5MiB", 0, false},
		{"lots", 0, false}, {"12XB", 0, false},
	} {
		var b byteSize
		err := b.Set(tt.in)
		if (err == nil) != tt.ok || (tt.ok && int64(b) != tt.want) {
			t.Errorf("Set(%q) = %d, %v; want %d, ok=%v", tt.in, b, err, tt.want, tt.ok)
		}
	}
}
