#!/usr/bin/env bash
# make demo: runs the freshly built sensor on the bundled capture, prints its events, and streams them through a
# Kafka cluster on loopback (librdkafka's wire-protocol mock, tests/kafka/kafka_mock_cluster) to show what
# arrived in each topic.
set -euo pipefail
build=${1:-build}
capture=tests/fixtures/demo.pcap
topics=(session alert certificate stats policy)

cmake --build "$build" --target kafka_mock_cluster >/dev/null
work=$(mktemp -d)
mock=
cleanup() {
	[ -n "$mock" ] && kill "$mock" 2>/dev/null
	exec 7>&- 2>/dev/null
	rm -rf "$work"
	return 0
}
trap cleanup EXIT
mkfifo "$work/mock.in"
"$build/tests/kafka_mock_cluster" <"$work/mock.in" >"$work/mock.out" 2>"$work/mock.err" &
mock=$!
exec 7>"$work/mock.in"
for _ in $(seq 100); do
	[ -s "$work/mock.out" ] && break
	sleep 0.1
done
bootstrap=$(head -n 1 "$work/mock.out")
[ -n "$bootstrap" ] || { echo "demo: the Kafka mock cluster did not start" >&2; cat "$work/mock.err" >&2; exit 1; }

echo "demo: $build/tlsobs -r $capture -o json:- -o kafka:$bootstrap"
echo
"$build/tlsobs" -r "$capture" -o json:- -o "kafka:$bootstrap" --set "kafka.spool.dir=$work/spool" |
	while IFS= read -r event; do
		if command -v jq >/dev/null; then
			printf '%s\n' "$event" | jq -C .
		else
			printf '%s\n' "$event"
		fi
	done

echo
echo "demo: what arrived in Kafka ($bootstrap)"
for t in "${topics[@]}"; do
	kcat -C -b "$bootstrap" -t "tlsobs.$t" -o beginning -e -q -f '%k\t%s\n' >"$work/$t.txt" 2>/dev/null || true
	n=$(grep -c . "$work/$t.txt" || true)
	echo "  tlsobs.$t: $n messages"
	if [ "$n" -gt 0 ]; then
		line=$(head -n 1 "$work/$t.txt")
		key=${line%%$'\t'*} value=${line#*$'\t'} # (read would merge an empty key into the tab after it)
		echo "    first, key ${key:-(none)}: ${value:0:160}..."
	fi
done
echo quit >&7
exec 7>&-
wait "$mock" 2>/dev/null || true
mock=
