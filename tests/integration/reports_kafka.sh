#!/usr/bin/env bash
# Fleet reports from Kafka (issue 20): two sensors with their own state databases write to one Kafka cluster
# (librdkafka's mock, tests/kafka/kafka_mock_cluster, on loopback); `tlsobs report ... --kafka` must equal
# the reports of one sensor that saw both halves (the union of their session events, in one state_db):
#   a. coverage (json, csv, table; --by day, --partners, --since in the middle of the period: sensor B's
#      captures are moved two days later), certificates (json, csv, table), tlsrpt per day (files and their
#      JSON, parsed), html (the data block behind its charts and tables)
#   b. the sessions counted equal the session events both sensors wrote
#   c. a message that is not an event is counted as malformed and changes nothing
#   d. an unreachable broker: a clear error and exit 1 (the report's runtime error code)
set -uo pipefail
source "$TLSOBS_SOURCE_DIR/tests/kafka/kafka_lib.sh"
F="$TLSOBS_SOURCE_DIR/tests/fixtures"
DAY1=2026-11-28
DAY2=2026-11-30

# Sensor A and sensor B see different connections; B's captures are moved 2 days on.
HALF_A="smtp-plain starttls-tls12 expired-cert self-signed-cert bdat wrong-name-cert mitm-mask.server-side"
HALF_B="starttls-tls13 smtps-465 starttls-refused-454 tls-alert-bad-cert ipv6-starttls client-ignores-starttls
 mitm-remove.client-side pipelining-multi"
mkdir -p "$work/a" "$work/b" "$work/tmp"
export TMPDIR="$work/tmp" # where the reports from Kafka keep their temporary database
for c in $HALF_A; do ln -s "$F/$c.pcap" "$work/a/"; done
for c in $HALF_B; do
	python3 - "$F/$c.pcap" "$work/b/$c.pcap" <<'PY' || exit 1
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = data[:4]
end = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}[magic]
out, off = bytearray(data[:24]), 24
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
    out += struct.pack(end + "IIII", sec + 2 * 86400, frac, incl, orig) + data[off + 16:off + 16 + incl]
    off += 16 + incl
open(sys.argv[2], "wb").write(out)
PY
done

# One policy for every run: a partner none of the fixtures talks to (enforced: a row without sessions), so that coverage has recipient domains
# and unattributed servers too, and every session outbound (internal_networks on the client side) for TLS-RPT.
config() {
	cat >"$work/$1.yaml" <<YAML
tls:
  ca_file: "$F/certs/ca.crt"
state_db: "$work/$1.db"
internal_networks: ["203.0.113.0/24", "2001:db8:113::/48"]
kafka:
  spool:
    dir: "$work/spool-$1"
policy:
  partners: [{"domain": "partner.example", "mode": "enforced"}]
YAML
}
config a
config b
config u
mock_start

run() { # run NAME ARGS...: the sensor; exit status in $status
	local name=$1
	shift
	timeout 120 "$TLSOBS" -c "$work/$name.yaml" "$@" >"$work/$name.json" 2>"$work/$name.err"
	status=$?
}
run a -r "$work/a" -o "kafka:$MOCK_BOOTSTRAP" -o json:-
check "sensor A exits 0 (exit $status)" '[ "$status" -eq 0 ]'
run b -r "$work/b" -o "kafka:$MOCK_BOOTSTRAP" -o json:-
check "sensor B exits 0 (exit $status)" '[ "$status" -eq 0 ]'
run u -r "$work/a" -r "$work/b"
check "the sensor of both halves exits 0 (exit $status)" '[ "$status" -eq 0 ]'

# same NAME REPORT-ARGS...: the report from Kafka and from u.db are byte for byte the same
same() {
	local name=$1
	shift
	"$TLSOBS" report "$@" -c "$work/u.yaml" --kafka "$MOCK_BOOTSTRAP" >"$work/$name.kafka" 2>"$work/$name.kafka.err"
	local k=$?
	"$TLSOBS" report "$@" -c "$work/u.yaml" >"$work/$name.db" 2>"$work/$name.db.err"
	local d=$?
	check "$name: from Kafka equals from state_db ($(wc -l <"$work/$name.db") lines, exits $k $d)" \
		'[ "$k" -eq 0 ] && [ "$d" -eq 0 ] && [ -s "$work/$name.db" ] && cmp -s "$work/$name.kafka" "$work/$name.db"'
}

echo "== a. every report, from Kafka and from the union's state_db"
for f in json csv table; do
	same "coverage-$f" coverage --format "$f"
	same "coverage-by-day-$f" coverage --by day --format "$f"
	same "certificates-$f" certificates --at "$DAY2" --format "$f"
done
same coverage-partners coverage --partners --format json
same coverage-since-middle coverage --since "$DAY2" --format json
same coverage-since-middle-by-day coverage --since "$DAY2" --by day --format csv
# sessions FILE: the sessions a coverage report (json) counts, overflow rows included
sessions() {
	python3 -c 'import json, sys; print(sum(json.loads(l)["sessions"] for l in open(sys.argv[1]) if l.strip()))' "$1"
}
in_b=$(grep -c '"dataset":"tlsobs.session"' "$work/b.json")
from_middle=$(sessions "$work/coverage-since-middle.kafka")
check "the period from $DAY2 holds B's sessions only ($from_middle, B wrote $in_b)" \
	'[ "$from_middle" -eq "$in_b" ] && [ "$in_b" -gt 0 ]'
check "the middle start read only part of the topic's sessions from Kafka" \
	'grep -q "outside it" "$work/coverage-since-middle.kafka.err" && ! grep -q " 0 outside it" "$work/coverage-since-middle.kafka.err"'

# tlsrpt: the same files (less the random unique-id) with the same reports (less report-id), per day
tlsrpt_same() {
	local day=$1
	mkdir -p "$work/tk-$day" "$work/td-$day"
	"$TLSOBS" report tlsrpt -c "$work/u.yaml" --kafka "$MOCK_BOOTSTRAP" --date "$day" --organization-name Fleet \
		--contact-info mailto:tlsrpt@example.org -o "$work/tk-$day" >/dev/null 2>"$work/tk-$day.err"
	local k=$?
	"$TLSOBS" report tlsrpt -c "$work/u.yaml" --date "$day" --organization-name Fleet \
		--contact-info mailto:tlsrpt@example.org -o "$work/td-$day" >/dev/null 2>"$work/td-$day.err"
	local d=$?
	check "tlsrpt $day: the same reports from Kafka as from state_db (exits $k $d)" \
		'[ "$k" -eq 0 ] && [ "$d" -eq 0 ] && python3 - "$work/tk-$day" "$work/td-$day" <<'"'"'PY'"'"'
import gzip, json, os, sys
def load(d):
    out = {}
    for name in os.listdir(d):
        r = json.load(gzip.open(os.path.join(d, name)))
        r.pop("report-id")
        out[name.rsplit("!", 1)[0]] = r
    return out
k, d = load(sys.argv[1]), load(sys.argv[2])
failures = sum(p["summary"]["total-failure-session-count"] for r in d.values() for p in r["policies"])
helo = any("receiving-mx-helo" in f for r in d.values() for p in r["policies"] for f in p.get("failure-details", []))
sys.exit(0 if k == d and k and failures > 0 and helo else 1)
PY'
}
tlsrpt_same "$DAY1"
tlsrpt_same "$DAY2"

# html: the data block behind the charts and tables equal
"$TLSOBS" report html -c "$work/u.yaml" --kafka "$MOCK_BOOTSTRAP" -o "$work/k.html" --at "$DAY2" 2>"$work/k.html.err"
k=$?
"$TLSOBS" report html -c "$work/u.yaml" -o "$work/d.html" --at "$DAY2" 2>"$work/d.html.err"
d=$?
check "html: the same data from Kafka as from state_db (exits $k $d)" \
	'[ "$k" -eq 0 ] && [ "$d" -eq 0 ] && python3 - "$work/k.html" "$work/d.html" <<'"'"'PY'"'"'
import json, re, sys
pages = [open(p).read() for p in sys.argv[1:]]
data = [json.loads(re.search(r"<script type=\"application/json\" id=\"tlsobs-data\">(.*?)</script>", p, re.S).group(1))
        for p in pages]
sys.exit(0 if data[0] == data[1] and data[0] else 1)
PY'

echo "== b. the sessions counted are the session events of both sensors"
events=$(cat "$work/a.json" "$work/b.json" | grep -c '"dataset":"tlsobs.session"')
counted=$(sessions "$work/coverage-json.kafka")
check "coverage from Kafka counts $counted sessions, the sensors wrote $events session events" \
	'[ "$counted" -eq "$events" ] && [ "$events" -gt 10 ]'
check "the report says how many it read" 'grep -q "$events sessions of the period" "$work/coverage-json.kafka.err"'

echo "== c. a message that is not an event"
printf '{"event":{"dataset":"tlsobs.session"\n' | kcat -P -b "$MOCK_BOOTSTRAP" -t tlsobs.session -k junk 2>/dev/null
same coverage-after-junk coverage --format json
check "the malformed message is counted and the report unchanged" \
	'grep -q " 1 malformed" "$work/coverage-after-junk.kafka.err" && cmp -s "$work/coverage-after-junk.kafka" "$work/coverage-json.kafka"'
mock_stop

echo "== d. an unreachable broker"
nobody=$(free_port)
timeout 60 "$TLSOBS" report coverage -c "$work/u.yaml" --kafka "127.0.0.1:$nobody" >"$work/d.out" 2>"$work/d.err"
status=$?
check "exit 1 with the brokers named and nothing on stdout (exit $status: $(head -c 200 "$work/d.err"))" \
	'[ "$status" -eq 1 ] && grep -q "127.0.0.1:$nobody did not answer" "$work/d.err" && [ ! -s "$work/d.out" ]'
check "no report left a temporary database behind" '[ -z "$(ls -A "$work/tmp")" ]'

[ "$fail" -eq 0 ] || { tail -n 5 "$work"/*.err; exit 1; }
