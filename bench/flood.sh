#!/usr/bin/env bash
# bench/flood.sh [BUILD_DIR] - SYN and connection floods with real SMTP sessions mixed in: peak
# memory against flow.memcap, flows held at once and bytes per idle flow, evictions by reason,
# emergency mode entered and left, packets/s against a bare libpcap loop, and each real
# session's events against a run without the flood. See bench/README.md.
#
# Unlike throughput.sh this checks behaviour, so it prints PASS/FAIL lines and exits 1 if
# any check fails (speed is only printed). Errors (a tool missing or failing) exit 2.
#
# Environment:
#   FLOOD_SYNS=1000000     half-open connections (SYNs) in the flood
#   FLOOD_SECONDS=10       packet time the flood lasts
#   FLOOD_TAIL=30          packet time after the flood (real sessions go on; flows time out)
#   FLOOD_SERVERS=4        port-25 servers attacked (198.51.100.25 and up)
#   FLOOD_MEMCAPS="128mb 32mb"  flow.memcap values to run (the first is the default cap)
#   FLOOD_SCENARIOS="syn synack banner source source24"  which floods (see below)
#   FLOOD_BANNER_RATES="3000 30000"  connections per second of the banner flood, one case each
#                          (banner-RATE in FLOOD_SCENARIOS runs one rate)
#   FLOOD_SOURCE_RATE=20000  connections per second of the single-source and single-/24 floods (at most
#                          FLOOD_SERVERS x 64,512 connections in all: a single address has no more 4-tuples)
#   FLOOD_RUNS=3           timed runs per case (best wall time, highest RSS)
#   FLOOD_VERBOSE=0        1: a differing real session is shown event by event, not only its verdict and fields
#   FLOOD_FIXTURES="..."   fixtures (tests/fixtures/NAME.pcap) mixed in, in this order
#   FLOOD_FRAGS=200000     a fragment flood: first fragments that never complete (1 KiB each), before the
#                          real sessions cut into fragments (scripts/fragment-capture.py); 0 skips it
#   FLOOD_DEFRAG_MEMCAP=32mb  defrag.memcap for the fragment flood
#   BENCH_DIR=/var/tmp/tlsobs-bench   work dir (captures live in a temp dir in it, deleted at exit)
#
# BUILD_DIR defaults to <repo>/build-bench (configured RelWithDebInfo and built if missing).

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURES=$ROOT/tests/fixtures

FLOOD_SYNS=${FLOOD_SYNS:-1000000}
FLOOD_SECONDS=${FLOOD_SECONDS:-10}
FLOOD_TAIL=${FLOOD_TAIL:-30}
FLOOD_SERVERS=${FLOOD_SERVERS:-4}
FLOOD_MEMCAPS=${FLOOD_MEMCAPS:-128mb 32mb}
FLOOD_SCENARIOS=${FLOOD_SCENARIOS:-syn synack banner source source24}
FLOOD_BANNER_RATES=${FLOOD_BANNER_RATES:-3000 30000}
FLOOD_SOURCE_RATE=${FLOOD_SOURCE_RATE:-20000}
FLOOD_RUNS=${FLOOD_RUNS:-3}
FLOOD_VERBOSE=${FLOOD_VERBOSE:-0}
FLOOD_FRAGS=${FLOOD_FRAGS:-200000}
FLOOD_DEFRAG_MEMCAP=${FLOOD_DEFRAG_MEMCAP:-32mb}
FLOOD_FIXTURES=${FLOOD_FIXTURES:-smtp-plain large-1mb-plain starttls-tls12 mitm-mask.client-side mitm-refuse.client-side starttls-tls13 ipv6-starttls tls10-rsa}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tlsobs-bench}
SLACK_MIB=64   # the issue's bound: peak RSS <= flow.memcap + 64 MiB
TARGET_IDLE=100000   # the issue's target: 100,000 idle banner connections held within the default 128 MiB
DEFAULT_MEMCAP=128mb
ONE_SOURCE=192.0.2.66   # TEST-NET-1: outside the fixtures' networks and the random spoofed sources' picks
ONE_NET=192.0.2.0/24

die()  { echo "flood.sh: error: $*" >&2; exit 2; }
note() { echo "flood.sh: $*" >&2; }

for v in FLOOD_SYNS FLOOD_SECONDS FLOOD_TAIL FLOOD_SERVERS FLOOD_RUNS FLOOD_SOURCE_RATE; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive integer"
done
[[ $FLOOD_FRAGS =~ ^[0-9]+$ ]] || die "FLOOD_FRAGS must be a number"
[[ $((FLOOD_SOURCE_RATE * FLOOD_SECONDS)) -le $((FLOOD_SERVERS * 64512)) ]] \
	|| die "FLOOD_SOURCE_RATE x FLOOD_SECONDS over FLOOD_SERVERS x 64,512: one address would reuse its 4-tuples"
for r in $FLOOD_BANNER_RATES; do [[ $r =~ ^[1-9][0-9]*$ ]] || die "FLOOD_BANNER_RATES: '$r' is not a rate"; done

for t in cc python3 /usr/bin/time; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (Debian: gcc, python3, time; and libpcap-dev)"
done
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_tlsobs "${1:-$ROOT/build-bench}"

# Memcap strings as tlsobs reads them (1024-based k/m/g) -> bytes.
to_bytes() {
	local v=${1,,}
	[[ $v =~ ^([0-9]+)(k|kb|kib|m|mb|mib|g|gb|gib)?$ ]] || die "cannot read memcap '$1'"
	local n=${BASH_REMATCH[1]} u=${BASH_REMATCH[2]}
	case ${u:0:1} in
		k) echo $((n << 10));; m) echo $((n << 20));; g) echo $((n << 30));; *) echo "$n";;
	esac
}

declare -A gen_info
mkdir -p "$BENCH_DIR"
W=$(mktemp -d "$BENCH_DIR/flood.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM

cc -O2 -Wall -o "$W/synflood" "$ROOT/bench/synflood.c" -lpcap || die "cannot compile bench/synflood.c"
cc -O2 -Wall -o "$W/pcap_loop" "$ROOT/bench/pcap_loop.c" -lpcap || die "cannot compile bench/pcap_loop.c"

fixtures=()
for f in $FLOOD_FIXTURES; do
	[[ -f $FIXTURES/$f.pcap ]] || die "no fixture $FIXTURES/$f.pcap"
	fixtures+=("$FIXTURES/$f.pcap")
done

# ---------------------------------------------------------------- captures
# Scenarios: syn = SYNs only (spoofed, nobody answers); synack = each SYN answered by a
# SYN-ACK (a listening MTA), the client never ACKs; banner-RATE = a connection flood at RATE
# connections/s from random sources: handshake completed, the server's 220 banner acknowledged,
# then silence (the connection stays open); source / source24 = the same from one address /
# from one /24 (the per-source budget). The real packets are the same in all.
gen=(-d "$FLOOD_SECONDS" -t "$FLOOD_TAIL" -s "$FLOOD_SERVERS")
cases=()
for sc in $FLOOD_SCENARIOS; do
	case $sc in
		banner) for r in $FLOOD_BANNER_RATES; do cases+=("banner-$r"); done;;
		syn|synack|source|source24) cases+=("$sc");;
		banner-[1-9]*) [[ $sc =~ ^banner-[0-9]+$ ]] || die "unknown scenario '$sc'"; cases+=("$sc");;
		*) die "unknown scenario '$sc' (syn, synack, banner, banner-RATE, source, source24)";;
	esac
done
scenarios=()
for sc in "${cases[@]}"; do
	case $sc in
		syn)      args=(-n "$FLOOD_SYNS");;
		synack)   args=(-n "$FLOOD_SYNS" -a);;
		banner-*) args=(-r "${sc#banner-}" -e);;
		source)   args=(-r "$FLOOD_SOURCE_RATE" -e -P "$ONE_SOURCE");;
		source24) args=(-r "$FLOOD_SOURCE_RATE" -e -P "$ONE_NET");;
	esac
	note "generating the $sc flood (${args[*]} ${gen[*]}) with ${#fixtures[@]} real captures mixed in"
	info=$("$W/synflood" "${args[@]}" "${gen[@]}" -o "$W/flood-$sc.pcap" -b "$W/real.pcap" "${fixtures[@]}" 2>"$W/plan.txt") \
		|| { cat "$W/plan.txt" >&2; die "synflood failed"; }
	gen_info[$sc]="${args[*]} ${gen[*]} -> $info"
	scenarios+=("$sc")
done
[[ ${#scenarios[@]} -gt 0 ]] || die "FLOOD_SCENARIOS is empty"

# ---------------------------------------------------------------- references (untimed)
# The real sessions alone, at each memcap: the reference events, and the RSS that the idle
# flows' bytes per flow are counted from.
declare -A ref_rss
for mc in $FLOOD_MEMCAPS; do
	rm -f "$W/ref-$mc.json"
	/usr/bin/time -f '%M' -o "$W/ref.time" "$TLSOBS" -r "$W/real.pcap" -o "json:$W/ref-$mc.json" \
		--set "flow.memcap=$mc" 2>"$W/ref.summary" >/dev/null || die "tlsobs failed on the real sessions alone"
	ref_rss[$mc]=$(tail -n 1 "$W/ref.time")
done
cp "$W/ref-${FLOOD_MEMCAPS%% *}.json" "$W/ref.json"
alone=()
for f in "${fixtures[@]}"; do
	n=$(basename "$f" .pcap)
	"$TLSOBS" -q -r "$f" -o "json:$W/alone-$n.json" >/dev/null 2>&1 || die "tlsobs failed on $f"
	alone+=("$W/alone-$n.json")
done

# ---------------------------------------------------------------- runs
declare -A wall cpu rss summary loop_wall loop_packets figs
summary_field() { # summary_field TEXT REGEX -> first group
	sed -n "s/$2/\1/p" <<<"$1" | head -n 1
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for sc in "${scenarios[@]}"; do
	cap=$W/flood-$sc.pcap
	cat "$cap" >/dev/null   # page cache
	for ((r = 0; r < FLOOD_RUNS; r++)); do
		s=$(date +%s%N)
		"$W/pcap_loop" "$cap" >"$W/loop.out" || die "pcap_loop failed on $cap"
		e=$(date +%s%N)
		loop_packets[$sc]=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' "$W/loop.out")
		w=$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
		if [[ -z ${loop_wall[$sc]:-} ]] || awk -v a="$w" -v b="${loop_wall[$sc]}" 'BEGIN {exit !(a < b)}'; then loop_wall[$sc]=$w; fi
		for mc in $FLOOD_MEMCAPS; do
			k="$sc $mc"
			note "run $((r + 1))/$FLOOD_RUNS: $sc flood, flow.memcap=$mc"
			rm -f "$W/events-$sc-$mc.json"   # json: appends
			s=$(date +%s%N)
			/usr/bin/time -f '%U %S %M' -o "$W/time" "$TLSOBS" -r "$cap" -o "json:$W/events-$sc-$mc.json" \
				--set "flow.memcap=$mc" >/dev/null 2>"$W/stderr" \
				|| { tail -n 20 "$W/stderr" >&2; die "tlsobs failed on $cap with flow.memcap=$mc"; }
			e=$(date +%s%N)
			read -r u sy m < <(tail -n 1 "$W/time")
			w=$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
			c=$(awk -v u="$u" -v s="$sy" 'BEGIN {printf "%.2f", u + s}')
			if [[ -z ${wall[$k]:-} ]] || awk -v a="$w" -v b="${wall[$k]}" 'BEGIN {exit !(a < b)}'; then wall[$k]=$w; fi
			if [[ -z ${cpu[$k]:-} ]] || awk -v a="$c" -v b="${cpu[$k]}" 'BEGIN {exit !(a < b)}'; then cpu[$k]=$c; fi
			if [[ -z ${rss[$k]:-} || $m -gt ${rss[$k]} ]]; then rss[$k]=$m; fi
			summary[$k]=$(grep '^tlsobs:' "$W/stderr" || true)
			read -r -a fig < <(python3 "$ROOT/bench/flood_events.py" stats "$W/events-$sc-$mc.json" "$W/stderr")
			figs[$k]="${fig[*]}"
		done
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
hr() { printf '%*s\n' 132 '' | tr ' ' -; }
mib() { awk -v b="$1" -v d="$2" 'BEGIN {if (b == "-") print "-"; else printf "%.1f", b / d}'; }
per_flow() { # per_flow BYTES FLOWS -> bytes per flow, or - when either is unknown
	awk -v b="$1" -v n="$2" 'BEGIN {if (b == "-" || n == "-" || n + 0 == 0) print "-"; else printf "%.0f", b / n}'
}
echo
echo "tlsobs flood benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
hr
echo "host      : $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "load avg  : before $LOAD_BEFORE, after $LOAD_AFTER (shared machine: compare ratios)"
echo "tlsobs    : $TLSOBS ($("$TLSOBS" -V 2>&1 | head -n 1), ${BUILD_TYPE:-unknown build type}, git $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'))"
echo "scenarios : syn         = SYNs only, nobody answers (spoofed sources)"
echo "            synack      = each SYN answered by the server's SYN-ACK (a listening MTA), the client never ACKs"
echo "            banner-RATE = RATE connections/s from random sources: handshake completed, the 220 banner acknowledged, then idle"
echo "            source      = the same from the single address $ONE_SOURCE; source24 = from the single network $ONE_NET"
for sc in "${scenarios[@]}"; do printf '  %-11s : synflood %s\n' "$sc" "${gen_info[$sc]}"; done
echo "real      : mixed in at (T0 = flood start; the second half after the flood):"
sed 's/^synflood: /              /' "$W/plan.txt"
echo "runs      : best wall of $FLOOD_RUNS (RSS = highest, /usr/bin/time %M = peak VmHWM); pcap_loop = bare libpcap loop on the same file"
echo "reference : the real sessions alone, peak RSS $(for mc in $FLOOD_MEMCAPS; do printf '%s MiB at %s; ' "$(mib "${ref_rss[$mc]}" 1024)" "$mc"; done)"
hr
printf '%-12s %-7s %7s %6s %10s %6s %7s %7s %7s %8s %7s %7s %8s %7s %6s\n' \
	case memcap "wall s" "cpu s" "packets/s" "x loop" "RSS MiB" "cap MiB" charged "held" "B/flow" "RSS B/f" evicted refused "emerg"
hr
for sc in "${scenarios[@]}"; do
	pk=${loop_packets[$sc]}
	printf '%-12s %-7s %7.3f %6s %10.0f %6s\n' "$sc" pcap_loop "${loop_wall[$sc]}" - \
		"$(awk -v p="$pk" -v w="${loop_wall[$sc]}" 'BEGIN {print p / w}')" 1.0x
	for mc in $FLOOD_MEMCAPS; do
		k="$sc $mc"
		read -r held peak evicted refused entered left _ <<<"${figs[$k]}"
		packets=$(summary_field "${summary[$k]}" '^tlsobs: \([0-9]*\) packets.*')
		printf '%-12s %-7s %7.3f %6s %10.0f %5.1fx %7s %7s %7s %8s %7s %7s %8s %7s %6s\n' "$sc" "$mc" "${wall[$k]}" "${cpu[$k]}" \
			"$(awk -v p="$packets" -v w="${wall[$k]}" 'BEGIN {print p / w}')" \
			"$(awk -v a="${wall[$k]}" -v b="${loop_wall[$sc]}" 'BEGIN {print a / b}')" \
			"$(mib "${rss[$k]}" 1024)" "$(mib "$(to_bytes "$mc")" 1048576)" \
			"$(mib "$peak" 1048576)" "$held" "$(per_flow "$peak" "$held")" \
			"$(per_flow "$(( (rss[$k] - ref_rss[$mc]) * 1024 ))" "$held")" "$evicted" "$refused" "$entered/$left"
	done
done
hr
echo "charged = the flow table's own peak (tlsobs.stats flows.memory_peak); held = flows held at once (flows.peak_active,"
echo "or the exit summary's peak); B/flow = charged / held; RSS B/f = (peak RSS - the reference's) / held; emerg = emergency"
echo "mode entered/left. Evictions by reason (tlsobs.stats flows.evicted_by):"
for sc in "${scenarios[@]}"; do
	for mc in $FLOOD_MEMCAPS; do
		read -r -a fig <<<"${figs["$sc $mc"]}"
		by=${fig[6]}
		[[ $by == - ]] && by="- (the sensor gives no flows.evicted_by)"
		printf '  %-12s %-7s %s\n' "$sc" "$mc" "${by//,/, }"
	done
done
echo

fails=0
verdict() { # verdict OK|FAIL TEXT
	if [[ $1 == OK ]]; then echo "PASS  $2"; else echo "FAIL  $2"; fails=$((fails + 1)); fi
}
for sc in "${scenarios[@]}"; do
	for mc in $FLOOD_MEMCAPS; do
		k="$sc $mc"
		read -r held _ evicted refused entered left by <<<"${figs[$k]}"
		cap_kib=$(( $(to_bytes "$mc") / 1024 + SLACK_MIB * 1024 ))
		r=${rss[$k]}
		ok=FAIL; [[ $r -le $cap_kib ]] && ok=OK
		verdict $ok "$(printf '[%s %s] peak RSS %.1f MiB <= memcap + %d MiB = %.1f MiB' "$sc" "$mc" \
			"$(mib "$r" 1024)" "$SLACK_MIB" "$(mib "$cap_kib" 1024)")"
		if [[ $sc == syn || $sc == synack ]]; then
			# Half-open flows time out in the tail, so the sensor must leave emergency mode; a
			# connection flood's idle flows stay established: entered/left is only printed there.
			ok=FAIL; [[ ${entered:-0} -ge 1 && ${left:-0} -ge 1 ]] && ok=OK
			verdict $ok "[$sc $mc] emergency mode entered $entered and left $left times (want >= 1 each)"
		fi
		conns=$(sed -n 's/.*-> syns=\([0-9]*\) .*/\1/p' <<<"${gen_info[$sc]}")
		if [[ $sc == banner-* && $mc == "$DEFAULT_MEMCAP" && $conns -ge $TARGET_IDLE ]]; then
			ok=FAIL; [[ $held != - && $held -ge $TARGET_IDLE ]] && ok=OK
			verdict $ok "[$sc $mc] idle connections held at once: $held of $conns (want >= $TARGET_IDLE within the default memcap)"
		fi
		if [[ $sc == source || $sc == source24 ]]; then
			# The budget acts once memory is short: a source over it then pays first, with its own
			# flows. When the memcap was never short there is nothing to contain (said so).
			budget=$(tr ',' '\n' <<<"$by" | awk -F= '$1 ~ /source|budget|prefix|address/ {n += $2} END {print n + 0}')
			if [[ $evicted == 0 ]]; then
				verdict OK "[$sc $mc] the memcap was never short (no eviction): the per-source budget had nothing to contain"
			else
				ok=FAIL; [[ $budget -gt 0 ]] && ok=OK
				verdict $ok "[$sc $mc] the per-source budget evicted the source's flows: $budget of $evicted evictions (flows.evicted_by: ${by//,/, })"
			fi
		fi
		if python3 "$ROOT/bench/flood_events.py" compare "$W/ref-$mc.json" "$W/events-$sc-$mc.json" "${alone[@]}" \
			>"$W/cmp.txt"; then ok=OK; else ok=FAIL; fi
		verdict $ok "[$sc $mc] each real session's events equal those without the flood: $(tail -n +2 "$W/cmp.txt" | head -n 1 | sed 's/^events: //')"
		if [[ $ok != OK ]]; then # how each differing session differs (FLOOD_VERBOSE=1: also event by event)
			if [[ $FLOOD_VERBOSE == 1 ]]; then sed -n 's/^  /        /p' "$W/cmp.txt"
			else grep -v '^    only ' "$W/cmp.txt" | sed -n 's/^  /        /p' | cut -c 1-300; fi
		fi
	done
done
echo
echo "real sessions with the ${scenarios[0]} flood (first memcap) vs each fixture run alone (information:"
echo "cross-session rules may differ once fixtures are mixed, with or without the flood):"
python3 "$ROOT/bench/flood_events.py" alone "$W/events-${scenarios[0]}-${FLOOD_MEMCAPS%% *}.json" "${alone[@]}" \
	|| fails=$((fails + 1))
echo
echo "tlsobs summary (${scenarios[0]} flood, flow.memcap=${FLOOD_MEMCAPS%% *}, last run):"
while IFS= read -r line; do echo "  $line"; done <<<"${summary["${scenarios[0]} ${FLOOD_MEMCAPS%% *}"]}"
hr

# ---------------------------------------------------------------- fragment flood
# The real sessions cut into shuffled 32-byte fragments, alone (the reference) and after
# FLOOD_FRAGS first fragments that never complete: reassembly must stay within
# defrag.memcap (giving up the oldest datagrams) and the real sessions come out the same.
if [[ $FLOOD_FRAGS -gt 0 ]]; then
	note "generating the fragment flood ($FLOOD_FRAGS never-completing first fragments)"
	python3 "$ROOT/scripts/fragment-capture.py" "$W/real.pcap" "$W/frag-ref.pcap" --order shuffle 2>/dev/null \
		|| die "fragment-capture.py failed"
	python3 "$ROOT/scripts/fragment-capture.py" "$W/real.pcap" "$W/frag-flood.pcap" --order shuffle \
		--flood "$FLOOD_FRAGS" 2>/dev/null || die "fragment-capture.py --flood failed"
	dopt=(--set "defrag.memcap=$FLOOD_DEFRAG_MEMCAP")
	/usr/bin/time -f '%M' -o "$W/frag-ref.time" "$TLSOBS" -r "$W/frag-ref.pcap" -o "json:$W/frag-ref.json" \
		"${dopt[@]}" >/dev/null 2>"$W/frag-ref.err" || die "tlsobs failed on the fragmented real sessions"
	s=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$W/frag.time" "$TLSOBS" -r "$W/frag-flood.pcap" -o "json:$W/frag.json" "${dopt[@]}" \
		>/dev/null 2>"$W/frag.err" || die "tlsobs failed on the fragment flood"
	e=$(date +%s%N)
	fw=$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
	frss=$(tail -n 1 "$W/frag.time") rrss=$(tail -n 1 "$W/frag-ref.time")
	fstats=$(grep '"dataset":"tlsobs.stats"' "$W/frag.json" | tail -n 1)
	read -r fpeak fgave < <(python3 -c 'import json, sys
d = json.loads(sys.stdin.read())["tlsobs"]["stats"]["defrag"]
print(d["memory_peak"], d["gave_up"]["memcap"])' <<<"$fstats")
	fpk=$(summary_field "$(cat "$W/frag.err")" '^tlsobs: \([0-9]*\) packets.*')
	echo "fragment flood: $FLOOD_FRAGS first fragments + the real sessions in fragments, defrag.memcap=$FLOOD_DEFRAG_MEMCAP:"
	printf '  wall %.3f s, %.0f packets/s, peak RSS %.1f MiB (fragmented sessions alone %.1f MiB), defrag peak %.1f MiB, %s datagrams given up at the memcap\n' \
		"$fw" "$(awk -v p="$fpk" -v w="$fw" 'BEGIN {print p / w}')" "$(awk -v m="$frss" 'BEGIN {print m / 1024}')" \
		"$(awk -v m="$rrss" 'BEGIN {print m / 1024}')" "$(awk -v b="${fpeak:-0}" 'BEGIN {print b / 1048576}')" "${fgave:-?}"
	cap_kib=$((rrss + $(to_bytes "$FLOOD_DEFRAG_MEMCAP") / 1024 + 16 * 1024))
	ok=FAIL; [[ $frss -le $cap_kib ]] && ok=OK
	verdict $ok "[frag] peak RSS $((frss / 1024)) MiB <= without the flood + defrag.memcap + 16 MiB = $((cap_kib / 1024)) MiB"
	ok=FAIL; [[ ${fpeak:-0} -le $(to_bytes "$FLOOD_DEFRAG_MEMCAP") && ${fgave:-0} -gt 0 ]] && ok=OK
	verdict $ok "[frag] reassembly held defrag.memcap (peak ${fpeak:-?} bytes) by giving up ${fgave:-?} datagrams"
	if python3 "$ROOT/bench/flood_events.py" compare "$W/frag-ref.json" "$W/frag.json" >"$W/cmp.txt"; then ok=OK; else ok=FAIL; fi
	verdict $ok "[frag] real sessions' events equal those without the flood: $(head -n 1 "$W/cmp.txt" | sed 's/^events: //')"
	[[ $ok == OK ]] || sed -n 's/^  /        /p' "$W/cmp.txt"
	hr
fi
if [[ $fails -eq 0 ]]; then echo "flood.sh: all checks PASS"; else echo "flood.sh: $fails check(s) FAIL"; exit 1; fi
