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
	packLines = 512
	packBytes = 256 << 10
)

// pack returns the message holding the leading records of batch that go
// together (one id stream, consecutive sequences, within the bounds; at
// least the first record) and how many it holds. Its Data may be buf's
// memory (buf is returned, grown, for the next pack) or the records' own.
func pack(subj string, batch []Msg, buf []byte) (m *nats.Msg, n int, _ []byte) {
	n, size := 1, len(batch[0].Data)
	for n < min(len(batch), packLines) && size+1+len(batch[n].Data) <= packBytes &&
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
