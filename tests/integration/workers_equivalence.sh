#!/usr/bin/env bash
# workers_equivalence.sh: the same events with --workers 1, 2 and 3 (issue 17). Every fixture directory,
# the lab and public corpora when present (/work/shared/corpus or TLSOBS_CORPUS), each read with one, two
# and three workers (three on a two-core machine forces interleaving); the events compared as multisets by
# workers_equivalence.py (apart from event.id, event.created and session ids; stats events left out).
# tests/fixtures/demo.pcap repeats the other fixtures' sessions at the same times: read after them, the
# packet clock jumps back, and one worker's idle expiry then depends on which other flows share its table
# (its lists are in touch order, and an expiry stops at the first flow not yet due), so it is read on its
# own; the public corpus's captures, from many years, one file at a time, for the same reason. Also --any-port --all-flows (nDPI names of
# flows that are not mail), and a small flow.memcap with one worker against three: evictions may differ
# there by design (each worker has its own table and a third of the memcap), so only the session count
# is compared. Needs python3 (exit 77 without it).
set -uo pipefail
: "${TLSOBS:?}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=$SRC/tests/fixtures
CORPUS=${TLSOBS_CORPUS:-/work/shared/corpus}
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail=0

# run NAME WORKERS ARGS...: the events of one run into $W/NAME.WORKERS.json
run() {
	local name=$1 n=$2
	shift 2
	if ! "$TLSOBS" -q --workers "$n" -o "json:$W/$name.$n.json" "$@" 2>"$W/$name.$n.err"; then
		echo "FAIL $name: tlsobs --workers $n exited non-zero"
		cat "$W/$name.$n.err"
		fail=1
	fi
	touch "$W/$name.$n.json"
}

# same NAME ARGS...: one, two and three workers give the same events
same() {
	local name=$1
	shift
	for n in 1 2 3; do run "$name" "$n" "$@"; done
	for n in 2 3; do
		if python3 "$SRC/tests/integration/workers_equivalence.py" "$W/$name.1.json" "$W/$name.$n.json" \
			>"$W/$name.$n.diff"; then
			echo "ok   $name: --workers $n as 1 ($(tail -1 "$W/$name.$n.diff"))"
		else
			echo "FAIL $name: --workers $n differs from 1"
			head -c 4000 "$W/$name.$n.diff"
			fail=1
		fi
	done
}

mkdir "$W/fixtures"
for f in "$FIX"/*.pcap; do [ "$(basename "$f")" = demo.pcap ] || ln -s "$f" "$W/fixtures/"; done
same fixtures -r "$W/fixtures"
same demo -r "$FIX/demo.pcap"
same fixtures-all-flows -r "$W/fixtures" --any-port --all-flows
for d in "$FIX"/*/; do
	ls "$d" | grep -q '\.pcap' && same "fixtures-$(basename "$d")" -r "$d"
done
if [ -d "$CORPUS/lab" ]; then
	same lab -r "$CORPUS/lab"
else
	echo "note: $CORPUS/lab absent: the lab corpus is not compared"
fi
# The public captures come from many years (zeek/smtp.pcap alone spans 2009 to 2015): one file at a time.
if [ -d "$CORPUS/public" ]; then
	for f in "$CORPUS"/public/*/*.pcap "$CORPUS"/public/*/*.pcapng; do
		[ -f "$f" ] || continue
		same "public-$(basename "$(dirname "$f")")-$(basename "$f")" -r "$f"
	done
fi

# Memory pressure: each worker has its own table (a third of flow.memcap): sessions may be cut elsewhere.
for n in 1 3; do
	run memcap "$n" -r "$W/fixtures" --set flow.memcap=1mb --set flow.hash_size=1024
done
count() { grep -c '"dataset":"tlsobs.session"' "$1"; }
if [ "$(count "$W/memcap.1.json")" = "$(count "$W/memcap.3.json")" ]; then
	echo "ok   memcap: as many sessions with three workers as with one"
else
	echo "FAIL memcap: $(count "$W/memcap.1.json") sessions with one worker, $(count "$W/memcap.3.json") with three"
	fail=1
fi
exit $fail
