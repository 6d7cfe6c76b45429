package tlshello

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// ECHConfigVersion is the ECHConfig version this package reads
// (draft-ietf-tls-esni-13 and later; the version the ECH extension
// 0xfe0d belongs to).
const ECHConfigVersion uint16 = 0xfe0d

// ECHPublicNames appends to dst the public_name of every ECHConfig in an
// ECHConfigList, the value of the ech SvcParam of a DNS HTTPS or SVCB
// record (draft-ietf-tls-esni section 4, draft-ietf-tls-svcb-ech):
//
//	ECHConfigList: uint16 length, then ECHConfigs
//	ECHConfig:     uint16 version, uint16 length, contents
//	contents (0xfe0d): uint8 config_id, uint16 kem_id,
//	               opaque public_key<1..2^16-1>,
//	               HpkeSymmetricCipherSuite cipher_suites<4..2^16-4>,
//	               uint8 maximum_name_length, opaque public_name<1..255>,
//	               Extension extensions<0..2^16-1>
//
// The public name is the name a client that uses the config puts in the
// outer ClientHello's server_name. Configs of other versions are skipped
// by their length, as clients do. Names are ASCII lower-cased; a name
// that validHostName rejects is skipped. A list whose lengths do not add
// up returns an error wrapping ErrMalformed together with the names read
// before the fault.
func ECHPublicNames(dst []string, list []byte) ([]string, error) {
	s := cryptobyte.String(list)
	var configs cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&configs) || !s.Empty() {
		return dst, fmt.Errorf("ECHConfigList length: %w", ErrMalformed)
	}
	for !configs.Empty() {
		var version uint16
		var contents cryptobyte.String
		if !configs.ReadUint16(&version) || !configs.ReadUint16LengthPrefixed(&contents) {
			return dst, fmt.Errorf("ECHConfig header: %w", ErrMalformed)
		}
		if version != ECHConfigVersion {
			continue
		}
		var (
			configID, maxNameLen uint8
			kem                  uint16
			pub, suites, name    cryptobyte.String
		)
		if !contents.ReadUint8(&configID) || !contents.ReadUint16(&kem) ||
			!contents.ReadUint16LengthPrefixed(&pub) || pub.Empty() ||
			!contents.ReadUint16LengthPrefixed(&suites) || len(suites) < 4 || len(suites)%4 != 0 ||
			!contents.ReadUint8(&maxNameLen) ||
			!contents.ReadUint8LengthPrefixed(&name) {
			return dst, fmt.Errorf("ECHConfig 0x%04x contents: %w", version, ErrMalformed)
		}
		if validHostName(name) {
			dst = append(dst, lowerString("", name))
		}
	}
	return dst, nil
}
