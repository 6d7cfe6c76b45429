#!/usr/bin/env bash
# loss-curve.sh: kernel drops of egresswatch live against the packet rate.
#
# Plays a capture with tcpreplay into one end of a veth pair inside a
# private network namespace (nothing leaves it) at rising --pps, and again
# with --topspeed, while egresswatch live (1 and 2 workers) captures on the
# other end. Prints one row per run: rate asked, rate tcpreplay reached,
# packets sent, packets the rings saw, kernel drops and the drop rate.
#
# usage: sudo scripts/loss-curve.sh [PCAP] [SECONDS]
#   PCAP     default ../shared/pcaps/ndpi-reddit.pcap
#   SECONDS  length of each run (default 4)
# env: RATES="10000 25000 ..."  WORKERS="1 2"  RING_MIB=64  EW=bin/egresswatch
#      PARALLEL=N  tcpreplay instances at once (each at the rate asked): one
#      tcpreplay on one core cannot outrun egresswatch on this kind of box
set -euo pipefail
cd "$(dirname "$0")/.."
PCAP=${1:-../shared/pcaps/ndpi-reddit.pcap}
SECS=${2:-4}
RATES=${RATES:-"10000 25000 50000 100000 150000 200000 300000 topspeed"}
WORKERS=${WORKERS:-"1 2"}
RING_MIB=${RING_MIB:-64}
EW=${EW:-bin/egresswatch}
PARALLEL=${PARALLEL:-1}
for tool in ip tcpreplay capinfos; do
	command -v "$tool" >/dev/null || { echo "loss-curve: needs $tool" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "loss-curve: needs root (network namespaces)" >&2; exit 2; }
[ -x "$EW" ] || go build -o "$EW" ./cmd/egresswatch

NS=ewloss$$
TMP=$(mktemp -d)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6'
ip link add t0 netns "$NS" type veth peer name t1 netns "$NS"
for i in t0 t1; do
	ip netns exec "$NS" ip link set "$i" mtu 9000 up
	command -v ethtool >/dev/null && ip netns exec "$NS" ethtool -K "$i" tso off gso off gro off >/dev/null 2>&1 || true
done

NPKT=$(capinfos -c -M "$PCAP" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
printf "# %s (%s packets a pass), %ss a run, ring %d MiB, %d tcpreplay, %s, %d CPUs\n" "$PCAP" "$NPKT" "$SECS" "$RING_MIB" "$PARALLEL" "$(uname -r)" "$(nproc)"
printf "%-8s %-9s %-10s %-10s %-10s %-8s %s\n" workers pps_asked pps_sent sent ring_pkts drops drop_pct
for w in $WORKERS; do
	for rate in $RATES; do
		if [ "$rate" = topspeed ]; then
			loops=$(( (300000 * SECS + NPKT - 1) / NPKT ))
			rarg=(--topspeed)
		else
			loops=$(( (rate * SECS + NPKT - 1) / NPKT ))
			rarg=(--pps "$rate")
		fi
		ip netns exec "$NS" "$EW" live -i t1 --workers "$w" --no-policy --alerts "" --ring-size "$RING_MIB" >"$TMP/out" 2>"$TMP/err" &
		pid=$!
		for _ in $(seq 100); do grep -q "capturing on" "$TMP/err" && break; sleep 0.05; done
		rp=()
		for k in $(seq "$PARALLEL"); do
			ip netns exec "$NS" tcpreplay -i t0 --loop "$loops" "${rarg[@]}" "$PCAP" >"$TMP/replay.$k" 2>&1 &
			rp+=($!)
		done
		wait "${rp[@]}" || true
		cat "$TMP"/replay.* >"$TMP/replay"; rm -f "$TMP"/replay.*
		sleep 0.5
		kill -TERM "$pid"; wait "$pid" || true
		sent=$(awk '/Successful packets:/ {s+=$3} END {print s+0}' "$TMP/replay")
		pps=$(awk '/Rated:/ {for (i=1;i<=NF;i++) if ($i ~ /pps/) s+=$(i-1)} END {printf "%.0f", s}' "$TMP/replay")
		read -r kp kd < <(awk '/kernel packets/ {gsub(/,/,""); p+=$5; d+=$7} END {print p+0, d+0}' "$TMP/err")
		pct=$(awk -v p="$kp" -v d="$kd" 'BEGIN { if (p > 0) printf "%.3f", 100*d/p; else print "n/a" }')
		printf "%-8s %-9s %-10s %-10s %-10s %-8s %s\n" "$w" "$rate" "${pps:-?}" "${sent:-?}" "$kp" "$kd" "$pct"
	done
done
