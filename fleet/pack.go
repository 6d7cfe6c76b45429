package fleet

import (
	"strconv"
	"strings"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
)

// A message to the broker packs up to packLines records of one kind, one
// JSON line each, separated by newlines: the broker stores, acknowledges
// and de-duplicates a pack, not each record. Fewer, larger messages cost
// the broker far less (its work is mostly per message: a wake-up, a read,
// a write to its store, an acknowledgement).
const packLines = 4096

// packBytes bounds the records a pack holds (unless one record is larger)
// so that the message fits the broker's max_payload (maxPayload, as its
// INFO says; 0 before it has said) with room for the headers, however
// little S2 shrinks the records when compress is set; and at 1 MiB.
func packBytes(maxPayload int64, compress bool) int {
	const headroom = 4 << 10 // Nats-Msg-Id, Content-Encoding
	if maxPayload <= 0 {
		maxPayload = 1 << 20 // the server's default
	}
	room := int(min(maxPayload, 2<<20)) - headroom
	n := min(room, 1<<20)
	if compress {
		// The largest n whose worst-case encoding fits.
		lo, hi := 0, n
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if s2.MaxEncodedLen(mid) <= room && s2.MaxEncodedLen(mid) > 0 {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		n = lo
	}
	return max(n, 1)
}

// pack returns the message holding the leading records of batch that go
// together (one id stream, consecutive sequences, packLines and limit
// bytes at most; at least the first record) and how many it holds. Its
// Data may be buf's memory (buf is returned, grown, for the next pack) or
// the records' own.
func pack(subj string, batch []Msg, limit int, buf []byte) (m *nats.Msg, n int, _ []byte) {
	n, size := 1, len(batch[0].Data)
	for n < min(len(batch), packLines) && size+1+len(batch[n].Data) <= limit &&
		batch[n].Stream == batch[0].Stream && batch[n].Seq == batch[0].Seq+uint64(n) {
		size += 1 + len(batch[n].Data)
		n++
	}
	if n == 1 {
		return &nats.Msg{Subject: subj, Data: batch[0].Data}, 1, buf
	}
	if data, ok := adjacent(batch[:n]); ok {
		return &nats.Msg{Subject: subj, Data: data}, n, buf
	}
	if cap(buf) < size {
		buf = make([]byte, 0, max(size, limit)) // once: grown by append, it would fault page by page again and again
	}
	data := buf[:0]
	for i := range n {
		if i > 0 {
			data = append(data, '\n')
		}
		data = append(data, batch[i].Data...)
	}
	return &nats.Msg{Subject: subj, Data: data}, n, data
}

// packID is the Nats-Msg-Id of a pack of n records whose first is first:
// first's id for one record, else that id+"+"+n, e.g.
// "site-7.lq3x9a-1f2e.a.42+256". A pack sent again after a failure holds
// the same records, so the broker drops the copy; record i's own id
// (event.id at the collector) is its stream and the sequence first+i.
func packID(first *Msg, n int) string {
	b := make([]byte, 0, len(first.Stream)+24)
	b = first.AppendID(b)
	if n > 1 {
		b = strconv.AppendInt(append(b, '+'), int64(n), 10)
	}
	return string(b)
}

// ParsePackID splits an id made by packID (or MsgID): the stream it counts
// in, the sequence of its first record and how many records it packs.
func ParsePackID(id string) (stream string, first uint64, n int, ok bool) {
	n = 1
	if i := strings.LastIndexByte(id, '+'); i > strings.LastIndexByte(id, '.') {
		c, err := strconv.Atoi(id[i+1:])
		if err != nil || c < 1 {
			return "", 0, 0, false
		}
		n, id = c, id[:i]
	}
	stream, first, ok = ParseMsgID(id)
	return stream, first, n, ok
}

// adjacent returns the records' lines as the one slice of memory they
// occupy, each but the last followed by its newline (lines Put copied in
// a row, into one slab), if they do.
func adjacent(batch []Msg) ([]byte, bool) {
	first := batch[0].Data
	end := len(first)
	for _, m := range batch[1:] {
		full := first[:cap(first)]
		if end+1 >= len(full) || len(m.Data) == 0 || full[end] != '\n' || &full[end+1] != &m.Data[0] {
			return nil, false
		}
		end += 1 + len(m.Data)
	}
	return first[:end:end], true
}
