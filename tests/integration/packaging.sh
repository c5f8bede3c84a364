#!/usr/bin/env bash
# packaging.sh: the service files as an operator installs them.
#  - `cmake --install` into a DESTDIR (prefix /usr) puts the binary, tlsobs.service,
#    the sysusers and logrotate files, both man pages, the runbooks, the docs and
#    the default configuration at /etc/tlsobs/tlsobs.yaml; a second install keeps
#    an edited configuration;
#  - the installed binary's -T reads that configuration, and -h names it as default;
#  - `groff -ww -mandoc` renders both man pages without a warning;
#  - `systemd-analyze verify` finds nothing wrong with the unit, and
#    `systemd-analyze security --offline=true` rates its exposure 3.0 or lower,
#    with the capabilities limited to CAP_NET_RAW and CAP_NET_ADMIN;
#  - as root: the installed sensor captures live as an unprivileged user holding only the
#    unit's two ambient capabilities, with no new privileges (setpriv, a veth in a namespace);
#  - the logrotate snippet parses (logrotate -d) and signals with kill -HUP.
# Each tool that is missing skips its part with the reason; exits 77 when all are.
set -uo pipefail
: "${TLSOBS_BUILD_DIR:?TLSOBS_BUILD_DIR must name the build directory}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failed=0 passed=0 skipped=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { echo "skip $*"; skipped=$((skipped + 1)); }

# A build of its own with prefix /usr, so the unit and pages name /usr/bin/tlsobs; only
# the binary is rebuilt (the libraries are the same sources: fast on a warm ccache-less box too).
B=$W/build
D=$W/root
if ! cmake -S "$SRC" -B "$B" -DCMAKE_INSTALL_PREFIX=/usr -DTLSOBS_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	>"$W/cmake.log" 2>&1 || ! cmake --build "$B" -j2 --target tlsobs >>"$W/cmake.log" 2>&1; then
	bad "configure and build with prefix /usr: $(tail -5 "$W/cmake.log")"
	exit 1
fi
if ! DESTDIR=$D cmake --install "$B" >"$W/install.log" 2>&1; then
	bad "cmake --install: $(tail -5 "$W/install.log")"
	exit 1
fi
missing=
for f in usr/bin/tlsobs usr/lib/systemd/system/tlsobs.service usr/lib/sysusers.d/tlsobs.conf \
	etc/logrotate.d/tlsobs etc/tlsobs/tlsobs.yaml usr/share/man/man8/tlsobs.8 usr/share/man/man5/tlsobs.yaml.5 \
	usr/share/doc/tlsobs/tlsobs.example.yaml usr/share/doc/tlsobs/events.md usr/share/doc/tlsobs/events.schema.json \
	usr/share/doc/tlsobs/elasticsearch-component-template.json usr/share/doc/tlsobs/runbooks/starttls_refused.md; do
	[ -e "$D/$f" ] || missing="$missing $f"
done
n_books=$(ls "$D/usr/share/doc/tlsobs/runbooks/"*.md 2>/dev/null | wc -l)
n_src=$(ls "$SRC/docs/runbooks/"*.md | wc -l)
if [ -z "$missing" ] && [ "$n_books" -eq "$n_src" ]; then
	ok "cmake --install into DESTDIR: binary, unit, sysusers, logrotate, man pages, docs, $n_books runbooks, /etc/tlsobs/tlsobs.yaml"
else
	bad "cmake --install: missing:$missing; runbooks $n_books of $n_src"
fi
grep -q 'ExecStart=/usr/bin/tlsobs -c /etc/tlsobs/tlsobs.yaml' "$D/usr/lib/systemd/system/tlsobs.service" &&
	ok "the unit runs /usr/bin/tlsobs with /etc/tlsobs/tlsobs.yaml" || bad "ExecStart: $(grep ExecStart "$D/usr/lib/systemd/system/tlsobs.service")"

# The configuration an operator edited survives a reinstall.
echo "# edited" >>"$D/etc/tlsobs/tlsobs.yaml"
DESTDIR=$D cmake --install "$B" >/dev/null 2>&1
grep -q "^# edited" "$D/etc/tlsobs/tlsobs.yaml" && ok "a second install keeps the edited configuration" ||
	bad "a second install overwrote /etc/tlsobs/tlsobs.yaml"

# The installed configuration is valid (its state_db directory redirected into the DESTDIR).
mkdir -p "$D/var/lib/tlsobs"
if "$D/usr/bin/tlsobs" -T -c "$D/etc/tlsobs/tlsobs.yaml" --set "state_db=$D/var/lib/tlsobs/state.db" 2>"$W/T.err"; then
	ok "tlsobs -T accepts the installed configuration"
else
	bad "tlsobs -T on the installed configuration: $(cat "$W/T.err")"
fi
"$D/usr/bin/tlsobs" -h | grep -q "default: /etc/tlsobs/tlsobs.yaml if it exists" &&
	ok "-h names the default configuration path" || bad "-h does not name /etc/tlsobs/tlsobs.yaml"
grep -q "/usr/share/doc/tlsobs/runbooks/" <(strings "$D/usr/bin/tlsobs") &&
	ok "rule.reference defaults to the installed runbooks (/usr/share/doc/tlsobs/runbooks/)" ||
	bad "the binary does not know the installed runbook path"

if command -v groff >/dev/null; then
	for page in "$D/usr/share/man/man8/tlsobs.8" "$D/usr/share/man/man5/tlsobs.yaml.5"; do
		warnings=$(groff -ww -mandoc -Tutf8 "$page" 2>&1 >/dev/null)
		lines=$(groff -mandoc -Tutf8 "$page" 2>/dev/null | wc -l)
		if [ -z "$warnings" ] && [ "$lines" -gt 40 ]; then
			ok "groff -ww -mandoc: $(basename "$page") renders clean ($lines lines)"
		else
			bad "groff -ww -mandoc $(basename "$page"): $lines lines, warnings: $warnings"
		fi
	done
	grep -q '/etc/tlsobs/tlsobs.yaml' <(groff -mandoc -Tutf8 "$D/usr/share/man/man8/tlsobs.8" 2>/dev/null | col -b) &&
		ok "tlsobs(8) names the default configuration" || bad "tlsobs(8) does not name /etc/tlsobs/tlsobs.yaml"
else
	skip "man pages: groff missing"
fi

if command -v systemd-analyze >/dev/null; then
	unit=$D/usr/lib/systemd/system/tlsobs.service
	# verify: a copy of the unit whose binary is the DESTDIR's, its man pages found through MANPATH.
	sed "s|/usr/bin/tlsobs|$D/usr/bin/tlsobs|g" "$unit" >"$W/tlsobs.service"
	man_check=--man=no
	command -v man >/dev/null && man_check=--man=yes
	if MANPATH=$D/usr/share/man systemd-analyze verify $man_check "$W/tlsobs.service" >"$W/verify" 2>&1 &&
		! grep -v '^$' "$W/verify" | grep -q .; then
		ok "systemd-analyze verify ($man_check): clean"
	else
		bad "systemd-analyze verify: $(cat "$W/verify")"
	fi
	systemd-analyze security --offline=true --root="$D" "$unit" >"$W/security" 2>&1 ||
		systemd-analyze security --offline=true "$unit" >"$W/security" 2>&1
	level=$(grep -oE 'Overall exposure level for tlsobs.service: [0-9.]+' "$W/security" | awk '{print $NF}')
	if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }'; then
		ok "systemd-analyze security --offline=true: exposure $level (3.0 or lower)"
	else
		bad "systemd-analyze security: exposure '${level:-?}': $(tail -3 "$W/security")"
	fi
	for want in 'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN' 'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN' \
		'User=tlsobs' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'StateDirectory=tlsobs' \
		'SystemCallFilter=@system-service' 'ExecReload=/bin/kill -HUP $MAINPID'; do
		grep -qxF "$want" "$unit" || bad "the unit lacks '$want'"
	done
	grep -q '^RestrictAddressFamilies=' "$unit" || bad "the unit lacks RestrictAddressFamilies="
	ok "the unit: User=tlsobs, the two capabilities only, NoNewPrivileges, ProtectSystem=strict, reload by SIGHUP"
else
	skip "systemd unit: systemd-analyze missing"
fi

# What the unit gives the sensor, without systemd: an unprivileged user, the two capabilities as
# ambient ones and nothing else in the bounding set, no new privileges. Live capture must work so
# (a fixture replayed into a veth in a namespace of our own), and ends with a session event.
live_as_the_unit() {
	local ns=tpkg-$$ nobody
	nobody=$(id -u nobody 2>/dev/null) || { skip "capture as the unit's user: no user nobody"; return; }
	ip netns add "$ns" 2>/dev/null || { skip "capture as the unit's user: cannot create a network namespace"; return; }
	ip -n "$ns" link add r0 type veth peer name span0 && ip -n "$ns" link set r0 up && ip -n "$ns" link set span0 up
	chmod 755 "$W"
	printf 'capture:\n  interfaces: [span0]\noutputs: ["json:%s/live.json"]\n' "$W" >"$W/live.yaml"
	: >"$W/live.json"
	chown "$nobody" "$W/live.json"
	ip netns exec "$ns" setpriv --reuid="$nobody" --regid="$(id -g nobody)" --clear-groups \
		--inh-caps=-all,+net_raw,+net_admin --ambient-caps=-all,+net_raw,+net_admin \
		--bounding-set=-all,+net_raw,+net_admin --no-new-privs \
		"$D/usr/bin/tlsobs" -c "$W/live.yaml" 2>"$W/live.err" &
	local pid=$!
	sleep 1
	ip netns exec "$ns" tcpreplay -q -i r0 --topspeed "$SRC/tests/fixtures/smtp-plain.pcap" >/dev/null 2>&1
	sleep 12 # the session ends at its FIN, reported after flow.timeout.closed (10 s)
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	local rc=$?
	ip netns del "$ns"
	if [ "$rc" -eq 0 ] && grep -q '"dataset":"tlsobs.session"' "$W/live.json" &&
		grep -q '"dataset":"tlsobs.policy"' "$W/live.json"; then
		ok "live capture as an unprivileged user with only CAP_NET_RAW and CAP_NET_ADMIN (ambient, no new privileges)"
	else
		bad "live capture as the unit's user: exit $rc, $(grep -c . "$W/live.json") events; $(tail -3 "$W/live.err")"
	fi
}
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && command -v ip >/dev/null && command -v tcpreplay >/dev/null
then
	live_as_the_unit
else
	skip "capture as the unit's user: needs root, setpriv, ip and tcpreplay"
fi

rot=$D/etc/logrotate.d/tlsobs
grep -q 'kill -HUP' "$rot" && ! grep -Eq '^\s*copytruncate' "$rot" && ok "logrotate: postrotate sends SIGHUP, no copytruncate" ||
	bad "logrotate snippet: no kill -HUP in postrotate, or copytruncate"
if command -v logrotate >/dev/null; then
	mkdir -p "$W/log"
	: >"$W/log/eve.json"
	sed "s|/var/log/tlsobs|$W/log|; s|create 0640 tlsobs tlsobs|create 0640 root root|" "$rot" >"$W/rot.conf"
	if logrotate -d -s "$W/state" "$W/rot.conf" >"$W/rot.out" 2>&1 && ! grep -qi "error" "$W/rot.out"; then
		ok "logrotate -d parses the snippet"
	else
		bad "logrotate -d: $(grep -i error "$W/rot.out" | head -3)"
	fi
else
	skip "logrotate -d: logrotate missing"
fi

echo "packaging.sh: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || exit 1
[ "$passed" -gt 0 ] || exit 77
