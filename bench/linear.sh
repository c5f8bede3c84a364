#!/usr/bin/env bash
# bench/linear.sh [BUILD_DIR] - processing time must grow linearly with the input, whatever
# its shape: one session of a million pipelined RCPT lines, and one of a million 1-byte
# segments, each against the same number of bytes of ordinary SMTP traffic, and each at
# 1/4 of the size to see the growth. See bench/README.md.
#
# A benchmark: it prints figures with PASS/FAIL marks but exits 0 unless something breaks
# (a tool missing or failing, a session not reported). The machine is shared: rerun before
# believing a FAIL near the bound.
#
# Environment:
#   LINEAR_N=1000000         lines (rcpt cases) or bytes (tiny case) at full size
#   LINEAR_SMALL=LINEAR_N/4  the smaller size for the growth check
#   LINEAR_RUNS=5            timed runs per file (least CPU time)
#   LINEAR_CASES="rcpt rcpt-burst rcpt-domains tiny tiny-ooo"
#   LINEAR_BOUND=5           PASS when the time per byte is at most this times the baseline's
#   BENCH_DIR=/var/tmp/tlsobs-bench   work dir (captures live in a temp dir in it, deleted at exit)
#
# BUILD_DIR defaults to <repo>/build-bench (configured RelWithDebInfo and built if missing).

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LINEAR_N=${LINEAR_N:-1000000}
LINEAR_SMALL=${LINEAR_SMALL:-$((LINEAR_N / 4))}
LINEAR_RUNS=${LINEAR_RUNS:-5}
LINEAR_CASES=${LINEAR_CASES:-rcpt rcpt-burst rcpt-domains tiny tiny-ooo}
LINEAR_BOUND=${LINEAR_BOUND:-5}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tlsobs-bench}

die()  { echo "linear.sh: error: $*" >&2; exit 2; }
note() { echo "linear.sh: $*" >&2; }

for v in LINEAR_N LINEAR_SMALL LINEAR_RUNS LINEAR_BOUND; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive integer"
done

for t in cc python3; do command -v "$t" >/dev/null 2>&1 || die "$t not found (Debian: gcc, libpcap-dev, python3)"; done
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_tlsobs "${1:-$ROOT/build-bench}"

mkdir -p "$BENCH_DIR"
W=$(mktemp -d "$BENCH_DIR/linear.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
cc -O2 -Wall -o "$W/gen_stress" "$ROOT/bench/gen_stress.c" -lpcap || die "cannot compile bench/gen_stress.c"
cc -O2 -Wall -o "$W/pcap_loop" "$ROOT/bench/pcap_loop.c" -lpcap || die "cannot compile bench/pcap_loop.c"

gen_args() { # gen_args CASE N -> the generator's arguments
	case $1 in
		rcpt)         echo "rcpt $2";;
		rcpt-burst)   echo "-g 2000 rcpt $2";;
		rcpt-domains) echo "rcpt-domains $2";;
		tiny)         echo "tiny $2";;
		tiny-ooo)     echo "-g 4000 tiny-ooo $2";;
		*) die "unknown case '$1' (rcpt, rcpt-burst, rcpt-domains, tiny, tiny-ooo)";;
	esac
}
describe() {
	case $1 in
		rcpt)         echo "1 session: EHLO, MAIL, N pipelined RCPT TO:<userK@example.org> (groups of 100), 250 each";;
		rcpt-burst)   echo "the same in groups of 2000 (64 kB windows): past the 128 commands tlsobs tracks";;
		rcpt-domains) echo "the same with a new domain per recipient (RCPT TO:<user@dK.example.org>)";;
		tiny)         echo "1 session: an ordinary transaction of N client bytes, in N 1-byte segments, each acked";;
		tiny-ooo)     echo "the same, but in each run of 4000 segments the first comes last (4000 wait behind a hole)";;
	esac
}

# best_time CMD... -> the least CPU time (user + sys, from wait4: microseconds) of LINEAR_RUNS
# runs of CMD. CPU time rather than wall time: the machines are shared, and CPU time moves
# much less with the load than wall time does (all of these are CPU-bound, from the page cache).
cat >"$W/cputime.py" <<'EOF'
import os, subprocess, sys
runs, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(runs):
    with open(os.devnull, "wb") as null, open(os.environ["CPUTIME_ERR"], "wb") as err:
        p = subprocess.Popen(cmd, stdout=null, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(1)
    t = ru.ru_utime + ru.ru_stime
    best = t if best is None else min(best, t)
print("%.4f" % best)
EOF
best_time() {
	CPUTIME_ERR=$W/err python3 "$W/cputime.py" "$LINEAR_RUNS" "$@" || { tail -n 5 "$W/err" >&2; die "failed: $*"; }
}
tlsobs_time() { best_time "$TLSOBS" -q -r "$1" -o json:/dev/null; }
loop_time() { best_time "$W/pcap_loop" "$1"; }
kv() { sed -n "s/.*$1=\\([0-9]*\\).*/\\1/p" <<<"$2"; }

# Start-up (configuration, CA store) is paid once per run whatever the input: measured on a
# one-session capture and taken off every time below.
"$W/gen_stress" normal 1 "$W/one.pcap" >/dev/null
STARTUP=$(tlsobs_time "$W/one.pcap")

declare -A t_case l_case t_base l_base bytes packets bbytes bpackets events
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for c in $LINEAR_CASES; do
	for n in "$LINEAR_SMALL" "$LINEAR_N"; do
		k="$c $n"
		note "$c N=$n: generating"
		# shellcheck disable=SC2046  # gen_args is split on purpose
		info=$("$W/gen_stress" $(gen_args "$c" "$n") "$W/case.pcap") || die "gen_stress failed"
		bytes[$k]=$(kv bytes "$info"); packets[$k]=$(kv packets "$info")
		binfo=$("$W/gen_stress" normal "${bytes[$k]}" "$W/base.pcap") || die "gen_stress failed"
		bbytes[$k]=$(kv bytes "$binfo"); bpackets[$k]=$(kv packets "$binfo")
		# Correctness, untimed: the session is reported, with what the parser made of it.
		"$TLSOBS" -r "$W/case.pcap" -o "json:$W/case.json" >/dev/null 2>"$W/case.err" || die "tlsobs failed on $c"
		grep -q '"dataset":"tlsobs.session"' "$W/case.json" || die "$c N=$n: no session reported"
		events[$k]=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"]["dataset"] != "tlsobs.session":
        continue
    t = e["tlsobs"]; s = t.get("smtp", {})
    print("sessions 1, transactions %s, rcpt domains %d, data in clear %s, gaps %s, anomalies %s, client bytes %s" % (
        s.get("transactions"), len(s.get("rcpt_to_domains", [])), s.get("data_in_clear"), t["flow"]["gaps"],
        json.dumps(s.get("anomalies"), separators=(",", ":")), t["flow"]["to_server"]["bytes"]))
    break' "$W/case.json" 2>/dev/null || echo '?')
		rm -f "$W/case.json"
		cat "$W/case.pcap" "$W/base.pcap" >/dev/null   # page cache
		note "$c N=$n: timing ($LINEAR_RUNS runs each)"
		t_case[$k]=$(tlsobs_time "$W/case.pcap"); l_case[$k]=$(loop_time "$W/case.pcap")
		t_base[$k]=$(tlsobs_time "$W/base.pcap"); l_base[$k]=$(loop_time "$W/base.pcap")
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
hr() { printf '%*s\n' 118 '' | tr ' ' -; }
net() { awk -v t="$1" -v s="$STARTUP" 'BEGIN {d = t - s; printf "%.4f", (d > 0.0005 ? d : 0.0005)}'; }
echo
echo "tlsobs linear-time benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
hr
echo "host      : $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); load avg before $LOAD_BEFORE, after $LOAD_AFTER"
echo "tlsobs    : $TLSOBS ($("$TLSOBS" -V 2>&1 | head -n 1), ${BUILD_TYPE:-unknown build type}, git $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'))"
echo "command   : tlsobs -q -r FILE -o json:/dev/null; seconds = least CPU time (user+sys) of $LINEAR_RUNS runs,"
echo "            minus start-up ($STARTUP s, on a one-session file)"
echo "cases     :"
for c in $LINEAR_CASES; do printf '  %-13s %s\n' "$c" "$(describe "$c")"; done
echo "baseline  : ordinary sessions (bench/gen_stress.c normal: EHLO, MAIL, 2 RCPT, a 20 kB message in full-size"
echo "            segments), as many as make the same number of packet bytes as the case"
echo "ratio     : (case seconds / case bytes) / (baseline seconds / baseline bytes); PASS at most $LINEAR_BOUND"
echo "            (per packet: the same per packet, for information; loop = bare libpcap read of the same files)"
hr
printf '%-13s %8s %9s %8s %9s %8s | %9s %8s %9s | %7s %7s %7s  %s\n' case N packets MB "tlsobs s" "loop s" \
	"packets" MB "tlsobs s" "x byte" "x pkt" "x loop" verdict
hr
for c in $LINEAR_CASES; do
	for n in "$LINEAR_SMALL" "$LINEAR_N"; do
		k="$c $n"
		tc=$(net "${t_case[$k]}"); tb=$(net "${t_base[$k]}")
		read -r rb rp rl < <(awk -v tc="$tc" -v tb="$tb" -v b="${bytes[$k]}" -v bb="${bbytes[$k]}" \
			-v p="${packets[$k]}" -v bp="${bpackets[$k]}" -v lc="${l_case[$k]}" -v lb="${l_base[$k]}" 'BEGIN {
			printf "%.2f %.2f %.2f\n", (tc / b) / (tb / bb), (tc / p) / (tb / bp), (lc / b) / (lb / bb) }')
		v=PASS; awk -v r="$rb" -v m="$LINEAR_BOUND" 'BEGIN {exit !(r > m)}' && v=FAIL
		printf '%-13s %8s %9s %8.1f %9s %8s | %9s %8.1f %9s | %6sx %6sx %6sx  %s\n' "$c" "$n" "${packets[$k]}" \
			"$(awk -v b="${bytes[$k]}" 'BEGIN {print b / 1e6}')" "$tc" "${l_case[$k]}" "${bpackets[$k]}" \
			"$(awk -v b="${bbytes[$k]}" 'BEGIN {print b / 1e6}')" "$tb" "$rb" "$rp" "$rl" "$v"
	done
done
hr
echo "growth from N=$LINEAR_SMALL to N=$LINEAR_N (linear: time grows as the bytes do; PASS within 1.5x of that):"
for c in $LINEAR_CASES; do
	ks="$c $LINEAR_SMALL" kl="$c $LINEAR_N"
	ts=$(net "${t_case[$ks]}"); tl=$(net "${t_case[$kl]}")
	read -r gt gb < <(awk -v a="$ts" -v b="$tl" -v x="${bytes[$ks]}" -v y="${bytes[$kl]}" 'BEGIN {printf "%.2f %.2f\n", b / a, y / x}')
	v=PASS; awk -v t="$gt" -v b="$gb" 'BEGIN {exit !(t > 1.5 * b)}' && v=FAIL
	printf '  %-13s %8ss -> %8ss: time x%-6s bytes x%-6s %s\n' "$c" "$ts" "$tl" "$gt" "$gb" "$v"
done
echo "what the sensor made of each case at N=$LINEAR_N (first session event):"
for c in $LINEAR_CASES; do printf '  %-13s %s\n' "$c" "${events["$c $LINEAR_N"]}"; done
hr
