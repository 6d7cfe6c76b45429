# make geodata: free placement data into $(GEODATA_DIR) (git-ignored), no account needed.
#   - country: @ip-location-db/geo-whois-asn-country-mmdb (CC BY 4.0, NRO data), via `npm pack`
#   - ASN:     @ip-location-db/asn, asn-ipv4.csv and asn-ipv6.csv (CC BY 4.0: RouteViews, NRO, DB-IP)
#   - cloud provider range files via `egresswatch geo fetch` (official URLs). Offline, set
#     GEODATA_CLOUD_FROM=DIR to import local copies instead (e.g. ../shared/geo/cloud).
# Licences and attribution: geo/README.md. The packages' licence files are kept beside the data.

GEODATA_DIR        ?= data/geo
GEODATA_CLOUD_FROM ?=
NPM                ?= npm
GEODATA_COUNTRY_PKG := @ip-location-db/geo-whois-asn-country-mmdb
GEODATA_ASN_PKG     := @ip-location-db/asn

.PHONY: geodata geodata-cloud geodata-clean

geodata: $(GEODATA_DIR)/geo-whois-asn-country.mmdb $(GEODATA_DIR)/asn-ipv4.csv geodata-cloud

# npm pack downloads the package tarball; only the files we use are unpacked.
$(GEODATA_DIR)/geo-whois-asn-country.mmdb:
	@mkdir -p $(GEODATA_DIR)/licenses/geo-whois-asn-country $(GEODATA_DIR)/.npm
	cd $(GEODATA_DIR)/.npm && rm -f *.tgz && $(NPM) pack --silent $(GEODATA_COUNTRY_PKG)
	tar -mxzf $(GEODATA_DIR)/.npm/ip-location-db-geo-whois-asn-country-mmdb-*.tgz -C $(GEODATA_DIR) \
	  --strip-components=1 package/geo-whois-asn-country.mmdb
	tar -mxzf $(GEODATA_DIR)/.npm/ip-location-db-geo-whois-asn-country-mmdb-*.tgz \
	  -C $(GEODATA_DIR)/licenses/geo-whois-asn-country --strip-components=1 \
	  package/NRO_LICENSE package/README.md package/package.json
	rm -rf $(GEODATA_DIR)/.npm

$(GEODATA_DIR)/asn-ipv4.csv:
	@mkdir -p $(GEODATA_DIR)/licenses/asn $(GEODATA_DIR)/.npm
	cd $(GEODATA_DIR)/.npm && rm -f *.tgz && $(NPM) pack --silent $(GEODATA_ASN_PKG)
	tar -mxzf $(GEODATA_DIR)/.npm/ip-location-db-asn-*.tgz -C $(GEODATA_DIR) \
	  --strip-components=1 package/asn-ipv4.csv package/asn-ipv6.csv
	tar -mxzf $(GEODATA_DIR)/.npm/ip-location-db-asn-*.tgz -C $(GEODATA_DIR)/licenses/asn \
	  --strip-components=1 package/DBIP-LICENSE package/NRO_LICENSE package/ROUTEVIEWS-LICENSE \
	  package/MODIFICATIONS package/README.md package/package.json
	rm -rf $(GEODATA_DIR)/.npm

# Cloud ranges change weekly: fetched on every run, kept when offline.
geodata-cloud:
ifneq ($(GEODATA_CLOUD_FROM),)
	$(GO) run ./cmd/egresswatch geo fetch --dir $(GEODATA_DIR) --from $(GEODATA_CLOUD_FROM)
else
	@$(GO) run ./cmd/egresswatch geo fetch --dir $(GEODATA_DIR) || \
	  echo "geodata: cloud range files not fetched (see above); placement falls back to GeoIP." \
	       "Offline: make geodata GEODATA_CLOUD_FROM=DIR"
endif

geodata-clean:
	rm -rf $(GEODATA_DIR)
