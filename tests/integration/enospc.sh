#!/usr/bin/env bash
# A full disk never corrupts a json: output: on a 64 KiB tmpfs every line in the file is a whole JSON
# object (a line cut by ENOSPC is truncated away), the events that did not fit are counted as failed, the
# condition is logged once (then at most once a minute), and the run exits 1. Live, in a network namespace
# of our own: with the tmpfs filled up, a session is dropped; once space is back the next session is
# written on a line boundary and "writing again" is logged.
# Needs root (mount, capture); 77 with the reason otherwise.
set -uo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: mounting a tmpfs needs root"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
fixtures=$TLSOBS_SOURCE_DIR/tests/fixtures
work=$(mktemp -d /tmp/tlsobs-enospc.XXXXXX)
mnt=$work/mnt
ns=tlsobs-nospc-$$
sensor=
mkdir "$mnt"
cleanup() {
	[ -n "$sensor" ] && kill -KILL "$sensor" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	umount "$mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mount -t tmpfs -o size=64k tlsobs-enospc "$mnt" 2>"$work/mount.err" ||
	{ echo "skip: cannot mount a tmpfs here: $(cat "$work/mount.err")"; exit 77; }
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
# whole FILE: every line is a JSON object and the file ends with a newline; prints the line count
whole() {
	python3 - "$1" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit(f"{sys.argv[1]}: ends inside a line")
lines = data.split(b"\n")[:-1]
for n, line in enumerate(lines, 1):
    if not isinstance(json.loads(line), dict):
        sys.exit(f"line {n} is not an object")
print(len(lines))
PY
}

# ---- a capture that does not fit ----
pcaps=()
for f in "$fixtures"/*.pcap; do pcaps+=(-r "$f"); done
"$TLSOBS" "${pcaps[@]}" -o "json:$mnt/events.json" 2>"$work/full.err"
status=$?
lines=$(whole "$mnt/events.json") || lines=broken
failed=$(sed -n 's/^tlsobs: output json:.*: \([0-9]*\) events written, \([0-9]*\) failed$/\2/p' "$work/full.err")
written=$(sed -n 's/^tlsobs: output json:.*: \([0-9]*\) events written, \([0-9]*\) failed$/\1/p' "$work/full.err")
check "exit 1 when events could not be written (status $status)" '[ "$status" -eq 1 ]'
check "every line in the full file is a whole JSON object ($lines lines, $(stat -c %s "$mnt/events.json") bytes)" \
	'[ "$lines" != broken ] && [ "$lines" -ge 1 ]'
check "the lines written are the events counted as written ($written)" '[ "$lines" = "$written" ]'
check "the events that did not fit are counted as failed ($failed)" '[ "${failed:-0}" -ge 1 ]'
check "ENOSPC is logged once, as a warning (not once per event)" \
	'[ "$(grep -c "warning output: json:.*: No space left on device: events are dropped" "$work/full.err")" -eq 1 ]'
rm -f "$mnt/events.json"

# ---- live: full, then space back ----
if ! command -v tcpreplay >/dev/null || ! ip netns add "$ns" 2>/dev/null; then
	[ "$fail" -eq 0 ] || exit 1
	echo "skip: the live part needs tcpreplay and a network namespace"
	exit 77
fi
ip -n "$ns" link add nsp-rep0 type veth peer name nsp-span0
ip -n "$ns" link set nsp-rep0 up
ip -n "$ns" link set nsp-span0 up
ip netns exec "$ns" "$TLSOBS" -i nsp-span0 --set flow.timeout.closed=1s --set stats.interval=0 \
	-o "json:$mnt/live.json" 2>"$work/live.err" &
sensor=$!
sleep 1
dd if=/dev/zero of="$mnt/filler" bs=1k count=1024 2>/dev/null # fills the tmpfs
ip netns exec "$ns" tcpreplay -q -i nsp-rep0 --topspeed "$fixtures/starttls-tls13.pcap" >/dev/null
for _ in $(seq 50); do grep -q "No space left" "$work/live.err" && break; sleep 0.1; done
rm -f "$mnt/filler" # space is back
ip netns exec "$ns" tcpreplay -q -i nsp-rep0 --topspeed "$fixtures/smtp-plain.pcap" >/dev/null
for _ in $(seq 50); do grep -q "writing again" "$work/live.err" && break; sleep 0.1; done
kill -TERM "$sensor"
wait "$sensor"
status=$?
sensor=
lines=$(whole "$mnt/live.json") || lines=broken
check "live: the session while the disk was full is dropped and logged" 'grep -q "warning output: .*No space left on device" "$work/live.err"'
check "live: once space is back, writing again is logged" 'grep -q "notice output: json:.*live.json: writing again" "$work/live.err"'
check "live: the file holds whole lines only, the later session among them ($lines lines)" \
	'[ "$lines" != broken ] && [ "$(grep -c "\"dataset\":\"tlsobs.session\"" "$mnt/live.json")" -eq 1 ]'
check "live: exit 1, events were lost (status $status)" '[ "$status" -eq 1 ]'
[ "$fail" -eq 0 ] || { cat "$work/full.err" "$work/live.err"; exit 1; }
