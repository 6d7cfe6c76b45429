#!/usr/bin/env bash
# Times a replay of a generated workload without and with --publish (with
# S2-compressed messages, the default; with plain ones; and with --spool),
# interleaved, against Debian's nats-server on loopback; prints each run
# and the medians: wall seconds, max RSS MiB, and the CPU the broker spent
# on the run (it shares the machine's cores with the sensor here).
# Usage: scripts/bench-fleet.sh [CAPTURE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
CAP=${1:-out/bench/mix-1000000.pcap}
RUNS=${2:-3}
BIN=bin/egresswatch
PORT=${BENCH_FLEET_PORT:-14334}
W=$(mktemp -d)
[ -f "$CAP" ] || go run ./bench/gen -q -packets 1000000 -o "$CAP"
go build -o $BIN ./cmd/egresswatch
nats-server -a 127.0.0.1 -p "$PORT" -js -sd "$W/nats" >"$W/nats.log" 2>&1 &
NATS=$!
trap 'kill $NATS 2>/dev/null; rm -rf "$W"' EXIT
sleep 1
declare -A wall rss broker
ticks() { awk '{print $14 + $15}' "/proc/$NATS/stat"; } # the broker's CPU, in clock ticks
HZ=$(getconf CLK_TCK)
run() { # name args...
  local name=$1; shift
  rm -rf "$W/spool"
  local t0; t0=$(ticks)
  /usr/bin/time -f "%e %M" -o "$W/t" $BIN replay -q --progress never --alerts "$W/alerts.jsonl" "$@" "$CAP" 2>>"$W/runs.log"
  sleep 0.2 # the broker finishes storing
  local b; b=$(awk -v a="$t0" -v b="$(ticks)" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')
  read -r e m <"$W/t"
  wall[$name]+="$e "; rss[$name]+="$((m / 1024)) "; broker[$name]+="$b "
  printf "%-16s %6.2fs %5d MiB  broker %5.2fs CPU\n" "$name" "$e" $((m / 1024)) "$b"
}
URL=nats://127.0.0.1:$PORT
for i in $(seq "$RUNS"); do
  run plain
  run publish --sensor bench --publish $URL
  run publish-plainjson --sensor bench --publish $URL --publish-compress none
  run publish+spool --sensor bench --publish $URL --spool "$W/spool"
done
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "medians of $RUNS interleaved runs (x: wall against plain):"
base=$(echo "${wall[plain]}" | med)
for n in plain publish publish-plainjson publish+spool; do
  w=$(echo "${wall[$n]}" | med)
  printf "%-16s %6.2fs %5.3fx %5d MiB  broker %5.2fs CPU\n" "$n" "$w" "$(awk -v a="$w" -v b="$base" 'BEGIN {print a / b}')" \
    "$(echo "${rss[$n]}" | med)" "$(echo "${broker[$n]}" | med)"
done
grep -h "published" "$W/runs.log" | sort | uniq -c | head -3
