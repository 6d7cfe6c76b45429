# egresswatch — the two commands a newcomer needs:
#   make demo   build, fetch free placement data, replay the bundled sample capture
#   make test   vet and run every test (the shared corpus is used when ../shared is present)
#   make install   the binary into $(PREFIX)/bin and the placement data into $(GEO_INSTALL_DIR),
#                  where the binary finds it from any folder

GO      ?= go
BIN     := bin/egresswatch
SAMPLE  := testdata/sample/ministry.pcapng
OUT     := out

.PHONY: all build deps test vet demo demo-fleet fuzz bench clean geodata install

all: build

build:
	$(GO) build -o $(BIN) ./cmd/egresswatch

vet:
	$(GO) vet ./...

# Debian packages the live-capture end-to-end tests use (e2e/), and the browser
# the HTML report's tests drive (report/), and tshark, which reads the evidence
# captures back (pipeline/), and nats-server, the broker the fleet's fault test
# SIGKILLs (cmd/egresswatch TestFleetBrokerSIGKILL); they skip without them or
# without root. Installed when missing and running as root.
DEBS := tcpdump:tcpdump tcpreplay:tcpreplay ethtool:ethtool ip:iproute2 chromium:chromium tshark:tshark nats-server:nats-server
deps:
	@need=""; for t in $(DEBS); do command -v $${t%%:*} >/dev/null 2>&1 || need="$$need $${t#*:}"; done; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	  else echo "note: the tests that need them will skip: missing$$need (run as root to install)"; fi; \
	fi

test: deps vet
	$(GO) test -count=1 ./...

-include mk/geodata.mk
-include mk/worldmap.mk

demo: build geodata
	@mkdir -p $(OUT)
	$(BIN) replay --events $(OUT)/events.jsonl --alerts $(OUT)/alerts.jsonl --report $(OUT)/report.md $(SAMPLE)
	@echo
	@echo "events:  $(OUT)/events.jsonl   alerts: $(OUT)/alerts.jsonl   report: $(OUT)/report.md"
	@if ls $(GEODATA_DIR)/cloud/* >/dev/null 2>&1; then \
	  echo "cloud ranges: loaded from $(GEODATA_DIR)/cloud"; \
	else \
	  echo "cloud ranges: NOT loaded: cloud addresses are placed by GeoIP only." \
	       "Fetch them: egresswatch geo fetch (offline: make geodata GEODATA_CLOUD_FROM=DIR)"; \
	fi
	@echo
	@cat $(OUT)/report.md

# make install: the binary and the placement data, in the place geo.InstallDir
# names, so that `egresswatch replay` finds the data from any folder.
# DESTDIR stages a package; PREFIX and GEO_INSTALL_DIR move them (a data
# folder other than the default needs EGRESSWATCH_GEO_DIR at run time).
PREFIX          ?= /usr/local
GEO_INSTALL_DIR ?= /var/lib/egresswatch/geo
install: build geodata
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(GEO_INSTALL_DIR)
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/egresswatch
	cp -R $(GEODATA_DIR)/. $(DESTDIR)$(GEO_INSTALL_DIR)/
	@echo "installed $(DESTDIR)$(PREFIX)/bin/egresswatch; placement data in $(DESTDIR)$(GEO_INSTALL_DIR)"

# Three sensors, a collector and a local nats-server (Debian's package,
# installed when missing and root); prints the fleet report.
demo-fleet:
	GO=$(GO) scripts/demo-fleet.sh

# Run every fuzz target for FUZZTIME each (default 30s).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

clean:
	rm -rf bin $(OUT)
