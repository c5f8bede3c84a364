#!/usr/bin/env bash
# bench/soak.sh [-t SECONDS] [-f PCAP] [-i SECONDS] [--file] [BUILD_DIR] - memory over time.
#
# Live (default, as root): creates a network namespace with a veth pair, runs tlsobs live
# on one end and replays PCAP into the other in a loop with tcpreplay (new addresses each
# loop, --unique-ip, so every loop brings new flows and new servers), for SECONDS. Every
# interval it prints the sensor's VmRSS and VmHWM (/proc/PID/status) and its own counters
# (from its tlsobs.stats events: flows held, flow memcap use, history bytes against
# detection.history.memcap, evictions); at the end, the growth of RSS between the point the
# caps are reached (the history at its memcap or evicting; not before the warm-up) and the
# end of the run, and a verdict: flat (PASS) when it grew by at most SOAK_BOUND_MIB or
# SOAK_BOUND_PCT % of the RSS at that point, whichever is larger.
#
# --file (also the fallback when a namespace cannot be made): one `tlsobs -r` through PCAP
# repeated back to back in packet time (bench/pcap_repeat.c) up to SOAK_FILE_MB of
# capture, RSS sampled every half second: memory over traffic rather than over time.
#
#   -t SECONDS   run time, live (default 120)
#   -f PCAP      capture to replay (default: every tests/fixtures capture but demo.pcap, merged)
#   -i SECONDS   sampling interval (default 5 live, 0.5 with --file)
#
# Environment: SOAK_PPS=20000 (replay rate), SOAK_UNIQUE=1 (0: replay the same addresses every
# loop), SOAK_SET="KEY=VALUE ..." (more --set options for tlsobs), SOAK_WARMUP_PCT=20,
# SOAK_BOUND_MIB=4, SOAK_BOUND_PCT=5, SOAK_FILE_MB=2000, BENCH_DIR=/var/tmp/tlsobs-bench.
# Exits 1 when the verdict is FAIL, 2 on errors. BUILD_DIR defaults to <repo>/build-bench.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_RUN=120
PCAP=
INTERVAL=
MODE=live
BUILD_DIR=
SOAK_PPS=${SOAK_PPS:-20000}
SOAK_UNIQUE=${SOAK_UNIQUE:-1}
SOAK_SET=${SOAK_SET:-}
SOAK_WARMUP_PCT=${SOAK_WARMUP_PCT:-20}
SOAK_BOUND_MIB=${SOAK_BOUND_MIB:-4}
SOAK_BOUND_PCT=${SOAK_BOUND_PCT:-5}
SOAK_FILE_MB=${SOAK_FILE_MB:-2000}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tlsobs-bench}

die()  { echo "soak.sh: error: $*" >&2; exit 2; }
note() { echo "soak.sh: $*" >&2; }
usage() { sed -n '2,/^# Exits/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while [[ $# -gt 0 ]]; do
	case $1 in
		-t) SECONDS_RUN=${2:?}; shift 2;;
		-f) PCAP=${2:?}; shift 2;;
		-i) INTERVAL=${2:?}; shift 2;;
		--file) MODE='file'; shift;;
		-h|--help) usage;;
		-*) die "unknown option $1 (see -h)";;
		*) BUILD_DIR=$1; shift;;
	esac
done
[[ $SECONDS_RUN =~ ^[0-9]+$ && $SECONDS_RUN -ge 10 ]] || die "-t wants whole seconds, at least 10"
for v in SOAK_PPS SOAK_WARMUP_PCT SOAK_BOUND_MIB SOAK_BOUND_PCT SOAK_FILE_MB; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive integer"
done
[[ -z $INTERVAL || $INTERVAL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "-i wants seconds"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_tlsobs "${BUILD_DIR:-$ROOT/build-bench}"

mkdir -p "$BENCH_DIR"
W=$(mktemp -d "$BENCH_DIR/soak.XXXXXX")
NS=tsk-$$
sensor='' replay='' ns_made=0
cleanup() {
	set +e   # every step, whatever fails before it
	[[ -n $replay ]] && kill "$replay" 2>/dev/null
	[[ -n $sensor ]] && kill "$sensor" 2>/dev/null && wait "$sensor" 2>/dev/null
	[[ $ns_made == 1 ]] && ip netns del "$NS" 2>/dev/null
	rm -rf "$W"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the capture
if [[ -z $PCAP ]]; then
	if command -v mergecap >/dev/null 2>&1; then
		mapfile -t fx < <(find "$ROOT/tests/fixtures" -maxdepth 1 -name '*.pcap' ! -name demo.pcap | sort)
		mergecap -F pcap -w "$W/set.pcap" "${fx[@]}" || die "mergecap failed"
		PCAP=$W/set.pcap
		PCAP_DESC="${#fx[@]} fixtures of tests/fixtures (demo.pcap left out), merged"
	else
		PCAP=$ROOT/tests/fixtures/demo.pcap
		PCAP_DESC="tests/fixtures/demo.pcap (no mergecap to merge the others)"
	fi
else
	[[ -r $PCAP ]] || die "cannot read $PCAP"
	PCAP_DESC=$PCAP
fi

# ---------------------------------------------------------------- live set-up
if [[ $MODE == live ]]; then
	why=
	if [[ $(id -u) -ne 0 ]]; then why="not root"
	elif ! command -v ip >/dev/null 2>&1; then why="no ip (iproute2)"
	elif ! command -v tcpreplay >/dev/null 2>&1; then why="no tcpreplay"
	elif ! ip netns add "$NS" 2>/dev/null; then why="cannot create a network namespace"
	fi
	if [[ -n $why ]]; then
		note "$why: falling back to --file"
		MODE='file'
	else
		ns_made=1
		ip -n "$NS" link add tskr0 type veth peer name tsks0
		ip -n "$NS" link set tskr0 up
		ip -n "$NS" link set tsks0 up
	fi
fi
INTERVAL=${INTERVAL:-$([[ $MODE == live ]] && echo 5 || echo 0.5)}
sets=()
for kv in $SOAK_SET; do sets+=(--set "$kv"); done
unique=(); [[ $SOAK_UNIQUE == 1 ]] && unique=(--unique-ip)

# ---------------------------------------------------------------- run
# status_kib PID FIELD -> the field of /proc/PID/status in KiB, or empty once the process is gone
status_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || true; }
# last_stats: from the newest tlsobs.stats event, packets, flows active, flow memcap bytes used,
# flows evicted, history bytes, history memcap, history entries evicted (count caps, memcap) and
# flows.peak_active; "-" for what is not there (yet).
last_stats() {
	grep '"dataset":"tlsobs.stats"' "$W/events.json" 2>/dev/null | tail -n 1 | python3 -c '
import json, sys
line = sys.stdin.read()
if not line.strip():
    print("- - - - - - - -"); sys.exit()
s = json.loads(line)["tlsobs"]["stats"]
f, h = s.get("flows", {}), s.get("history", {})
ev = h.get("evicted", 0) + h.get("memcap_evicted", 0) if h else "-"
print(s["packets"], f.get("active", "-"), f.get("memory_used", "-"), f.get("evicted", "-"), h.get("bytes", "-"),
      h.get("memcap", "-"), ev, f.get("peak_active", "-"))' 2>/dev/null || echo "- - - - - - - -"
}

samples=$W/samples   # t rss_kib hwm_kib progress [caps_reached: 1 once the history is at its cap]
: >"$samples"
hr() { printf '%*s\n' 84 '' | tr ' ' -; }
echo
echo "tlsobs soak ($(date -u +%Y-%m-%dT%H:%M:%SZ)), mode $MODE"
hr
echo "tlsobs    : $TLSOBS ($("$TLSOBS" -V 2>&1 | head -n 1), git $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'))"
echo "capture   : $PCAP_DESC"
echo "            $(capinfos -c -d -u -M "$PCAP" 2>/dev/null | sed -n 's/^Number of packets: *//p; s/^Data size: *//p; s/^Capture duration: *//p' | paste -sd, | sed 's/,/, /g')"
start=$(date +%s%N)
elapsed() { awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }

if [[ $MODE == live ]]; then
	echo "replay    : tcpreplay --loop=0 ${unique[*]} --pps=$SOAK_PPS into veth tskr0 in netns $NS; tlsobs -i tsks0 ${sets[*]}"
	echo "run       : $SECONDS_RUN s, a sample every $INTERVAL s; warm-up: the first $SOAK_WARMUP_PCT %"
	hr
	printf '%8s %9s %9s %11s %7s %9s %9s %9s %13s\n' "t s" "RSS MiB" "HWM MiB" packets flows \
		"flow MiB" "evicted" "hist MiB" "hist evicted"
	ip netns exec "$NS" "$TLSOBS" -i tsks0 -o "json:$W/events.json" --set "stats.interval=${INTERVAL%.*}s" "${sets[@]}" \
		>/dev/null 2>"$W/stderr" &
	sensor=$!
	sleep 1
	kill -0 "$sensor" 2>/dev/null || { cat "$W/stderr" >&2; sensor=; die "tlsobs did not start"; }
	ip netns exec "$NS" tcpreplay -q -i tskr0 --loop=0 "${unique[@]}" --pps="$SOAK_PPS" "$PCAP" \
		>"$W/replay.out" 2>&1 &
	replay=$!
	while :; do
		sleep "$INTERVAL"
		t=$(elapsed)
		rss=$(status_kib "$sensor" VmRSS) hwm=$(status_kib "$sensor" VmHWM)
		[[ -n $rss ]] || { cat "$W/stderr" >&2; sensor=; die "tlsobs died after $t s"; }
		kill -0 "$replay" 2>/dev/null || { cat "$W/replay.out" >&2; replay=; die "tcpreplay stopped after $t s"; }
		read -r pk fl mu fev hb hcap hev held < <(last_stats)
		# The caps are reached once the history is within 2 % of its memcap or evicts entries
		# (count caps): from then on, new addresses replace old ones instead of adding memory.
		capped=$(awk -v b="$hb" -v c="$hcap" -v e="$hev" 'BEGIN {print (b != "-" && c != "-" && (b >= c * 0.98 || e > 0)) ? 1 : 0}')
		echo "$t $rss $hwm $pk $capped" >>"$samples"
		printf '%8s %9.1f %9.1f %11s %7s %9s %9s %9s %13s\n' "$t" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" \
			"$(awk -v k="$hwm" 'BEGIN {print k / 1024}')" "$pk" "$fl" \
			"$(awk -v b="$mu" 'BEGIN {if (b == "-") print "-"; else printf "%.1f", b / 1048576}')" "$fev" \
			"$(awk -v b="$hb" -v c="$hcap" 'BEGIN {if (b == "-") print "-"; else printf "%.1f/%.0f", b / 1048576, c / 1048576}')" "$hev"
		last_held=$held
		awk -v t="$t" -v s="$SECONDS_RUN" 'BEGIN {exit !(t >= s)}' && break
	done
	kill -INT "$replay" 2>/dev/null; wait "$replay" 2>/dev/null || true; replay=
	sleep 1
	kill -TERM "$sensor"; status=0; wait "$sensor" || status=$?; sensor=
	[[ $status -eq 0 ]] || { cat "$W/stderr" >&2; die "tlsobs exited with status $status"; }
else
	command -v cc >/dev/null 2>&1 || die "cc not found (Debian: gcc, libpcap-dev)"
	cc -O2 -Wall -o "$W/pcap_repeat" "$ROOT/bench/pcap_repeat.c" -lpcap || die "cannot compile bench/pcap_repeat.c"
	size=$(stat -c %s "$PCAP")
	copies=$(( SOAK_FILE_MB * 1000000 / size )); [[ $copies -ge 2 ]] || copies=2
	info=$("$W/pcap_repeat" -n "$copies" "$PCAP" "$W/long.pcap") || die "pcap_repeat failed"
	echo "input     : $copies copies back to back in packet time (bench/pcap_repeat.c): $info"
	echo "run       : tlsobs -r (one process) ${sets[*]}, a sample every $INTERVAL s; warm-up: the first $SOAK_WARMUP_PCT % of the run"
	hr
	printf '%8s %10s %10s %12s\n' "t s" "RSS MiB" "HWM MiB" "MB read"
	cat "$W/long.pcap" >/dev/null   # page cache
	start=$(date +%s%N)
	"$TLSOBS" -r "$W/long.pcap" -o json:/dev/null "${sets[@]}" >/dev/null 2>"$W/stderr" &
	sensor=$!
	while :; do
		sleep "$INTERVAL"
		t=$(elapsed)
		rss=$(status_kib "$sensor" VmRSS) hwm=$(status_kib "$sensor" VmHWM)
		rchar=$(awk '$1 == "rchar:" {print $2}' "/proc/$sensor/io" 2>/dev/null || true)
		[[ -n $rss && -n $rchar ]] || break
		echo "$t $rss $hwm $rchar" >>"$samples"
		printf '%8s %10.1f %10.1f %12.1f\n' "$t" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" \
			"$(awk -v k="$hwm" 'BEGIN {print k / 1024}')" "$(awk -v b="$rchar" 'BEGIN {print b / 1e6}')"
	done
	status=0; wait "$sensor" || status=$?; sensor=
	[[ $status -eq 0 ]] || { cat "$W/stderr" >&2; die "tlsobs exited with status $status"; }
	SECONDS_RUN=$(elapsed)
fi
hr

# ---------------------------------------------------------------- verdict
n=$(wc -l <"$samples")
[[ $n -ge 3 ]] || die "only $n samples: run longer (-t) or sample more often (-i)"
# Judged from the later of the end of the warm-up and the first sample with the caps reached (live);
# when the caps are reached with fewer than 3 samples left, from the warm-up (and said so).
read -r warm_t warm_rss end_t end_rss slope cap_t < <(awk -v pct="$SOAK_WARMUP_PCT" -v total="$SECONDS_RUN" '
	{ t[NR] = $1; r[NR] = $2 / 1024; if (NF >= 5 && $5 == 1 && !c) c = NR }
	END {
		w = 0
		for (i = 1; i <= NR; i++) if (t[i] >= total * pct / 100) { w = i; break }
		if (w == 0 || w == NR) w = int(NR / 2)
		if (c > w && c <= NR - 2) w = c
		# least-squares slope of RSS over the samples after the warm-up, MiB per minute
		n = 0; sx = sy = sxx = sxy = 0
		for (i = w; i <= NR; i++) { n++; sx += t[i]; sy += r[i]; sxx += t[i] * t[i]; sxy += t[i] * r[i] }
		d = n * sxx - sx * sx
		slope = d > 0 ? (n * sxy - sx * sy) / d * 60 : 0
		printf "%s %.1f %s %.1f %.2f %s\n", t[w], r[w], t[NR], r[NR], slope, c ? t[c] : "-"
	}' "$samples")
growth=$(awk -v a="$warm_rss" -v b="$end_rss" 'BEGIN {printf "%.1f", b - a}')
pct=$(awk -v a="$warm_rss" -v b="$end_rss" 'BEGIN {printf "%.1f", (a > 0 ? (b - a) * 100 / a : 0)}')
bound=$(awk -v a="$warm_rss" -v m="$SOAK_BOUND_MIB" -v p="$SOAK_BOUND_PCT" 'BEGIN {b = a * p / 100; printf "%.1f", (b > m ? b : m)}')
echo "summary   :"
grep '^tlsobs:' "$W/stderr" | sed 's/^/  /'
if [[ $MODE == live ]]; then
	if [[ $cap_t == - ]]; then
		echo "caps      : the history did not reach detection.history.memcap or its count caps in $SECONDS_RUN s (judged from the warm-up)"
	else
		echo "caps      : the history reached its cap at t=$cap_t s (judged from t=$warm_t s)"
	fi
	echo "flows     : held at once at most ${last_held:-?} (flows.peak_active; '-': the sensor does not give it)"
fi
echo "RSS from t=$warm_t s: $warm_rss MiB; at the end (t=$end_t s): $end_rss MiB"
echo "growth    : $growth MiB ($pct %); trend after warm-up $slope MiB/min"
if awk -v g="$growth" -v b="$bound" 'BEGIN {exit !(g <= b)}'; then
	echo "PASS  memory flat after warm-up: grew $growth MiB <= $bound MiB (max of $SOAK_BOUND_MIB MiB, $SOAK_BOUND_PCT %)"
else
	echo "FAIL  memory grew $growth MiB after warm-up, more than $bound MiB (max of $SOAK_BOUND_MIB MiB, $SOAK_BOUND_PCT %)"
	exit 1
fi
