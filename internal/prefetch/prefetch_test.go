package prefetch

import "testing"

// TestLine: a hint changes nothing the program can see, for any address
// in a buffer, including its last byte.
func TestLine(t *testing.T) {
	b := []byte("frame bytes")
	for i := range b {
		Line(&b[i])
	}
	if string(b) != "frame bytes" {
		t.Fatalf("buffer changed: %q", b)
	}
}

func BenchmarkLine(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Line(&buf[i&(len(buf)-1)])
		i += 64
	}
}
