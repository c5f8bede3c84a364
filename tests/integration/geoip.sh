#!/usr/bin/env bash
# GeoIP/ASN enrichment: databases written by tests/support/make_test_mmdb.pl
# (Debian's libmaxmind-db-writer-perl) give source/destination .geo and .as on
# session and alert events; internal_networks limits lookups to the remote side;
# a flat layout works through geoip.paths; a missing database is a warning (an
# error under -T); a database replaced on disk is picked up by a running sensor.
# Skips (77) without the Perl module or jq.
set -euo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
command -v jq >/dev/null || { echo "skip: jq missing"; exit 77; }
perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null || { echo "skip: libmaxmind-db-writer-perl missing"; exit 77; }

fix="$TLSOBS_SOURCE_DIR/tests/fixtures"
work=$(mktemp -d)
ns=
cleanup() {
	[ -n "${sensor:-}" ] && kill "$sensor" 2>/dev/null || true
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/gen1" "$work/gen2"
perl "$TLSOBS_SOURCE_DIR/tests/support/make_test_mmdb.pl" "$work/gen1"
perl "$TLSOBS_SOURCE_DIR/tests/support/make_test_mmdb.pl" --generation 2 "$work/gen2"

fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
geo=(--set "geoip.location_db=$work/gen1/city.mmdb" --set "geoip.asn_db=$work/gen1/asn.mmdb")

"$TLSOBS" -q "${geo[@]}" -r "$fix/starttls-tls12.pcap" >"$work/tls12.json"
s='select(.event.dataset=="tlsobs.session")'
check "the server gets country, city, location and AS" \
	'[ "$(jq -c "$s | [.destination.geo, .destination.as]" "$work/tls12.json")" = '"'"'[{"country_iso_code":"CH","country_name":"Switzerland","city_name":"Zürich","location":{"lat":47.3769,"lon":8.5417}},{"number":64500,"organization":{"name":"Zürich Example AG"}}]'"'"' ]'
check "the client gets what the database has: a country, no city, no AS" \
	'[ "$(jq -c "$s | [.source.geo, .source.as]" "$work/tls12.json")" = '"'"'[{"country_iso_code":"JP","country_name":"Japan"},null]'"'"' ]'

"$TLSOBS" -q "${geo[@]}" -r "$fix/mitm-mask.server-side.pcap" >"$work/mask.json"
check "alert events carry the same geo and AS as their session" \
	'[ "$(jq -c "select(.event.dataset==\"tlsobs.alert\") | .destination.as.number" "$work/mask.json" | sort -u)" = 64500 ]'

"$TLSOBS" -q "${geo[@]}" --set "internal_networks=203.0.113.0/24" -r "$fix/starttls-tls12.pcap" >"$work/inbound.json"
check "with internal_networks only the remote side is looked up" \
	'[ "$(jq -c "$s | [.source.geo, .destination.geo.country_iso_code]" "$work/inbound.json")" = '"'"'[null,"CH"]'"'"' ]'

"$TLSOBS" -q --set "geoip.location_db=$work/gen1/flat.mmdb" --set geoip.paths.country_iso_code=country_code \
	--set geoip.paths.city_name=city --set geoip.paths.latitude=latitude --set geoip.paths.longitude=longitude \
	-r "$fix/starttls-tls12.pcap" >"$work/flat.json"
check "a flat ip-location-db layout works through geoip.paths" \
	'[ "$(jq -c "$s | .destination.geo | [.country_iso_code, .city_name, (.location != null)]" "$work/flat.json")" = '"'"'["CH","Zürich",true]'"'"' ]'

rc=0
"$TLSOBS" --set "geoip.location_db=$work/missing.mmdb" -r "$fix/starttls-tls12.pcap" >"$work/missing.json" 2>"$work/missing.err" || rc=$?
check "a missing database is a warning, and the run goes on without geo (exit $rc)" \
	'[ "$rc" -eq 0 ] && grep -q "warning geoip: geoip.location_db .*missing.mmdb: No such file" "$work/missing.err" && [ "$(jq -c "$s | .destination.geo" "$work/missing.json")" = null ]'
printf 'not a maxmind database' >"$work/corrupt.mmdb"
rc=0
"$TLSOBS" -T --set "geoip.asn_db=$work/corrupt.mmdb" 2>"$work/t.err" || rc=$?
check "under -T a corrupt database is an error (exit $rc)" '[ "$rc" -eq 2 ] && grep -q "geoip.asn_db" "$work/t.err"'
rc=0
"$TLSOBS" -T "${geo[@]}" --set geoip.paths.city_name=city..name 2>"$work/t.err" || rc=$?
check "an invalid record path is a configuration error (exit $rc)" '[ "$rc" -eq 2 ] && grep -q "geoip.paths.city_name" "$work/t.err"'
schema_ok() { python3 - "$TLSOBS_SOURCE_DIR/docs/events.schema.json" "$@" <<'PY'
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
bad = [e.message for f in sys.argv[2:] for line in open(f) for e in v.iter_errors(json.loads(line))]
bad and print("\n".join(bad[:5])); sys.exit(1 if bad else 0)
PY
}
if python3 -c 'import jsonschema' 2>/dev/null; then
	check "events with geo and AS validate against docs/events.schema.json" \
		'schema_ok "$work/tls12.json" "$work/mask.json" "$work/flat.json"'
fi

# A database replaced on disk (rename, as geoipupdate does) is served by the running sensor.
if [ "$(id -u)" -eq 0 ] && command -v tcpreplay >/dev/null && command -v tcprewrite >/dev/null &&
	ip netns add "tlsobs-geo-$$" 2>/dev/null; then
	ns="tlsobs-geo-$$"
	ip -n "$ns" link add replay0 type veth peer name span0
	ip -n "$ns" link set replay0 up
	ip -n "$ns" link set span0 up
	# The server moves into 192.0.2.0/24, which generation 2 relocates from Berlin to Paris.
	tcprewrite --infile="$fix/smtp-plain.pcap" --outfile="$work/moved.pcap" \
		--srcipmap=198.51.100.0/24:192.0.2.0/24 --dstipmap=198.51.100.0/24:192.0.2.0/24
	cp "$work/gen1/city.mmdb" "$work/live.mmdb"
	ip netns exec "$ns" "$TLSOBS" -i span0 --set "geoip.location_db=$work/live.mmdb" \
		--set flow.timeout.closed=1s -o "json:$work/live.json" 2>"$work/live.err" &
	sensor=$!
	sleep 1
	ip netns exec "$ns" tcpreplay -q -i replay0 --topspeed "$work/moved.pcap" >/dev/null
	sleep 2
	cp "$work/gen2/city.mmdb" "$work/live.mmdb.new"
	mv "$work/live.mmdb.new" "$work/live.mmdb"
	sleep 7 # the sensor looks for replaced files every 5 s
	ip netns exec "$ns" tcpreplay -q -i replay0 --topspeed "$work/moved.pcap" >/dev/null
	sleep 2
	kill -TERM "$sensor"
	wait "$sensor" || true
	sensor=
	cities=$(jq -r "$s | .destination.geo.city_name" "$work/live.json" | tr '\n' ' ')
	check "a replaced database is used without a restart (cities: $cities)" '[ "$cities" = "Berlin Paris " ]'
	check "the summary counts the reload" 'grep -q "geoip: .* 1 databases reloaded" "$work/live.err"'
else
	echo "skip the live replacement case: needs root, a network namespace and tcpreplay"
fi
[ "$fail" -eq 0 ] || exit 1
