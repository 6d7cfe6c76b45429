# egresswatch — the two commands a newcomer needs:
#   make demo   build, fetch free placement data, replay the bundled sample capture
#   make test   vet and run every test (the shared corpus is used when ../shared is present)

GO      ?= go
BIN     := bin/egresswatch
SAMPLE  := testdata/sample/ministry.pcapng
OUT     := out

.PHONY: all build test vet demo fuzz bench clean geodata

all: build

build:
	$(GO) build -o $(BIN) ./cmd/egresswatch

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -count=1 ./...

-include mk/geodata.mk

demo: build geodata
	@mkdir -p $(OUT)
	$(BIN) replay --events $(OUT)/events.jsonl --alerts $(OUT)/alerts.jsonl --report $(OUT)/report.md $(SAMPLE)
	@echo
	@echo "events:  $(OUT)/events.jsonl   alerts: $(OUT)/alerts.jsonl   report: $(OUT)/report.md"
	@echo
	@cat $(OUT)/report.md

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
