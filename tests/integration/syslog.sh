#!/usr/bin/env bash
# log.target: syslog: the sensor's own messages go to /dev/log (facility daemon, ident tlsobs, the level as
# priority) and not to standard error, where only the exit summary stays. /dev/log is a datagram socket of our
# own, in a private mount namespace (a tmpfs over /dev), so the machine's logger is never touched.
# Needs root, unshare and python3; 77 otherwise.
set -uo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: a private mount namespace needs root"; exit 77; }
for c in unshare python3 mknod; do command -v "$c" >/dev/null || { echo "skip: $c missing"; exit 77; }; done
work=$(mktemp -d /tmp/tlsobs-syslog.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/listen.py" <<'PY'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
open(sys.argv[2], "w").close()  # ready
s.settimeout(0.5)
end = time.time() + 20
with open(sys.argv[1], "wb") as out:
    while time.time() < end and not os.path.exists(sys.argv[3]):
        try:
            out.write(s.recv(65536) + b"\n")
            out.flush()
        except socket.timeout:
            pass
PY
cat >"$work/inner.sh" <<'SH'
set -u
mount --make-rprivate / && mount -t tmpfs tlsobs-dev /dev || exit 77
mknod -m 666 /dev/null c 1 3
python3 "$W/listen.py" "$W/syslog.txt" "$W/ready" "$W/done" &
for _ in $(seq 50); do [ -e "$W/ready" ] && break; sleep 0.1; done
"$TLSOBS" -r "$TLSOBS_SOURCE_DIR/tests/fixtures/starttls-tls12.pcap" --set log.target=syslog \
	--set "geoip.location_db=$W/missing.mmdb" -o "json:$W/events.json" 2>"$W/stderr"
echo $? >"$W/status"
sleep 0.5
touch "$W/done"
wait
SH
W=$work TLSOBS=$TLSOBS TLSOBS_SOURCE_DIR=$TLSOBS_SOURCE_DIR unshare -m bash "$work/inner.sh" 2>"$work/unshare.err"
[ -e "$work/status" ] || { echo "skip: cannot make a private mount namespace here: $(head -c 300 "$work/unshare.err")"; exit 77; }
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
check "the run succeeds (exit $(cat "$work/status"))" '[ "$(cat "$work/status")" = 0 ]'
# daemon (3) * 8 + warning (4) = 28
check "the geoip warning reached syslog as daemon.warning from tlsobs[PID] ($(head -c 200 "$work/syslog.txt"))" \
	'grep -Eq "^<28>.*tlsobs\[[0-9]+\]: geoip: geoip.location_db .*missing.mmdb" "$work/syslog.txt"'
check "and not standard error, where only the summary is" \
	'! grep -q "geoip.location_db" "$work/stderr" && grep -q "^tlsobs: output json:" "$work/stderr"'
[ "$fail" -eq 0 ] || { cat "$work/stderr" "$work/unshare.err"; exit 1; }
