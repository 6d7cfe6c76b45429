package initialseal

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// TestClientKeysRFC9001 checks the key schedule against the client Initial
// keys of RFC 9001 Appendix A.1 (QUIC v1 salt, DCID 0x8394c8f03e515708):
// the same derivation as Q050's, with another salt.
func TestClientKeysRFC9001(t *testing.T) {
	salt, _ := hex.DecodeString("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
	dcid, _ := hex.DecodeString("8394c8f03e515708")
	key, iv, hp, err := clientKeys(salt, dcid)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"key", key, "1f369613dd76d5467730efcbe3b1a22d"},
		{"iv", iv, "fa044b2f42a3fd3b46fb255c"},
		{"hp", hp, "9f50449e04a0e810283a1e9933adedd2"},
	} {
		if h := hex.EncodeToString(c.got); h != c.want {
			t.Errorf("client %s = %s; want %s", c.name, h, c.want)
		}
	}
}

func TestSealShape(t *testing.T) {
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	pkt, err := Seal(Initial{DCID: dcid, PN: 1, Frames: CryptoFrame(0, CHLO("a.example")), Size: 1350})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkt) != 1350 {
		t.Errorf("len = %d; want 1350", len(pkt))
	}
	if pkt[0]&0xf0 != 0xc0 || binary.BigEndian.Uint32(pkt[1:5]) != Version || !bytes.Equal(pkt[6:14], dcid) {
		t.Errorf("header % x", pkt[:16])
	}
}

func TestMessage(t *testing.T) {
	m := Message("CHLO", Tag{"SNI", []byte("ab")}, Tag{"PAD", []byte{0}})
	want := []byte("CHLO\x02\x00\x00\x00PAD\x00\x01\x00\x00\x00SNI\x00\x03\x00\x00\x00\x00ab")
	if !bytes.Equal(m, want) {
		t.Errorf("Message = %q; want %q", m, want)
	}
}
