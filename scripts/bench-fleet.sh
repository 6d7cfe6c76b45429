#!/usr/bin/env bash
# Times a replay of a generated workload without and with --publish (and
# with --publish --spool), interleaved, against Debian's nats-server on
# loopback; prints each run and the medians (wall seconds, max RSS MiB).
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
declare -A wall rss
run() { # name args...
  local name=$1; shift
  rm -rf "$W/spool"
  /usr/bin/time -f "%e %M" -o "$W/t" $BIN replay -q --progress never --alerts "$W/alerts.jsonl" "$@" "$CAP" 2>>"$W/runs.log"
  read -r e m <"$W/t"
  wall[$name]+="$e "; rss[$name]+="$((m / 1024)) "
  printf "%-14s %6.2fs %5d MiB\n" "$name" "$e" $((m / 1024))
}
for i in $(seq "$RUNS"); do
  run plain
  run publish --sensor bench --publish nats://127.0.0.1:$PORT
  run publish+spool --sensor bench --publish nats://127.0.0.1:$PORT --spool "$W/spool"
done
med() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "medians of $RUNS interleaved runs:"
for n in plain publish publish+spool; do
  printf "%-14s %6.2fs %5d MiB\n" "$n" "$(echo "${wall[$n]}" | med)" "$(echo "${rss[$n]}" | med)"
done
grep -h "published" "$W/runs.log" | sort | uniq -c | head -3
