# egresswatch — the two commands a newcomer needs:
#   make demo   build, fetch free placement data, replay the bundled sample capture
#   make test   vet and run every test (the shared corpus is used when ../shared is present)

GO      ?= go
BIN     := bin/egresswatch
SAMPLE  := testdata/sample/ministry.pcapng
OUT     := out

.PHONY: all build deps test vet demo demo-fleet fuzz bench clean geodata

all: build

build:
	$(GO) build -o $(BIN) ./cmd/egresswatch

vet:
	$(GO) vet ./...

# Debian packages the live-capture end-to-end tests use (e2e/); they skip
# without them or without root. Installed when missing and running as root.
DEBS := tcpdump:tcpdump tcpreplay:tcpreplay ethtool:ethtool ip:iproute2
deps:
	@need=""; for t in $(DEBS); do command -v $${t%%:*} >/dev/null 2>&1 || need="$$need $${t#*:}"; done; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	  else echo "note: live e2e tests will skip: missing$$need (run as root to install)"; fi; \
	fi

test: deps vet
	$(GO) test -count=1 ./...

-include mk/geodata.mk

demo: build geodata
	@mkdir -p $(OUT)
	$(BIN) replay --events $(OUT)/events.jsonl --alerts $(OUT)/alerts.jsonl --report $(OUT)/report.md $(SAMPLE)
	@echo
	@echo "events:  $(OUT)/events.jsonl   alerts: $(OUT)/alerts.jsonl   report: $(OUT)/report.md"
	@echo
	@cat $(OUT)/report.md

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
