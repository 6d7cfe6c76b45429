package tlshello

import (
	"errors"
	"fmt"
	"net/netip"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
)

// Errors returned (wrapped, with context) by Parse and ParseInto. Compare
// with errors.Is.
var (
	// ErrTruncated: the message ends before its declared length. A QUIC
	// caller reassembling CRYPTO frames can wait for more data.
	ErrTruncated = errors.New("tlshello: truncated ClientHello")
	// ErrNotClientHello: the handshake type is not 1 (ClientHello).
	ErrNotClientHello = errors.New("tlshello: not a ClientHello")
	// ErrMalformed: a length or field is inconsistent.
	ErrMalformed = errors.New("tlshello: malformed ClientHello")
)

// TLS extension code points read by the parser.
const (
	ExtServerName          uint16 = 0x0000
	ExtSupportedGroups     uint16 = 0x000a
	ExtSignatureAlgorithms uint16 = 0x000d
	ExtALPN                uint16 = 0x0010
	ExtSupportedVersions   uint16 = 0x002b
	ExtKeyShare            uint16 = 0x0033
	ExtQUICTransportParams uint16 = 0x0039
	ExtEncryptedClientHelo uint16 = 0xfe0d
	ExtEncryptedServerName uint16 = 0xffce
)

// ClientHello holds the fields of a ClientHello that egresswatch uses. All
// strings are copies; the slices belong to the ClientHello and are reused by
// the next ParseInto into the same value.
type ClientHello struct {
	Version           uint16   // legacy_version
	SupportedVersions []uint16 // supported_versions extension, in order (GREASE kept)
	ServerName        string   // first host_name of server_name, ASCII lower-cased; "" if absent
	ServerNameIsIP    bool     // ServerName is an IPv4 or IPv6 literal (some clients send one)
	// ServerNameInvalid is set when a host_name was present but held
	// control bytes, spaces or invalid UTF-8; ServerName is then "".
	ServerNameInvalid bool
	ALPN              []string // application_layer_protocol_negotiation, in order
	CipherSuites      []uint16 // in order, GREASE kept
	Extensions        []uint16 // extension types in order, GREASE kept
	SupportedGroups   []uint16 // supported_groups, in order
	KeyShares         []uint16 // groups of the key_share entries, in order
	SignatureAlgs     []uint16 // signature_algorithms, in order
	// ECH: an encrypted_client_hello extension (0xfe0d) is present. On the
	// wire this is the outer ClientHello, whose ServerName is the ECH public
	// name (or, for GREASE ECH, the real name).
	ECH bool
	// ECHGrease would tell GREASE ECH from real ECH. The two are
	// indistinguishable on the wire by design (draft-ietf-tls-esni section
	// 6.2: random config_id, enc and payload of plausible sizes), so it is
	// always false; compare ServerName with known ECH public names instead.
	ECHGrease bool
	ECHInner  bool // the extension is the inner variant (type 1): a decrypted inner hello
	ESNI      bool // legacy encrypted_server_name (0xffce) is present
	// QUIC: quic_transport_parameters (0x39) is present.
	QUIC bool
	// JA4 is the FoxIO JA4 fingerprint computed for TLS over TCP ("t"
	// prefix). QUIC callers should use AppendJA4 with 'q'.
	JA4 string

	sortBuf []uint16 // scratch for JA4 sorting
	textBuf []byte   // scratch for JA4 hashing
}

// Parse parses a handshake message as returned by Assemble, or the start of
// the CRYPTO stream of a QUIC Initial (the handshake message without
// records). Bytes after the message are ignored. It never panics; malformed
// input returns an error.
func Parse(msg []byte) (*ClientHello, error) {
	h := new(ClientHello)
	if err := ParseInto(h, msg); err != nil {
		return nil, err
	}
	return h, nil
}

// ParseInto is the allocation-light variant of Parse: it fills h, reusing
// its slices, and copies the strings it keeps (msg is only borrowed). On
// error h holds whatever was parsed before the error and must not be trusted.
func ParseInto(h *ClientHello, msg []byte) error {
	oldName := h.ServerName
	oldALPN := h.ALPN[:cap(h.ALPN)]
	oldJA4 := h.JA4
	h.reset()

	s := cryptobyte.String(msg)
	var typ uint8
	var n uint32
	if !s.ReadUint8(&typ) {
		return fmt.Errorf("handshake type: %w", ErrTruncated)
	}
	if typ != handshakeTypeClientHlo {
		return fmt.Errorf("handshake type %d: %w", typ, ErrNotClientHello)
	}
	if !s.ReadUint24(&n) {
		return fmt.Errorf("handshake length: %w", ErrTruncated)
	}
	if n > MaxHandshakeLen {
		return fmt.Errorf("handshake length %d: %w", n, ErrMalformed)
	}
	if len(s) < int(n) {
		return fmt.Errorf("body of %d bytes, have %d: %w", n, len(s), ErrTruncated)
	}
	body := s[:n]

	var sessionID, suites, compression cryptobyte.String
	if !body.ReadUint16(&h.Version) || !body.Skip(32) {
		return fmt.Errorf("version and random: %w", ErrMalformed)
	}
	if !body.ReadUint8LengthPrefixed(&sessionID) || len(sessionID) > 32 {
		return fmt.Errorf("session id: %w", ErrMalformed)
	}
	if !body.ReadUint16LengthPrefixed(&suites) || len(suites)%2 != 0 || len(suites) == 0 {
		return fmt.Errorf("cipher suites: %w", ErrMalformed)
	}
	for !suites.Empty() {
		var cs uint16
		suites.ReadUint16(&cs)
		h.CipherSuites = append(h.CipherSuites, cs)
	}
	if !body.ReadUint8LengthPrefixed(&compression) || compression.Empty() {
		return fmt.Errorf("compression methods: %w", ErrMalformed)
	}
	if !body.Empty() { // extensions are optional before TLS 1.3
		var exts cryptobyte.String
		if !body.ReadUint16LengthPrefixed(&exts) || !body.Empty() {
			return fmt.Errorf("extensions block: %w", ErrMalformed)
		}
		if err := h.parseExtensions(exts, oldName, oldALPN); err != nil {
			return err
		}
	}
	h.JA4 = ja4String(h, 't', oldJA4)
	return nil
}

func (h *ClientHello) parseExtensions(exts cryptobyte.String, oldName string, oldALPN []string) error {
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return fmt.Errorf("extension %d: %w", len(h.Extensions), ErrMalformed)
		}
		seen := false
		for _, e := range h.Extensions {
			if e == typ {
				seen = true // RFC 8446 forbids duplicates; the first one wins
				break
			}
		}
		h.Extensions = append(h.Extensions, typ)
		if seen {
			continue
		}
		var err error
		switch typ {
		case ExtServerName:
			err = h.parseServerName(data, oldName)
		case ExtALPN:
			err = h.parseALPN(data, oldALPN)
		case ExtSupportedVersions:
			var list cryptobyte.String
			if !data.ReadUint8LengthPrefixed(&list) || len(list)%2 != 0 {
				err = errors.New("supported_versions")
			}
			h.SupportedVersions, err = appendUint16s(h.SupportedVersions, list, err)
		case ExtSupportedGroups:
			var list cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) || len(list)%2 != 0 {
				err = errors.New("supported_groups")
			}
			h.SupportedGroups, err = appendUint16s(h.SupportedGroups, list, err)
		case ExtSignatureAlgorithms:
			var list cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) || len(list)%2 != 0 {
				err = errors.New("signature_algorithms")
			}
			h.SignatureAlgs, err = appendUint16s(h.SignatureAlgs, list, err)
		case ExtKeyShare:
			err = h.parseKeyShare(data)
		case ExtEncryptedClientHelo:
			// ECHClientHello: type 0 outer (cipher suite, config_id, enc,
			// payload), type 1 inner (empty). Presence is what matters.
			h.ECH = true
			var echType uint8
			if data.ReadUint8(&echType) && echType == 1 {
				h.ECHInner = true
			}
		case ExtEncryptedServerName:
			h.ESNI = true
		case ExtQUICTransportParams:
			h.QUIC = true
		}
		if err != nil {
			return fmt.Errorf("extension %#04x: %v: %w", typ, err, ErrMalformed)
		}
	}
	return nil
}

// appendUint16s appends the big-endian uint16 values of list (even length,
// checked by the caller) unless err is already set.
func appendUint16s(dst []uint16, list cryptobyte.String, err error) ([]uint16, error) {
	if err != nil {
		return dst, err
	}
	for !list.Empty() {
		var v uint16
		list.ReadUint16(&v)
		dst = append(dst, v)
	}
	return dst, nil
}

func (h *ClientHello) parseKeyShare(data cryptobyte.String) error {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return errors.New("key_share")
	}
	for !list.Empty() {
		var group uint16
		var key cryptobyte.String
		if !list.ReadUint16(&group) || !list.ReadUint16LengthPrefixed(&key) {
			return errors.New("key_share entry")
		}
		h.KeyShares = append(h.KeyShares, group)
	}
	return nil
}

// reset empties h and keeps its buffers.
func (h *ClientHello) reset() {
	*h = ClientHello{
		SupportedVersions: h.SupportedVersions[:0],
		ALPN:              h.ALPN[:0],
		CipherSuites:      h.CipherSuites[:0],
		Extensions:        h.Extensions[:0],
		SupportedGroups:   h.SupportedGroups[:0],
		KeyShares:         h.KeyShares[:0],
		SignatureAlgs:     h.SignatureAlgs[:0],
		sortBuf:           h.sortBuf[:0],
		textBuf:           h.textBuf[:0],
	}
}

// SetServerName makes h a hello that says nothing but a server name: what a
// Google QUIC CHLO tells (its SNI tag). name is checked and lower-cased as a
// server_name extension's host_name is; nil leaves ServerName empty. name
// is copied.
func (h *ClientHello) SetServerName(name []byte) {
	old := h.ServerName
	h.reset()
	if name != nil {
		h.setHostName(old, name)
	}
}

// setHostName sets ServerName (or ServerNameInvalid) from a host_name.
func (h *ClientHello) setHostName(old string, name []byte) {
	if !validHostName(name) {
		h.ServerNameInvalid = true
		return
	}
	h.ServerName = lowerString(old, name)
	h.ServerNameIsIP = isIPLiteral(h.ServerName)
}

// parseServerName reads a ServerNameList (RFC 6066 section 3) and keeps the
// first host_name entry.
func (h *ClientHello) parseServerName(data cryptobyte.String, old string) error {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return errors.New("server_name list")
	}
	for !list.Empty() {
		var nameType uint8
		var name cryptobyte.String
		if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
			return errors.New("server_name entry")
		}
		if nameType != 0 || h.ServerName != "" || h.ServerNameInvalid {
			continue
		}
		h.setHostName(old, name)
	}
	return nil
}

// validHostName rejects empty names, control bytes, spaces, DEL and
// invalid UTF-8. Everything else is kept as sent.
func validHostName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	ascii := true
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(b)
}

// lowerString returns b with ASCII upper case folded, as a string. It returns
// old instead of allocating when the result equals it.
func lowerString(old string, b []byte) string {
	upper := false
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			upper = true
			break
		}
	}
	if !upper {
		if old == string(b) {
			return old
		}
		return string(b)
	}
	var buf [256]byte
	lb := buf[:0]
	if len(b) > len(buf) {
		lb = make([]byte, 0, len(b))
	}
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lb = append(lb, c)
	}
	if old == string(lb) {
		return old
	}
	return string(lb)
}

// isIPLiteral reports whether name is an IPv4 or IPv6 address literal
// (IPv6 possibly in brackets). Ordinary names are rejected without calling
// the address parser.
func isIPLiteral(name string) bool {
	maybe := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == ':' {
			maybe = true
			break
		}
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
		maybe = true
	}
	if !maybe {
		return false
	}
	if len(name) > 2 && name[0] == '[' && name[len(name)-1] == ']' {
		name = name[1 : len(name)-1]
	}
	_, err := netip.ParseAddr(name)
	return err == nil
}

// parseALPN reads a ProtocolNameList (RFC 7301 section 3.1).
func (h *ClientHello) parseALPN(data cryptobyte.String, old []string) error {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return errors.New("alpn list")
	}
	for !list.Empty() {
		var proto cryptobyte.String
		if !list.ReadUint8LengthPrefixed(&proto) || proto.Empty() {
			return errors.New("alpn entry")
		}
		i := len(h.ALPN)
		var prev string
		if i < len(old) {
			prev = old[i]
		}
		h.ALPN = append(h.ALPN, alpnString(prev, proto))
	}
	return nil
}

// alpnString returns b as a string without allocating for the common
// protocol IDs or when it equals prev.
func alpnString(prev string, b []byte) string {
	switch string(b) {
	case "h2":
		return "h2"
	case "http/1.1":
		return "http/1.1"
	case "h3":
		return "h3"
	case "http/1.0":
		return "http/1.0"
	case "dot":
		return "dot"
	case "doq":
		return "doq"
	case "acme-tls/1":
		return "acme-tls/1"
	}
	if prev == string(b) {
		return prev
	}
	return string(b)
}
