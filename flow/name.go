package flow

// NameSource says how a destination's name is known. Sources are ordered
// by strength: a flow named by a stronger source is not renamed by a
// weaker one.
type NameSource uint8

// Name sources, weakest first.
const (
	NameNone NameSource = iota // zero value: unnamed
	NameDNS                    // the passive DNS cache: an answer seen before the flow
	NameHTTP                   // HTTP Host header
	NameSNI                    // TLS ClientHello server_name
	NameQUIC                   // QUIC ClientHello server_name
)

// NumNameSources is the number of name sources, NameNone included, for
// arrays indexed by NameSource.
const NumNameSources = int(NameQUIC) + 1

var nameSources = [NumNameSources]string{"", "dns", "http", "sni", "quic"}

// String returns the source as events spell it (egresswatch.name_source):
// "dns", "http", "sni", "quic", or "" for NameNone.
func (s NameSource) String() string {
	if int(s) < len(nameSources) {
		return nameSources[s]
	}
	return ""
}
