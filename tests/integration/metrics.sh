#!/usr/bin/env bash
# The Prometheus endpoint, scraped by a real Prometheus: a live sensor with metrics.listen on the loopback of
# a network namespace of our own (so any port is free), a Prometheus server in the same namespace (temporary
# config and storage, scrape_interval 1s), traffic replayed on a veth; then Prometheus' HTTP API must say
# up == 1 and show tlsobs_packets_total and tlsobs_sessions_total having moved. The exposition itself passes
# promtool check metrics; only GET/HEAD /metrics answer. Needs root, iproute2, tcpreplay, curl, prometheus
# and promtool (Debian: prometheus); 77 otherwise.
set -uo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for a network namespace and capture"; exit 77; }
for c in ip tcpreplay curl prometheus promtool; do
	command -v "$c" >/dev/null || { echo "skip: $c missing (Debian: prometheus, curl, tcpreplay)"; exit 77; }
done
fixtures=$TLSOBS_SOURCE_DIR/tests/fixtures
work=$(mktemp -d /tmp/tlsobs-metrics.XXXXXX)
chmod 755 "$work"
ns=tlsobs-met-$$
sensor= prom=
cleanup() {
	[ -n "$sensor" ] && kill -KILL "$sensor" 2>/dev/null
	[ -n "$prom" ] && kill -KILL "$prom" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns" 2>/dev/null || { echo "skip: cannot create a network namespace here"; exit 77; }
ip -n "$ns" link set lo up
ip -n "$ns" link add met-rep0 type veth peer name met-span0
ip -n "$ns" link set met-rep0 up
ip -n "$ns" link set met-span0 up
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
in_ns() { ip netns exec "$ns" "$@"; }
mport=9332 pport=9090

ip netns exec "$ns" "$TLSOBS" -i met-span0 -u nobody --set "metrics.listen=127.0.0.1:$mport" --set flow.timeout.closed=1s \
	-o "json:$work/events.json" 2>"$work/sensor.err" &
sensor=$!
for _ in $(seq 50); do in_ns curl -sf "http://127.0.0.1:$mport/metrics" >"$work/m0.txt" && break; sleep 0.1; done
check "/metrics answers before the first packet" 'grep -q "^tlsobs_packets_total 0$" "$work/m0.txt"'

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tlsobs
    static_configs:
      - targets: ['127.0.0.1:$mport']
YAML
ip netns exec "$ns" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$work/prometheus.log" 2>&1 &
prom=$!
# query EXPR: the first result's value, or empty
query() {
	in_ns curl -sf --max-time 3 --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
for _ in $(seq 150); do [ "$(query 'up{job="tlsobs"}' 2>/dev/null)" = 1 ] && break; sleep 0.2; done
check "Prometheus scrapes the sensor: up == 1" '[ "$(query "up{job=\"tlsobs\"}")" = 1 ]'

for f in starttls-tls13 smtp-plain mitm-mask.client-side; do
	in_ns tcpreplay -q -i met-rep0 --topspeed "$fixtures/$f.pcap" >/dev/null
done
# the sensor publishes once a second, Prometheus scrapes once a second
for _ in $(seq 150); do
	[ "$(query 'sum(tlsobs_sessions_total{job="tlsobs"})' 2>/dev/null)" = 3 ] && break
	sleep 0.2
done
packets=$(query 'tlsobs_packets_total{job="tlsobs"}')
moved=$(query 'max_over_time(tlsobs_packets_total{job="tlsobs"}[1m]) - min_over_time(tlsobs_packets_total{job="tlsobs"}[1m])')
check "Prometheus saw tlsobs_packets_total move (now $packets, moved by $moved)" '[ "${moved%.*}" -gt 0 ]'
check "Prometheus has the three sessions by result ($(query 'sum(tlsobs_sessions_total{job="tlsobs"})'))" \
	'[ "$(query "sum(tlsobs_sessions_total{job=\"tlsobs\"})")" = 3 ]'
check "the garbled capability is counted by result and by alert rule" \
	'[ "$(query "tlsobs_sessions_total{result=\"garbled\"}")" = 1 ] && [ "$(query "tlsobs_alerts_total{rule=\"starttls_capability_garbled\"}")" = 1 ]'
check "tlsobs_build_info carries the version" '[ "$(query "tlsobs_build_info")" = 1 ]'

in_ns curl -sf -D "$work/headers" "http://127.0.0.1:$mport/metrics" >"$work/m.txt"
promtool check metrics <"$work/m.txt" >"$work/promtool.out" 2>&1
status=$?
check "promtool check metrics: clean (status $status$(tr '\n' ' ' <"$work/promtool.out"))" \
	'[ "$status" -eq 0 ] && [ ! -s "$work/promtool.out" ]'
check "Content-Type is the text exposition format 0.0.4" 'grep -qi "^content-type: text/plain; version=0.0.4" "$work/headers"'
for name in tlsobs_packets_total tlsobs_bytes_total 'tlsobs_sessions_total{result=' 'tlsobs_alerts_total{rule=' \
	tlsobs_capture_kernel_drops_total tlsobs_flow_memory_bytes tlsobs_flows_active tlsobs_emergency_mode \
	'# TYPE tlsobs_kafka_messages_total counter' tlsobs_kafka_spool_bytes tlsobs_state_db_errors_total \
	'tlsobs_config_reloads_total{result="success"}' 'tlsobs_build_info{version='; do
	grep -qF -- "$name" "$work/m.txt" || { echo "FAIL missing $name"; fail=1; }
done
code() { in_ns curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "HEAD /metrics 200, GET /nope 404, POST /metrics 405" \
	'[ "$(code -I "http://127.0.0.1:$mport/metrics")" = 200 ] && [ "$(code "http://127.0.0.1:$mport/nope")" = 404 ] && [ "$(code -X POST "http://127.0.0.1:$mport/metrics")" = 405 ]'
kill -HUP "$sensor"
for _ in $(seq 50); do [ "$(query 'tlsobs_config_reloads_total{result="success"}')" = 1 ] && break; sleep 0.2; done
check "a SIGHUP shows as tlsobs_config_reloads_total{result=\"success\"} 1" \
	'[ "$(query "tlsobs_config_reloads_total{result=\"success\"}")" = 1 ]'

kill -TERM "$sensor"
wait "$sensor"
status=$?
sensor=
check "SIGTERM with the metrics thread running: exit 0 (status $status)" '[ "$status" -eq 0 ]'
check "an endpoint that cannot bind is a runtime error (exit 1) naming metrics.listen" \
	'in_ns "$TLSOBS" -i met-span0 --set metrics.listen=192.0.2.1:9 2>"$work/bind.err"; [ $? -eq 1 ] && grep -q "metrics.listen" "$work/bind.err"'
[ "$fail" -eq 0 ] || { cat "$work/sensor.err"; tail -20 "$work/prometheus.log"; exit 1; }
