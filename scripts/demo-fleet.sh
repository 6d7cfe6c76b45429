#!/usr/bin/env bash
# make demo-fleet: a local nats-server (Debian's package, installed when
# missing and run as root), three sensors replaying different captures at
# once, a collector, and the fleet report. Everything on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BIN=bin/egresswatch
OUT=out/fleet
PORT=${DEMO_FLEET_PORT:-14333}
URL=nats://127.0.0.1:$PORT

if ! command -v nats-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    for i in 1 2 3 4 5; do # apt may be locked for a moment by another install
      (apt-get install -y -qq nats-server >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null; }) && break
      sleep 5
    done
  fi
  command -v nats-server >/dev/null || { echo "demo-fleet: needs nats-server (apt-get install nats-server)"; exit 1; }
fi

$GO build -o $BIN ./cmd/egresswatch
rm -rf $OUT && mkdir -p $OUT/nats
$GO run ./bench/gen -q -packets 20000 -seed 2 -o $OUT/site-b.pcap
$GO run ./bench/gen -q -packets 30000 -seed 3 -o $OUT/site-c.pcap

nats-server -a 127.0.0.1 -p "$PORT" -js -sd $OUT/nats >$OUT/nats-server.log 2>&1 &
NATS=$!
COLLECT=
cleanup() {
  [ -n "$COLLECT" ] && kill "$COLLECT" 2>/dev/null || true
  kill "$NATS" 2>/dev/null || true
}
trap cleanup EXIT
for i in $(seq 50); do
  grep -q "Server is ready" $OUT/nats-server.log && break
  sleep 0.1
done

$BIN policy default >$OUT/policy.yaml
$BIN policy push --nats $URL $OUT/policy.yaml
$BIN collect --nats $URL --alerts $OUT/fleet-alerts.jsonl --events $OUT/fleet-events.jsonl \
  --report $OUT/fleet-report.md --metrics 127.0.0.1:0 2>$OUT/collect.log &
COLLECT=$!

pids=()
for s in ministry:testdata/sample/ministry.pcapng site-b:$OUT/site-b.pcap site-c:$OUT/site-c.pcap; do
  name=${s%%:*} capture=${s#*:}
  $BIN replay -q --workers 1 --sensor "$name" --policy nats: --publish $URL --spool $OUT/spool-$name \
    --alerts $OUT/$name-alerts.jsonl "$capture" 2>$OUT/$name.log &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

want=$(cat $OUT/ministry-alerts.jsonl $OUT/site-b-alerts.jsonl $OUT/site-c-alerts.jsonl | wc -l)
for i in $(seq 100); do
  got=$(grep -vc '"type":"collector"' $OUT/fleet-alerts.jsonl 2>/dev/null || true)
  [ "${got:-0}" -ge "$want" ] && break
  sleep 0.2
done
kill -TERM "$COLLECT"; wait "$COLLECT" || true; COLLECT=

echo
echo "sensors wrote $want alerts; the collector has ${got:-0} (per sensor:"
for n in ministry site-b site-c; do
  printf "  %-8s own file %5d, collector %5d\n" $n "$(wc -l <$OUT/$n-alerts.jsonl)" "$(grep -c "\"observer\":{\"name\":\"$n\"" $OUT/fleet-alerts.jsonl || true)"
done
echo ")"
tail -1 $OUT/collect.log
echo
cat $OUT/fleet-report.md
