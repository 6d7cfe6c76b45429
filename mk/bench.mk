# make bench-whole: whole-process benchmark of egresswatch replay against tshark, ndpiReader
# and a bare Go loop on a generated capture (bench/run.sh; figures in BENCHMARKS.md).
#   make bench-whole                                   200 k packets, 3 runs (a few minutes)
#   make bench-whole BENCH_PACKETS=1000000 BENCH_RUNS=5   the published figures
BENCH_PACKETS ?= 200000
BENCH_RUNS    ?= 3

.PHONY: bench-whole bench-rss bench-flood

bench-whole:
	BENCH_PACKETS=$(BENCH_PACKETS) BENCH_RUNS=$(BENCH_RUNS) bash bench/run.sh compare

bench-rss:
	BENCH_RUNS=$(BENCH_RUNS) bash bench/run.sh rss

bench-flood:
	bash bench/run.sh flood
