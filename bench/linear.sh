#!/usr/bin/env bash
# bench/linear.sh [BUILD_DIR] - processing time must grow linearly with the input, whatever
# its shape: one session of a million pipelined RCPT lines, and one of a million 1-byte
# segments, each against the same number of bytes of ordinary SMTP traffic, and each at
# 1/4 of the size to see the growth. And the reassembly queue under holes: H 1-byte holes, then
# R 1-byte retransmissions of the bytes between them, against the same packets in order, at
# H/4 and H. See bench/README.md.
#
# A benchmark: it prints figures with PASS/FAIL marks but exits 0 unless something breaks
# (a tool missing or failing, a session not reported). The machine is shared: rerun before
# believing a FAIL near the bound.
#
# Environment:
#   LINEAR_N=1000000         lines (rcpt cases) or bytes (tiny case) at full size
#   LINEAR_SMALL=LINEAR_N/4  the smaller size for the growth check
#   LINEAR_RUNS=5            timed runs per file (least CPU time)
#   LINEAR_CASES="rcpt rcpt-burst rcpt-domains tiny tiny-ooo holes"
#   LINEAR_HOLES=4000        holes case: 1-byte holes (and 1-byte segments between them) at full size
#   LINEAR_RETRANS=100000    holes case: 1-byte retransmissions of the buffered bytes
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
LINEAR_CASES=${LINEAR_CASES:-rcpt rcpt-burst rcpt-domains tiny tiny-ooo holes}
LINEAR_HOLES=${LINEAR_HOLES:-4000}
LINEAR_RETRANS=${LINEAR_RETRANS:-100000}
LINEAR_BOUND=${LINEAR_BOUND:-5}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tlsobs-bench}

die()  { echo "linear.sh: error: $*" >&2; exit 2; }
note() { echo "linear.sh: $*" >&2; }

for v in LINEAR_N LINEAR_SMALL LINEAR_RUNS LINEAR_BOUND LINEAR_HOLES LINEAR_RETRANS; do
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
		*) die "unknown case '$1' (rcpt, rcpt-burst, rcpt-domains, tiny, tiny-ooo, holes)";;
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

# The per-byte cases; `holes` is timed against its own packets in order (below).
BYTE_CASES=""
HOLES=0
for c in $LINEAR_CASES; do
	if [[ $c == holes ]]; then HOLES=1; else gen_args "$c" 1 >/dev/null; BYTE_CASES+=" $c"; fi
done

declare -A t_case l_case t_base l_base bytes packets bbytes bpackets events
declare -A h_ooo h_inorder h_packets h_events
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for c in $BYTE_CASES; do
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
H_SMALL=$((LINEAR_HOLES / 4 > 0 ? LINEAR_HOLES / 4 : 1))
HOLE_SIZES="$H_SMALL $LINEAR_HOLES"
if ((HOLES)); then
	for h in $HOLE_SIZES; do
		note "holes H=$h R=$LINEAR_RETRANS: generating"
		info=$("$W/gen_stress" -g "$h" holes "$LINEAR_RETRANS" "$W/holes.pcap") || die "gen_stress failed"
		h_packets[$h]=$(kv packets "$info")
		"$W/gen_stress" -g "$h" holes-inorder "$LINEAR_RETRANS" "$W/inorder.pcap" >/dev/null || die "gen_stress failed"
		# Correctness, untimed: both orders tell the same story (the retransmissions counted, no gap).
		for f in holes inorder; do
			"$TLSOBS" -r "$W/$f.pcap" -o "json:$W/$f.json" >/dev/null 2>"$W/case.err" || die "tlsobs failed on $f"
		done
		h_events[$h]=$(python3 -c 'import json, sys
out = []
for path in sys.argv[1:]:
    for line in open(path):
        e = json.loads(line)
        if e["event"]["dataset"] == "tlsobs.session":
            d = e["tlsobs"]["flow"]["to_server"]
            out.append("client bytes %s, retransmitted %s, gaps %s, conflicts %s, cap hits %s" % (
                d["bytes"], d["retransmitted_bytes"], d["gaps"], d["overlap_conflicts"], d["ooo_cap_hits"]))
            break
print(out[0] if len(out) == 2 and out[0] == out[1] else "MISMATCH: " + " / ".join(out))' "$W/holes.json" "$W/inorder.json")
		rm -f "$W/holes.json" "$W/inorder.json"
		cat "$W/holes.pcap" "$W/inorder.pcap" >/dev/null
		note "holes H=$h: timing ($LINEAR_RUNS runs each)"
		h_ooo[$h]=$(tlsobs_time "$W/holes.pcap"); h_inorder[$h]=$(tlsobs_time "$W/inorder.pcap")
	done
fi
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
if [[ -n $BYTE_CASES ]]; then
	echo "cases     :"
	for c in $BYTE_CASES; do printf '  %-13s %s\n' "$c" "$(describe "$c")"; done
	echo "baseline  : ordinary sessions (bench/gen_stress.c normal: EHLO, MAIL, 2 RCPT, a 20 kB message in full-size"
	echo "            segments), as many as make the same number of packet bytes as the case"
	echo "ratio     : (case seconds / case bytes) / (baseline seconds / baseline bytes); PASS at most $LINEAR_BOUND"
	echo "            (per packet: the same per packet, for information; loop = bare libpcap read of the same files)"
	hr
	printf '%-13s %8s %9s %8s %9s %8s | %9s %8s %9s | %7s %7s %7s  %s\n' case N packets MB "tlsobs s" "loop s" \
		"packets" MB "tlsobs s" "x byte" "x pkt" "x loop" verdict
	hr
	for c in $BYTE_CASES; do
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
	for c in $BYTE_CASES; do
		ks="$c $LINEAR_SMALL" kl="$c $LINEAR_N"
		ts=$(net "${t_case[$ks]}"); tl=$(net "${t_case[$kl]}")
		read -r gt gb < <(awk -v a="$ts" -v b="$tl" -v x="${bytes[$ks]}" -v y="${bytes[$kl]}" 'BEGIN {printf "%.2f %.2f\n", b / a, y / x}')
		v=PASS; awk -v t="$gt" -v b="$gb" 'BEGIN {exit !(t > 1.5 * b)}' && v=FAIL
		printf '  %-13s %8ss -> %8ss: time x%-6s bytes x%-6s %s\n' "$c" "$ts" "$tl" "$gt" "$gb" "$v"
	done
	echo "what the sensor made of each case at N=$LINEAR_N (first session event):"
	for c in $BYTE_CASES; do printf '  %-13s %s\n' "$c" "${events["$c $LINEAR_N"]}"; done
	hr
fi
if ((HOLES)); then
	echo "holes     : H 1-byte segments each behind a 1-byte hole (bytes 1, 3, 5, ... of the message body), then"
	echo "            R=$LINEAR_RETRANS 1-byte retransmissions of them (cycling), then the holes filled; against the"
	echo "            same packets in sequence order (each retransmission right after its byte). seconds as above;"
	echo "            ratio = out of order / in order, PASS at most $LINEAR_BOUND"
	hr
	printf '%-8s %9s | %12s %12s %8s  %s\n' H packets "holes s" "in order s" ratio verdict
	for h in $HOLE_SIZES; do
		to=$(net "${h_ooo[$h]}"); ti=$(net "${h_inorder[$h]}")
		r=$(awk -v a="$to" -v b="$ti" 'BEGIN {printf "%.2f", a / b}')
		v=PASS; awk -v r="$r" -v m="$LINEAR_BOUND" 'BEGIN {exit !(r > m)}' && v=FAIL
		printf '%-8s %9s | %12s %12s %7sx  %s\n' "$h" "${h_packets[$h]}" "$to" "$ti" "$r" "$v"
	done
	echo "growth from H=$H_SMALL to H=$LINEAR_HOLES (out of order; a walk of the buffered list grows with H, a tree" \
		"as log H): x$(awk -v a="$(net "${h_ooo[$H_SMALL]}")" -v b="$(net "${h_ooo[$LINEAR_HOLES]}")" 'BEGIN {printf "%.2f", b / a}')"
	echo "what the sensor made of it at H=$LINEAR_HOLES (both orders alike): ${h_events[$LINEAR_HOLES]}"
	hr
fi
