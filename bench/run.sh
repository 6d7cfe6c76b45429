#!/usr/bin/env bash
# Whole-process benchmark of egresswatch replay against tshark, nDPI's ndpiReader and a bare
# Go loop (bench/bareloop) on the same generated capture (bench/gen). See BENCHMARKS.md.
#
#   bench/run.sh            compare the tools: BENCH_PACKETS (200000) packets, BENCH_RUNS (3)
#                           counted runs each after one warm-up round, interleaved
#   bench/run.sh rss        peak RSS of egresswatch at 1 M and 10 M packets of the same mix
#                           (streamed through a pipe: nothing is written to disk)
#   bench/run.sh flood      peak RSS under the floods (BENCH_FLOOD_PACKETS, 10000000)
#
#   BENCH_PACKETS=1000000 BENCH_RUNS=5 bench/run.sh     the figures of BENCHMARKS.md
#
# Each run is timed by GNU time (wall, user and system seconds, peak RSS of the process).
# Medians are printed; packets/s is packets / median wall seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKETS=${BENCH_PACKETS:-200000}
RUNS=${BENCH_RUNS:-3}
DIR=${BENCH_DIR:-out/bench}
FLOOD_PACKETS=${BENCH_FLOOD_PACKETS:-10000000}
MODE=${1:-compare}
mkdir -p "$DIR" bin

# --- tools ---------------------------------------------------------------------------------
need=()
command -v tshark >/dev/null || need+=(tshark)
command -v ndpiReader >/dev/null || need+=(libndpi-bin)
[ -x /usr/bin/time ] || need+=(time)
if [ "${#need[@]}" -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

go build -o bin/egresswatch ./cmd/egresswatch
go build -o "$DIR/gen" ./bench/gen
go build -o "$DIR/bareloop" ./bench/bareloop
EW=bin/egresswatch
WORKERS=0
help=$("$EW" replay -h 2>&1 || true) # -h exits 2
if grep -q -- '-workers' <<<"$help"; then WORKERS=1; fi
if [ ! -f data/geo/geo-whois-asn-country.mmdb ]; then
	echo "note: no data/geo (make geodata): egresswatch runs without placement data" >&2
fi
EWARGS=(replay --events /dev/null --alerts /dev/null --progress never)

# timed NAME OUTFILE CMD...: run CMD under GNU time, stdout to /dev/null, stderr to
# $DIR/NAME.stderr; appends "wall user sys maxrss_kb" to OUTFILE.
timed() {
	local name=$1 out=$2; shift 2
	local tf; tf=$(mktemp)
	/usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >/dev/null 2>>"$DIR/$name.stderr" || {
		echo "$name failed (exit $?): see $DIR/$name.stderr" >&2; rm -f "$tf"; return 1; }
	tail -n 1 "$tf" >>"$out"
	rm -f "$tf"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

case "$MODE" in
compare)
	F="$DIR/mix-$PACKETS.pcap"
	if [ ! -s "$F" ]; then
		echo "generating $F" >&2
		"$DIR/gen" -packets "$PACKETS" -o "$F.tmp" && mv "$F.tmp" "$F"
	fi
	names=() cmds=()
	if [ "$WORKERS" = 1 ]; then
		names+=(egresswatch-w1 egresswatch-w2)
		cmds+=("$EW ${EWARGS[*]} --workers 1 $F" "$EW ${EWARGS[*]} --workers 2 $F")
	else
		echo "note: replay has no --workers flag yet: one egresswatch configuration, no workers ratio" >&2
		names+=(egresswatch-w1)
		cmds+=("$EW ${EWARGS[*]} $F")
	fi
	names+=(tshark ndpiReader bareloop)
	cmds+=("tshark -n -r $F -T fields -e dns.qry.name -e tls.handshake.extensions_server_name"
		"ndpiReader -q -i $F"
		"$DIR/bareloop $F")
	res="$DIR/results-$PACKETS.txt"
	: >"$res"
	for n in "${names[@]}"; do : >"$DIR/$n.stderr"; done
	for ((r = 0; r <= RUNS; r++)); do
		for i in "${!names[@]}"; do
			t="$DIR/.t"; : >"$t"
			# shellcheck disable=SC2086 # the commands are word lists
			timed "${names[$i]}" "$t" ${cmds[$i]}
			if [ "$r" -gt 0 ]; then echo "${names[$i]} $r $(cat "$t")" >>"$res"; fi
		done
		[ "$r" -eq 0 ] && echo "warm-up done; $RUNS counted rounds" >&2
	done
	echo
	echo "$PACKETS packets ($(du -m "$F" | cut -f1) MB), $RUNS runs each, medians; $(nproc) CPUs"
	echo
	echo "| tool | packets/s | wall s | CPU s (user+sys) | peak RSS MiB |"
	echo "|---|---:|---:|---:|---:|"
	declare -A pps
	for n in "${names[@]}"; do
		w=$(awk -v n="$n" '$1==n {print $3}' "$res" | median)
		c=$(awk -v n="$n" '$1==n {print $4+$5}' "$res" | median)
		m=$(awk -v n="$n" '$1==n {print $6/1024}' "$res" | median)
		pps[$n]=$(awk -v p="$PACKETS" -v w="$w" 'BEGIN {printf "%.0f", p/w}')
		printf '| %s | %s | %.2f | %.2f | %.0f |\n' "$n" "${pps[$n]}" "$w" "$c" "$m"
	done
	echo
	# Ratios of packets/s: of the medians, and the median of each round's ratio (the runs of a
	# round are close in time, so a round's ratio holds when the machine's speed drifts).
	rr() { # rr A B: median over rounds of wall(B)/wall(A), i.e. packets/s of A over B
		awk -v a="$1" -v b="$2" '$1==a {wa[$2]=$3} $1==b {wb[$2]=$3} END {for (r in wa) if (r in wb && wa[r] > 0) print wb[r]/wa[r]}' "$res" | median
	}
	echo "| packets/s ratio | of the medians | median of per-round ratios | target |"
	echo "|---|---:|---:|---|"
	row() { awk -v n="$1" -v a="$2" -v b="$3" -v r="$4" -v t="$5" 'BEGIN {printf "| %s | %.2f | %.2f | %s |\n", n, a/b, r, t}'; }
	row "egresswatch / tshark" "${pps[egresswatch-w1]}" "${pps[tshark]}" "$(rr egresswatch-w1 tshark)" ">= 30"
	row "egresswatch / ndpiReader" "${pps[egresswatch-w1]}" "${pps[ndpiReader]}" "$(rr egresswatch-w1 ndpiReader)" ">= 5"
	row "egresswatch / bareloop" "${pps[egresswatch-w1]}" "${pps[bareloop]}" "$(rr egresswatch-w1 bareloop)" ">= 0.5"
	if [ "$WORKERS" = 1 ]; then
		row "egresswatch 2 workers / 1 worker" "${pps[egresswatch-w2]}" "${pps[egresswatch-w1]}" "$(rr egresswatch-w2 egresswatch-w1)" ">= 1.8"
	fi
	# egresswatch's own rate (packets over the time spent reading them, start-up excluded)
	own=$(grep -ho '([0-9]* packets/s)' "$DIR/egresswatch-w1.stderr" | tr -dc '0-9\n' | median || true)
	echo
	echo "egresswatch's own summary, start-up excluded (median of its runs): $own packets/s"
	echo "raw runs (tool round wall user sys maxrss_kb): $res"
	;;
rss)
	res="$DIR/rss.txt"
	: >"$res"
	W=(); [ "$WORKERS" = 1 ] && W=(--workers 1)
	echo "| packets | peak RSS MiB (median of $RUNS) | CPU s |"
	echo "|---:|---:|---:|"
	for n in 1000000 10000000; do
		t="$DIR/.t"; : >"$t"
		for ((r = 1; r <= RUNS; r++)); do
			timed rss-$n "$t" sh -c "\"$DIR/gen\" -q -packets $n -o - | /usr/bin/time -f '%e %U %S %M' -o $DIR/.inner $EW ${EWARGS[*]} ${W[*]} - ; cat $DIR/.inner >&2"
			tail -n 1 "$DIR/rss-$n.stderr" >>"$res.$n"
		done
		m=$(awk '{print $4/1024}' "$res.$n" | median)
		c=$(awk '{print $2+$3}' "$res.$n" | median)
		printf '| %d | %.0f | %.1f |\n' "$n" "$m" "$c"
		rm -f "$res.$n"
	done
	;;
flood)
	W=(); [ "$WORKERS" = 1 ] && W=(--workers 1)
	echo "| flood ($FLOOD_PACKETS packets) | peak RSS MiB | CPU s | wall s |"
	echo "|---|---:|---:|---:|"
	for kind in flows dns halfopen; do
		: >"$DIR/flood-$kind.stderr"
		sh -c "\"$DIR/gen\" -q -flood $kind -packets $FLOOD_PACKETS -o - | /usr/bin/time -f '%e %U %S %M' -o $DIR/.inner $EW ${EWARGS[*]} ${W[*]} - 2>>$DIR/flood-$kind.stderr"
		read -r w u s m <"$DIR/.inner"
		awk -v k="$kind" -v w="$w" -v u="$u" -v s="$s" -v m="$m" 'BEGIN {printf "| %s | %.0f | %.1f | %.1f |\n", k, m/1024, u+s, w}'
	done
	;;
*)
	echo "usage: bench/run.sh [compare|rss|flood]" >&2
	exit 2
	;;
esac
