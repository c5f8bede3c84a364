#!/usr/bin/env bash
# Signals as operators know them, on a live sensor running as nobody (-u/-g) in a network namespace of our
# own: logrotate's rename then SIGHUP puts new events into a new file at the configured path (0640, owned by
# the run user) while the renamed one keeps what came before; SIGUSR1 writes a tlsobs.stats event and a
# "notice stats:" log line; a reloadable key (events.client_ciphers) changed in the file applies after SIGHUP;
# SIGUSR2 stops cleanly with the summary and exit 0. Every message the sensor logs
# is one "TIME LEVEL COMPONENT: text" line. Also, without a namespace: a reader that closes standard output
# (EPIPE) ends the run with the summary and exit 1, not a silent SIGPIPE death; -T warns when the run user
# cannot write a file output's directory (no reopen after SIGHUP then).
# Needs root, iproute2 and tcpreplay for the live part; 77 otherwise.
set -uo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
fixtures=$TLSOBS_SOURCE_DIR/tests/fixtures
work=$(mktemp -d /tmp/tlsobs-signals.XXXXXX)
chmod 755 "$work"
ns=tlsobs-sig-$$
sensor=
cleanup() {
	[ -n "$sensor" ] && kill -KILL "$sensor" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
LOGLINE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z (error|warning|notice|info|debug) [a-z_]+: '

# ---- EPIPE: a reader that goes away (no root needed) ----
pcaps=()
for f in "$fixtures"/*.pcap; do pcaps+=(-r "$f"); done
"$TLSOBS" "${pcaps[@]}" 2>"$work/epipe.err" | head -n 1 >/dev/null
status=${PIPESTATUS[0]}
check "EPIPE on standard output: exit 1, not killed by SIGPIPE (status $status)" '[ "$status" -eq 1 ]'
check "EPIPE: logged once as a warning" \
	'[ "$(grep -Ec "warning output: json:-: standard output was closed \(EPIPE\): stopping" "$work/epipe.err")" -eq 1 ]'
check "EPIPE: the summary is still printed" 'grep -q "^tlsobs: output json:-: [0-9]* events written, [1-9][0-9]* failed" "$work/epipe.err"'

if [ "$(id -u)" -ne 0 ] || ! command -v tcpreplay >/dev/null || ! command -v setpriv >/dev/null ||
	! ip netns add "$ns" 2>/dev/null; then
	[ "$fail" -eq 0 ] || exit 1
	echo "skip: the live part needs root, tcpreplay, setpriv and a network namespace"
	exit 77
fi
user=nobody
group=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)

# ---- a link planted at the output path by the unprivileged run user (issue 13) ----
# (in a directory the user owns, as after -u: in a sticky /tmp the kernel's protected_symlinks refuses first)
mkdir "$work/shared" && chown "$user:$group" "$work/shared"
echo "root only" >"$work/victim" && chmod 600 "$work/victim"
setpriv --reuid "$user" --regid "$group" --clear-groups ln -s "$work/victim" "$work/shared/events.json"
"$TLSOBS" -r "$fixtures/starttls-tls13.pcap" -o "json:$work/shared/events.json" 2>"$work/link.err"
status=$?
check "a symbolic link at json:PATH is refused (exit $status: $(head -1 "$work/link.err")) and its target untouched" \
	'[ "$status" -eq 2 ] && grep -q "symbolic link" "$work/link.err" && [ "$(cat "$work/victim")" = "root only" ]'

# ---- -T: a file output the run user could not reopen ----
mkdir "$work/rootonly" && chmod 755 "$work/rootonly"
"$TLSOBS" -T -u "$user" -g "$group" -o "json:$work/rootonly/e.json" 2>"$work/t.err"
status=$?
check "-T with an output directory $user cannot write: still OK (exit $status), with a warning" \
	'[ "$status" -eq 0 ] && grep -q "rootonly.*$user cannot create files there" "$work/t.err"'
mkdir "$work/out" && chown "$user:$group" "$work/out" && chmod 750 "$work/out"
"$TLSOBS" -T -u "$user" -g "$group" -o "json:$work/out/e.json" 2>"$work/t2.err"
check "-T with a directory $user owns: no warning" '! grep -q "cannot create" "$work/t2.err"'

# ---- live: rotate, SIGHUP, SIGUSR1, SIGUSR2 ----
ip -n "$ns" link add sig-rep0 type veth peer name sig-span0
ip -n "$ns" link set sig-rep0 up
ip -n "$ns" link set sig-span0 up
cat >"$work/tlsobs.yaml" <<YAML
stats:
  interval: 1h
log:
  level: info
flow:
  timeout:
    closed: 1s
YAML
ip netns exec "$ns" "$TLSOBS" -c "$work/tlsobs.yaml" -i sig-span0 -u "$user" -g "$group" \
	-o "json:$work/out/events.json" 2>"$work/live.err" &
sensor=$!
for _ in $(seq 50); do # until the privileges are dropped
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$sensor/status" 2>/dev/null)" = "$(id -u "$user")" ] && break
	sleep 0.1
done
replay() { ip netns exec "$ns" tcpreplay -q -i sig-rep0 --topspeed "$fixtures/$1.pcap" >/dev/null; }
sessions() { grep -c '"dataset":"tlsobs.session"' "$1" 2>/dev/null || true; }
wait_sessions() { # FILE N: up to 10 s
	for _ in $(seq 100); do [ "$(sessions "$1")" -ge "$2" ] && return 0; sleep 0.1; done
	return 1
}
replay starttls-tls13
wait_sessions "$work/out/events.json" 1
mv "$work/out/events.json" "$work/out/events.json.1" # logrotate's rename
printf 'events:\n  client_ciphers: codes\n' >>"$work/tlsobs.yaml" # reloadable: applies to the next session
kill -HUP "$sensor"
sleep 1.5
replay starttls-tls12
wait_sessions "$work/out/events.json" 1
kill -USR1 "$sensor"
for _ in $(seq 50); do grep -q '"dataset":"tlsobs.stats"' "$work/out/events.json" 2>/dev/null && break; sleep 0.1; done
kill -USR2 "$sensor"
status=0
wait "$sensor" || status=$?
sensor=

check "before SIGHUP: the first session went to the file logrotate renamed ($(sessions "$work/out/events.json.1"))" \
	'[ "$(sessions "$work/out/events.json.1")" -eq 1 ]'
check "after SIGHUP: a new file at the configured path holds the next session ($(sessions "$work/out/events.json"))" \
	'[ "$(sessions "$work/out/events.json")" -eq 1 ]'
check "the new file was created by $user after the drop, mode 0640 ($(stat -c "%U %a" "$work/out/events.json"))" \
	'[ "$(stat -c "%U %a" "$work/out/events.json")" = "$user 640" ]'
check "before SIGHUP: events.client_ciphers names (the default): IANA names" \
	'grep -q "\"supported_ciphers\":\[\"TLS_" "$work/out/events.json.1"'
check "after SIGHUP: events.client_ciphers codes, reloaded: hex codes" \
	'grep -q "\"supported_ciphers\":\[\"0x[0-9A-F]\{4\}\"," "$work/out/events.json"'
check "SIGHUP: reopened and reloaded, both logged" \
	'grep -Eq "info output: file outputs reopened" "$work/live.err" && grep -Eq "notice config: configuration reloaded from" "$work/live.err"'
check "SIGUSR1: a tlsobs.stats event (final false) in the output" \
	'grep "\"dataset\":\"tlsobs.stats\"" "$work/out/events.json" | head -1 | grep -q "\"final\":false"'
check "SIGUSR1: the counters as one notice line" 'grep -Eq "notice stats: [0-9]+ packets, [0-9]+ bytes, " "$work/live.err"'
check "SIGUSR2: exit 0 (status $status), logged, then the summary" \
	'[ "$status" -eq 0 ] && grep -q "notice sensor: SIGUSR2: stopping" "$work/live.err" && grep -q "^tlsobs: output json:.*events.json: [0-9]* events written, 0 failed" "$work/live.err"'
check "SIGUSR2: the final stats event is in the new file" 'grep -q "\"final\":true" "$work/out/events.json"'
bad=$(grep -Ev "$LOGLINE" "$work/live.err" | grep -v "^tlsobs: " || true)
check "every other stderr line is a log line: TIME LEVEL COMPONENT: text${bad:+ (not: $bad)}" '[ -z "$bad" ]'
lines=$(grep -Ec "$LOGLINE" "$work/live.err")
check "there are log lines to check ($lines)" '[ "$lines" -ge 4 ]'

# -q: errors only, and no summary
ip netns exec "$ns" "$TLSOBS" -q -c "$work/tlsobs.yaml" -i sig-span0 -o "json:$work/q.json" 2>"$work/q.err" &
sensor=$!
sleep 1
kill -HUP "$sensor"; sleep 0.5; kill -USR1 "$sensor"; sleep 0.5; kill -TERM "$sensor"
wait "$sensor"; status=$?
sensor=
check "-q: nothing on stderr across SIGHUP, SIGUSR1 and SIGTERM (exit $status)" '[ "$status" -eq 0 ] && [ ! -s "$work/q.err" ]'

[ "$fail" -eq 0 ] || { echo "--- live.err"; cat "$work/live.err"; exit 1; }
