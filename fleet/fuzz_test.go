package fleet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseAlertFields: the collector's JSON scanner agrees with
// json.Unmarshal on every input: it accepts what json.Unmarshal accepts
// (and reads the same fields) and rejects what it rejects.
func FuzzParseAlertFields(f *testing.F) {
	for _, s := range []string{
		alertLine,
		`{"@timestamp":"2025-03-11T09:00:00Z","rule":{"id":"a\"b\\u00e9"},"message":"x}{][","egresswatch":{"group":["g\n1","g2"],"service":"s"}}`,
		` { "event" : { "action" : null } , "egresswatch" : { "group" : null , "evidence" : { "suppressed_count" : 3 } } , "n" : [ 1 , -2.5e3 , true , { } , [ ] ] } `,
		`{"egresswatch":{"group":[],"country":"GB"}}`,
		alertLine[:500], alertLine + "x", ``, `[]`, `{"rule":{"id":1}}`, `{"egresswatch":{"evidence":{"suppressed_count":-1}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var want, got alertFields
		werr := json.Unmarshal(line, &want)
		ok := parseAlertFields(line, &got)
		if ok != (werr == nil) {
			t.Fatalf("parseAlertFields ok = %v; json.Unmarshal error %v; input %q", ok, werr, line)
		}
		if len(want.Egresswatch.Group) == 0 && len(got.Egresswatch.Group) == 0 {
			want.Egresswatch.Group, got.Egresswatch.Group = nil, nil
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v; want %+v; input %q", got, want, line)
		}
	})
}

// FuzzParsePackID: ids read back into what made them; any other string
// is refused or read without a panic.
func FuzzParsePackID(f *testing.F) {
	f.Add("site-7.lq3x9a-1f2e.a", uint64(42), 256, "site-7.lq3x9a-1f2e.a.42+256")
	f.Add("s.r.e", uint64(1), 1, "x")
	f.Add("", uint64(0), 0, "+.+")
	f.Fuzz(func(t *testing.T, stream string, seq uint64, n int, other string) {
		ParsePackID(other) // must not panic
		ParseSubject(other)
		if n < 1 || strings.ContainsAny(stream, "+") || stream == "" {
			return
		}
		id := packID(&Msg{Stream: stream, Seq: seq}, n)
		s, first, c, ok := ParsePackID(id)
		if !ok || s != stream || first != seq || c != n {
			t.Fatalf("ParsePackID(%q) = %q %d %d %v, want %q %d %d", id, s, first, c, ok, stream, seq, n)
		}
	})
}

// FuzzSpoolSegment: a spool whose segment file holds anything at all
// (a disk error, a file written by hand) opens without a panic; what it
// holds is read back as whole records or reported as an error, and new
// records put after it are read back intact.
func FuzzSpoolSegment(f *testing.F) {
	good := t0Segment(f)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte{200, 0, 0, 0, 1, 2, 3, 4})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, seg []byte) {
		dir := t.TempDir()
		qdir := filepath.Join(dir, KindAlert.String())
		if err := os.MkdirAll(qdir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(qdir, "00000000000000000000.seg"), seg, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenSpool(dir, 1<<20, nil)
		if err != nil {
			return // refused: fine, as long as it says so
		}
		defer s.Close()
		q := s.queue(KindAlert)
		old := q.Len()
		if err := q.Put(Msg{Kind: KindAlert, Stream: "s.r.a", Seq: 1, Data: []byte(`{"new":1}`)}); err != nil {
			t.Fatal(err)
		}
		var all []Msg
		for from := uint64(0); ; {
			got, err := q.Peek(nil, from, 64)
			if err != nil {
				return // a record it cannot read: reported
			}
			if len(got) == 0 {
				break
			}
			all = append(all, got...)
			from = got[len(got)-1].Num + 1
		}
		if len(all) != old+1 || string(all[len(all)-1].Data) != `{"new":1}` || all[len(all)-1].ID() != "s.r.a.1" {
			t.Fatalf("read %d records (want %d), last %q %q", len(all), old+1, all[len(all)-1].Data, all[len(all)-1].ID())
		}
	})
}

// t0Segment returns the bytes of a segment holding three records.
func t0Segment(f *testing.F) []byte {
	dir := f.TempDir()
	s, err := OpenSpool(dir, 1<<20, nil)
	if err != nil {
		f.Fatal(err)
	}
	q := s.queue(KindAlert)
	for i := uint64(1); i <= 3; i++ {
		q.Put(Msg{Kind: KindAlert, Stream: "s.r.a", Seq: i, Data: []byte(`{"n":1}`)})
	}
	s.Close()
	b, err := os.ReadFile(filepath.Join(dir, KindAlert.String(), "00000000000000000000.seg"))
	if err != nil {
		f.Fatal(err)
	}
	return b
}
