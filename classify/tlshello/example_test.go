package tlshello

import "fmt"

// A ClientHello split over two TLS records, arriving in two TCP segments.
func ExampleAssemble() {
	msg := helloSpec{0x0303, []uint16{0x1301}, []ext{sniExt("Example.ORG"), alpnExt("h2", "http/1.1")}, false}.build()
	stream := frame(msg, 40) // two records
	scratch := make([]byte, 0, 512)

	_, st, need := Assemble(stream[:30], scratch) // first segment
	fmt.Println(LooksLikeTLS(stream[:30]), st, need > 0)

	hello, st, _ := Assemble(stream, scratch) // both segments
	h, err := Parse(hello)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st, h.ServerName, h.ALPN)
	// Output:
	// true need-more true
	// complete example.org [h2 http/1.1]
}
