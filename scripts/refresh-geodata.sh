#!/usr/bin/env bash
# refresh-geodata.sh DIR [EGRESSWATCH]: refresh the placement data a sensor uses, unattended
# (deploy/egresswatch-geodata.timer runs it daily), and keep the old data on any failure.
#
#   1. the GeoIP files (the ip-location-db country MMDB and ASN CSVs, via `npm pack`, as
#      mk/geodata.mk fetches them) are unpacked into a folder beside DIR and checked: egresswatch
#      must open them and place an address with them; only then is each moved into DIR with a
#      rename, so a sensor never reads half a file;
#   2. the cloud provider range files are fetched with `egresswatch geo fetch --dir DIR`, which
#      writes a file only once it parses and keeps the old ones when offline (REFRESH_CLOUD_FROM=SRC
#      imports local copies instead, REFRESH_CLOUD=no skips this step);
#   3. the sensor is told to reload (REFRESH_RELOAD, default `systemctl reload egresswatch` when
#      systemd runs; set it empty to skip), which swaps the data atomically or keeps the old.
# Exit status: 0 when everything was refreshed, 1 when a step failed (what it had is kept).
set -euo pipefail
DIR=${1:?usage: refresh-geodata.sh DIR [EGRESSWATCH]}
EW=${2:-egresswatch}
NPM=${NPM:-npm}
COUNTRY_PKG=@ip-location-db/geo-whois-asn-country-mmdb
ASN_PKG=@ip-location-db/asn
if [ -z "${REFRESH_RELOAD+x}" ]; then
	REFRESH_RELOAD=""
	if [ -d /run/systemd/system ]; then REFRESH_RELOAD="systemctl reload egresswatch"; fi
fi

mkdir -p "$DIR"
stage=$(mktemp -d "$DIR/.refresh.XXXXXX") # same filesystem as DIR: the moves below are renames
trap 'rm -rf "$stage"' EXIT
say() { echo "refresh-geodata: $*" >&2; }

status=0
if (cd "$stage" && "$NPM" pack --silent "$COUNTRY_PKG" >/dev/null && "$NPM" pack --silent "$ASN_PKG" >/dev/null) &&
	tar -xzf "$stage"/ip-location-db-geo-whois-asn-country-mmdb-*.tgz -C "$stage" --strip-components=1 package/geo-whois-asn-country.mmdb &&
	tar -xzf "$stage"/ip-location-db-asn-*.tgz -C "$stage" --strip-components=1 package/asn-ipv4.csv package/asn-ipv6.csv &&
	"$EW" lookup --geoip "$stage/geo-whois-asn-country.mmdb" --geoip "$stage/asn-ipv4.csv" --geoip "$stage/asn-ipv6.csv" 1.1.1.1 >/dev/null; then
	for f in geo-whois-asn-country.mmdb asn-ipv4.csv asn-ipv6.csv; do
		mv -f "$stage/$f" "$DIR/$f"
	done
	say "GeoIP files refreshed in $DIR"
else
	say "GeoIP files not refreshed (see above); the old ones are kept"
	status=1
fi

if [ "${REFRESH_CLOUD:-yes}" != no ]; then
	from=()
	if [ -n "${REFRESH_CLOUD_FROM:-}" ]; then from=(--from "$REFRESH_CLOUD_FROM"); fi
	if ! "$EW" geo fetch --dir "$DIR" "${from[@]}"; then
		say "cloud range files not refreshed; the old ones are kept"
		status=1
	fi
fi

if [ -n "$REFRESH_RELOAD" ]; then
	$REFRESH_RELOAD || { say "reload failed: $REFRESH_RELOAD"; status=1; }
fi
exit $status
