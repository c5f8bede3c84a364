#!/usr/bin/env bash
# Files, spool and secrets against a local attacker (issue 13). The sensor starts as root and runs as
# nobody (-u/-g); the attacker is that user (after a parser compromise, say) or any local user, planting
# links where root will look at the next start. Each case as the attacker would try it:
#   1. the Kafka spool under -u: the directory is created and given to nobody, events are spooled by nobody
#      (none dropped); nobody plants spool-*.seg links to a root-only file: the next start neither reads nor
#      truncates it, removes the link and counts it corrupt, and still replays the real segments;
#   2. a spool or dump directory that is group/world-writable or someone else's is refused (exit 2);
#   3. --dump-streams under -u: the directory is given to nobody, dumps are 0600, a planted link named like
#      the next dump is not followed, and the start warns that dumps hold credentials;
#   4. the state database: a symbolic link (dangling or not) at its path is refused, no file made through it;
#      the database is 0640;
#   5. modes of what a run creates (umask 027): JSON 0640, state database 0640, dumps and spool 0600;
#   6. a Kafka password from a file (0600, config 0600): it is in no output, message, /proc/PID/cmdline or
#      environ; a typo in --set or a config that others can read never echoes it; warnings where others can
#      read a secret.
# Needs root, setpriv and a "nobody" user; 77 otherwise.
set -uo pipefail
: "${TLSOBS:?TLSOBS must name the tlsobs binary}" "${TLSOBS_SOURCE_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (-u, chown)"; exit 77; }
command -v setpriv >/dev/null || { echo "skip: setpriv missing"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "skip: no user nobody"; exit 77; }
group=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)
fixtures=$TLSOBS_SOURCE_DIR/tests/fixtures
work=$(mktemp -d /tmp/tlsobs-attacker.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
as_nobody() { setpriv --reuid=nobody --regid="$group" --clear-groups -- "$@"; }
mode() { stat -c %a "$1"; }
owner() { stat -c %U "$1"; }

# A root-only file the attacker wants destroyed or read.
victim=$work/victim
printf 'root only: must stay 32 bytes.\n\n' >"$victim"
chmod 600 "$victim"
victim_sum=$(sha256sum <"$victim")
victim_intact() { [ "$(sha256sum <"$victim")" = "$victim_sum" ]; }

# spool_run NAME: a capture to an unreachable broker, as nobody: the events end up in the spool
spool_run() {
	timeout 120 "$TLSOBS" -r "$fixtures/starttls-tls12.pcap" -u nobody -g "$group" -o kafka:127.0.0.1:9 \
		-o "json:$work/$1.json" --set "kafka.spool.dir=$work/spool" --set kafka.shutdown_timeout_ms=500 \
		>/dev/null 2>"$work/$1.err"
	echo $? >"$work/$1.rc"
}
spool_line() { grep -o "kafka spool .*" "$work/$1.err"; }

echo "== 1. the spool under -u"
spool_run s1
check "the spool directory is created and given to nobody ($(owner "$work/spool"), $(mode "$work/spool"))" \
	'[ "$(owner "$work/spool")" = nobody ] && [ "$(mode "$work/spool")" = 750 ]'
check "events are spooled by nobody, none dropped ($(spool_line s1))" \
	'spool_line s1 | grep -Eq ": [1-9][0-9]* records, [0-9]+ bytes, 0 dropped"'
seg=$(find "$work/spool" -name 'spool-*.seg' | head -1)
check "segments are nobody's, 0600 ($seg)" '[ -n "$seg" ] && [ "$(owner "$seg")" = nobody ] && [ "$(mode "$seg")" = 600 ]'
records=$(spool_line s1 | grep -o "[0-9]* records" | cut -d' ' -f1)
as_nobody ln -s "$victim" "$work/spool/spool-00000000000000f0.seg"
as_nobody ln -s "$work/does-not-exist" "$work/spool/spool-00000000000000f1.seg"
as_nobody mkfifo "$work/spool/spool-00000000000000f2.seg"
check "the attacker (nobody) planted two links and a fifo" '[ -L "$work/spool/spool-00000000000000f0.seg" ] && [ -p "$work/spool/spool-00000000000000f2.seg" ]'
spool_run s2
check "the next start is not stopped by them (exit $(cat "$work/s2.rc"), 0 or 1 as the broker is away)" '[ "$(cat "$work/s2.rc")" -le 1 ]'
check "root neither read nor truncated the file behind the link" 'victim_intact'
check "the planted entries are removed (names only) and counted corrupt ($(spool_line s2))" \
	'[ ! -e "$work/spool/spool-00000000000000f0.seg" ] && [ ! -L "$work/spool/spool-00000000000000f1.seg" ] && [ ! -e "$work/spool/spool-00000000000000f2.seg" ] && spool_line s2 | grep -q " 3 corrupt"'
check "the real segments are still recovered ($records records before)" \
	'spool_line s2 | grep -q "$records recovered from a previous run"'

echo "== 2. directories others may write in"
for d in spool-ww dump-ww; do mkdir -m 777 "$work/$d"; done
mkdir -m 750 "$work/spool-other" && chown 4242:4242 "$work/spool-other"
timeout 60 "$TLSOBS" -r "$fixtures/smtp-plain.pcap" -u nobody -o kafka:127.0.0.1:9 -o "json:$work/x.json" \
	--set "kafka.spool.dir=$work/spool-ww" 2>"$work/ww.err" >/dev/null
code=$?
check "a world-writable spool directory: exit 2 ($code), said ($(head -1 "$work/ww.err"))" \
	'[ "$code" -eq 2 ] && grep -q "spool-ww: mode 0777 is group- or world-writable" "$work/ww.err"'
timeout 60 "$TLSOBS" -r "$fixtures/smtp-plain.pcap" -u nobody -o kafka:127.0.0.1:9 -o "json:$work/x.json" \
	--set "kafka.spool.dir=$work/spool-other" 2>"$work/other.err" >/dev/null
code=$?
check "a spool directory of another user: exit 2 ($code), said ($(head -1 "$work/other.err"))" \
	'[ "$code" -eq 2 ] && grep -q "owned by uid 4242" "$work/other.err"'
timeout 60 "$TLSOBS" -r "$fixtures/smtp-plain.pcap" -u nobody --dump-streams "$work/dump-ww" -o "json:$work/x.json" \
	2>"$work/dww.err" >/dev/null
code=$?
check "a world-writable dump directory: exit 2 ($code)" '[ "$code" -eq 2 ] && grep -q "dump-ww: mode 0777" "$work/dww.err"'

echo "== 3. --dump-streams under -u"
mkdir -m 755 "$work/dump"
# The name the client-to-server dump of the capture's one flow will have.
name=$("$TLSOBS" -q -r "$fixtures/auth-cleartext.pcap" | jq -r 'select(.event.dataset=="tlsobs.session") | "\(.source.ip).\(.source.port)-\(.destination.ip).\(.destination.port).c2s"' | head -1)
timeout 60 "$TLSOBS" -r "$fixtures/smtp-plain.pcap" -u nobody --dump-streams "$work/dump" -o "json:$work/d0.json" 2>/dev/null
as_nobody ln -s "$victim" "$work/dump/$name"
timeout 60 "$TLSOBS" -r "$fixtures/auth-cleartext.pcap" -u nobody --dump-streams "$work/dump" -o "json:$work/d1.json" \
	2>"$work/d1.err"
check "the start warns that dumps hold credentials" 'grep -q "warning: --dump-streams .*AUTH credentials" "$work/d1.err"'
check "the dump directory is given to nobody" '[ "$(owner "$work/dump")" = nobody ]'
check "the dump went to another name, not through the planted link ($name)" \
	'victim_intact && [ -L "$work/dump/$name" ] && [ -f "$work/dump/${name%.c2s}-2.c2s" ]'
check "every dump is 0600 and nobody's" \
	'[ -z "$(find "$work/dump" -type f \( ! -perm 600 -o ! -user nobody \))" ] && [ -n "$(find "$work/dump" -type f)" ]'

echo "== 4. the state database"
mkdir -m 755 "$work/state"
ln -s "$work/state/created-by-root" "$work/state/dangling.db"
timeout 60 "$TLSOBS" -r "$fixtures/smtp-plain.pcap" --set "state_db=$work/state/dangling.db" -o "json:$work/x.json" \
	2>"$work/st.err"
code=$?
check "a dangling link at the state_db path is refused (exit $code: $(head -1 "$work/st.err"))" \
	'[ "$code" -ne 0 ] && grep -q "symbolic link" "$work/st.err" && [ ! -e "$work/state/created-by-root" ]'
ln -s "$victim" "$work/state/victim.db"
timeout 60 "$TLSOBS" -r "$fixtures/smtp-plain.pcap" --set "state_db=$work/state/victim.db" -o "json:$work/x.json" \
	2>/dev/null
check "a link to an existing file is refused too, the file untouched" '[ $? -ne 0 ] && victim_intact'

echo "== 5. modes of what a run creates"
mkdir -m 755 "$work/m" "$work/m/dump"
(umask 000 && timeout 60 "$TLSOBS" -r "$fixtures/smtp-plain.pcap" --set "state_db=$work/m/state.db" \
	--dump-streams "$work/m/dump" -o "json:$work/m/out.json" 2>/dev/null)
check "JSON output 0640 (umask 027, even when started with umask 000): $(mode "$work/m/out.json")" '[ "$(mode "$work/m/out.json")" = 640 ]'
check "state database 0640: $(mode "$work/m/state.db")" '[ "$(mode "$work/m/state.db")" = 640 ]'
check "dumps 0600" '[ -z "$(find "$work/m/dump" -type f ! -perm 600)" ] && [ -n "$(find "$work/m/dump" -type f)" ]'

echo "== 6. a Kafka password from a file"
secret='Pw-4e1f9c7b-never-shown'
printf '%s\n' "$secret" >"$work/kafka.pw"
chmod 600 "$work/kafka.pw"
cat >"$work/secret.yaml" <<YAML
kafka:
  spool:
    dir: $work/spool-secret
  shutdown_timeout_ms: 3000
  properties:
    security.protocol: SASL_PLAINTEXT
    sasl.mechanism: PLAIN
    sasl.username: tlsobs
    sasl.password_file: $work/kafka.pw
YAML
chmod 600 "$work/secret.yaml"
timeout 60 "$TLSOBS" -v -r "$fixtures/starttls-tls12.pcap" -c "$work/secret.yaml" -u nobody -o kafka:127.0.0.1:9 \
	-o "json:$work/secret.json" >"$work/secret.out" 2>"$work/secret.err" &
pid=$!
sleep 1.5 # the run ends in a shutdown of up to 3 s with the broker away
tr '\0' ' ' <"/proc/$pid/cmdline" >"$work/cmdline" 2>/dev/null
tr '\0' '\n' <"/proc/$pid/environ" >"$work/environ" 2>/dev/null
wait "$pid"
code=$?
check "the sensor ran with it (exit $code, 0 or 1 as the broker is away)" \
	'[ "$code" -le 1 ] && [ -s "$work/cmdline" ] && [ -s "$work/secret.json" ]'
check "no trace of the password in outputs, messages, spool, cmdline or environ" \
	'! grep -rqF "$secret" "$work/secret.json" "$work/secret.out" "$work/secret.err" "$work/spool-secret" "$work/cmdline" "$work/environ"'
check "no warning for private files" '! grep -q "readable by every local user" "$work/secret.err"'
"$TLSOBS" -T --set "kafka.properties.sasl.password $secret" 2>"$work/typo1.err"
"$TLSOBS" -T -c "$work/secret.yaml" --set "kafka.properties.sasl.pasword=$secret" -o kafka:127.0.0.1:9 2>"$work/typo2.err"
"$TLSOBS" -r "$fixtures/smtp-plain.pcap" -u nobody -c "$work/secret.yaml" --set "kafka.properties.sasl.pasword=$secret" \
	-o kafka:127.0.0.1:9 -o "json:$work/x.json" 2>"$work/typo3.err" >/dev/null
check "typos in --set: errors, none echoing the value ($(head -1 "$work/typo1.err"))" \
	'[ -s "$work/typo1.err" ] && grep -q "sasl.pasword" "$work/typo3.err" && ! grep -qF "$secret" "$work/typo1.err" "$work/typo2.err" "$work/typo3.err"'
chmod 644 "$work/kafka.pw" "$work/secret.yaml"
printf 'kafka:\n  properties:\n    sasl.password: %s\n' "$secret" >"$work/inline.yaml"
chmod 644 "$work/inline.yaml"
"$TLSOBS" -T -c "$work/secret.yaml" 2>"$work/w1.err"
"$TLSOBS" -T -c "$work/inline.yaml" --set "kafka.properties.ssl.key.password=$secret" 2>"$work/w2.err"
check "-T warns: a secret file others can read" 'grep -q "warning: kafka.properties.sasl.password_file: .*readable by every local user" "$work/w1.err"'
check "-T warns: a configuration with a secret others can read, a secret in --set; no value shown" \
	'grep -q "inline.yaml (mode 0644) holds a Kafka secret" "$work/w2.err" && grep -q "warning: --set kafka.properties.ssl.key.password: a secret on the command line" "$work/w2.err" && ! grep -qF "$secret" "$work/w1.err" "$work/w2.err"'
exit "$fail"
