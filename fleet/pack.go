package fleet

import (
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
)

// A message to the broker packs up to packLines records of one kind (and
// at most packBytes of them, unless one record is larger), one JSON line
// each, separated by newlines: the broker stores, acknowledges and
// de-duplicates a pack, not each record.
const (
	packLines = 256
	packBytes = 64 << 10
)

// pack returns the message holding the leading records of batch that go
// together (one id stream, consecutive sequences, within the bounds; at
// least the first record) and how many it holds.
func pack(subj string, batch []Msg) (*nats.Msg, int) {
	n, size := 1, len(batch[0].Data)
	if len(batch) > 1 {
		if stream, seq, ok := ParseMsgID(batch[0].ID); ok {
			for n < min(len(batch), packLines) && size+1+len(batch[n].Data) <= packBytes {
				s, q, ok := ParseMsgID(batch[n].ID)
				if !ok || q != seq+uint64(n) || s != stream {
					break
				}
				size += 1 + len(batch[n].Data)
				n++
			}
		}
	}
	if n == 1 {
		return &nats.Msg{Subject: subj, Data: batch[0].Data}, 1
	}
	if data, ok := adjacent(batch[:n]); ok {
		return &nats.Msg{Subject: subj, Data: data}, n
	}
	data := make([]byte, 0, size)
	for i := range n {
		if i > 0 {
			data = append(data, '\n')
		}
		data = append(data, batch[i].Data...)
	}
	return &nats.Msg{Subject: subj, Data: data}, n
}

// packID is the Nats-Msg-Id of a pack of n records whose first has the
// id first: first itself for one record, else first+"+"+n, e.g.
// "site-7.lq3x9a-1f2e.a.42+256". A pack sent again after a failure holds
// the same records, so the broker drops the copy; record i's own id
// (event.id at the collector) is its stream and the sequence first+i.
func packID(first string, n int) string {
	if n == 1 {
		return first
	}
	return first + "+" + strconv.Itoa(n)
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
