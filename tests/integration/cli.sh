#!/usr/bin/env bash
# cli.sh: the tlsobs command line end to end, on real captures and real files.
#
# Exit codes (sensor/run_loop.h, described in main.c): 0 done; 1 runtime error (what was seen is still
# reported); 2 usage or configuration error, with a one-line message naming
# the option or the file:line. Every event line must be a JSON object with the
# ECS fields the session event promises. Run by ctest with TLSOBS (the binary)
# and TLSOBS_SOURCE_DIR set; exits 77 (skipped) without python3.
set -uo pipefail

: "${TLSOBS:?TLSOBS must name the tlsobs binary}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=$SRC/tests/fixtures
EXAMPLE=$SRC/docs/tlsobs.example.yaml
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }

W=$(mktemp -d)
trap 'chmod -R u+rwx "$W" 2>/dev/null; rm -rf "$W"' EXIT

# ---- helpers ----

# Reads event lines; every one must be valid JSON. Subcommands:
#   validate FILE      every event has the promised fields and types; prints the session count
#   get FILE PATH      the dotted PATH of each session event, one a line
#   normalize FILE     events with the volatile fields dropped, keys sorted, one a line
cat >"$W/events.py" <<'EOF'
import ipaddress, json, re, sys

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

def fail(msg):
    sys.exit(f"events.py: {msg}")

def load(path):
    out = []
    with open(path, encoding="utf-8") as f:  # invalid UTF-8 fails here
        for n, line in enumerate(f, 1):
            try:
                e = json.loads(line)
            except ValueError as x:
                fail(f"{path}:{n}: not JSON ({x}): {line[:200]!r}")
            if not isinstance(e, dict):
                fail(f"{path}:{n}: not a JSON object")
            out.append((n, e))
    return out

def get(e, path):
    for part in path.split("."):
        if not isinstance(e, dict) or part not in e:
            return None
        e = e[part]
    return e

def is_count(v):
    return type(v) is int and v >= 0

def check_session(where, e):
    def want(path, ok, what):
        if not ok(get(e, path)):
            fail(f"{where}: {path} should be {what}, is {get(e, path)!r}")
    is_time = lambda v: isinstance(v, str) and TIME.match(v) is not None
    want("@timestamp", is_time, "an RFC 3339 time with microseconds")
    want("event.kind", lambda v: v == "event", '"event"')
    want("event.start", is_time, "a time")
    want("event.end", is_time, "a time")
    if get(e, "event.start") > get(e, "event.end"):
        fail(f"{where}: event.start is after event.end")
    versions = set()
    for side in ("source", "destination"):
        ip = get(e, side + ".ip")
        try:
            versions.add(ipaddress.ip_address(ip).version)
        except (TypeError, ValueError):
            fail(f"{where}: {side}.ip is not an address: {ip!r}")
        want(side + ".port", lambda v: type(v) is int and 1 <= v <= 65535, "a port")
        want(side + ".bytes", is_count, "a count")
        want(side + ".packets", is_count, "a count")
    want("network.transport", lambda v: v == "tcp", '"tcp"')
    want("network.type", lambda v: versions == {6 if v == "ipv6" else 4} and v in ("ipv4", "ipv6"),
         f"the family of both addresses ({versions})")
    want("tlsobs.flow.close_reason", lambda v: isinstance(v, str) and v != "", "a reason")
    want("tlsobs.flow.gaps", is_count, "a count")

def sessions(path):
    return [e for _, e in load(path) if get(e, "event.dataset") == "tlsobs.session"]

def strip(e):
    if isinstance(e, dict):
        return {k: strip(v) for k, v in e.items() if k not in ("session_id", "created", "id", "related_session_id", "outputs")}
    if isinstance(e, list):
        return [strip(v) for v in e]
    return e

cmd, path = sys.argv[1], sys.argv[2]
if cmd == "validate":
    count = 0
    for n, e in load(path):
        where = f"{path}:{n}"
        dataset = get(e, "event.dataset")
        if dataset == "tlsobs.session":
            check_session(where, e)
            count += 1
        elif dataset in ("tlsobs.certificate", "tlsobs.stats"):  # their own schema test checks them
            pass
        elif dataset == "tlsobs.alert":  # alerts carry their own schema; here only the envelope
            if get(e, "event.kind") != "alert" or not TIME.match(str(get(e, "@timestamp"))):
                fail(f"{where}: an alert needs event.kind \"alert\" and @timestamp")
        else:
            fail(f"{where}: event.dataset is {dataset!r}")
    print(count)
elif cmd == "get":
    for e in sessions(path):
        v = get(e, sys.argv[3])
        print(json.dumps(v) if not isinstance(v, str) else v)
elif cmd == "normalize":
    for _, e in load(path):
        print(json.dumps(strip(e), sort_keys=True))
else:
    fail(f"unknown command {cmd}")
EOF

events() { python3 "$W/events.py" "$@"; }

fail() {
	echo "    $*" >&2
	return 1
}

# Runs the sensor: stdout in $out, stderr in $err, status in $rc (a test never hangs).
run() {
	out=$CASE/out err=$CASE/err rc=0
	timeout 300 "$TLSOBS" "$@" >"$out" 2>"$err" || rc=$?
}

expect_rc() {
	[ "$rc" -eq "$1" ] || fail "exit status $rc, expected $1; stderr: $(head -c 2000 "$err")"
}

# Standard error is exactly one line, matching the extended regex.
expect_one_line() {
	local lines
	lines=$(wc -l <"$err")
	[ "$lines" -eq 1 ] || fail "expected one line on stderr, got $lines: $(head -c 2000 "$err")"
	grep -Eq -- "$1" "$err" || fail "stderr does not match /$1/: $(cat "$err")"
}

expect_err() {
	grep -Eq -- "$1" "$err" || fail "stderr does not match /$1/: $(head -c 2000 "$err")"
}

expect_no_output() {
	[ ! -s "$out" ] || fail "expected nothing on stdout, got: $(head -c 500 "$out")"
}

# The number of session events in FILE (validating every line), compared with $2.
expect_sessions() {
	local n
	n=$(events validate "$1") || return 1
	[ "$n" -eq "$2" ] || fail "$1: $n sessions, expected $2"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

# A copy of a fixture cut 10 bytes short: the last packet record is incomplete.
truncated_copy() {
	local size
	size=$(stat -c %s "$1")
	head -c $((size - 10)) "$1" >"$2"
}

# A copy of capture $1 with every packet time shifted so that its first packet has the time of $2's.
same_start_copy() {
	python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
def parse(path):
    data = open(path, "rb").read()
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">"}.get(data[:4])
    if order is None:
        sys.exit(f"{path}: not a microsecond pcap")
    return data, order
src, o = parse(sys.argv[1])
ref, ro = parse(sys.argv[2])
first = lambda d, e: (lambda s, u: s * 1000000 + u)(*struct.unpack(e + "II", d[24:32]))
delta = first(ref, ro) - first(src, o)
out, pos = bytearray(src[:24]), 24
while pos + 16 <= len(src):
    sec, usec, incl, orig = struct.unpack(o + "IIII", src[pos:pos + 16])
    t = sec * 1000000 + usec + delta
    out += struct.pack(o + "IIII", t // 1000000, t % 1000000, incl, orig) + src[pos + 16:pos + 16 + incl]
    pos += 16 + incl
open(sys.argv[3], "wb").write(out)
PY
}

passed=0 failed=0

# t "sentence" function: runs the function in a subshell that stops at the first failed expectation.
t() {
	local name=$1
	shift
	CASE=$(mktemp -d "$W/case.XXXXXX")
	(
		set -eE
		trap 'echo "    (stopped at line $LINENO, called from line ${BASH_LINENO[0]})" >&2' ERR
		"$@"
	)
	local status=$? # not `if ( ... )`: set -e is ignored inside a condition
	if [ "$status" -eq 0 ]; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}

# ---- options ----

help_prints_usage() {
	run -h
	expect_rc 0
	grep -q '^usage: tlsobs' "$out" || fail "no usage line on stdout"
	[ ! -s "$err" ] || fail "stderr not empty"
	run --help
	expect_rc 0
	grep -q '^usage: tlsobs' "$out" || fail "--help: no usage line"
}

version_prints_the_version() {
	run -V
	expect_rc 0
	grep -Eqx 'tlsobs [0-9]+\.[0-9]+\.[0-9]+.*' "$out" || fail "stdout: $(cat "$out")"
	[ "$(wc -l <"$out")" -eq 1 ] || fail "more than one line"
	run --version
	expect_rc 0
	grep -q '^tlsobs ' "$out" || fail "--version printed nothing"
}

unknown_option_is_named() {
	run --bogus -r "$FIX/smtp-plain.pcap"
	expect_rc 2
	expect_one_line "^tlsobs: unknown option '--bogus'"
	expect_no_output
	run -x
	expect_rc 2
	expect_one_line "^tlsobs: unknown option '-x'"
	# Inside a bundle the option itself is named, not the word before it.
	run -T -xq
	expect_rc 2
	expect_one_line "^tlsobs: unknown option '-x'"
}

missing_value_is_named() {
	run -T -r
	expect_rc 2
	expect_one_line '^tlsobs: -r needs a value'
	run -T --set
	expect_rc 2
	expect_one_line '^tlsobs: --set needs a value'
	run -T -c
	expect_rc 2
	expect_one_line '^tlsobs: -c needs a value'
	run -T -vo
	expect_rc 2
	expect_one_line '^tlsobs: -o needs a value'
}

files_and_interfaces_do_not_mix() {
	run -r "$FIX/smtp-plain.pcap" -i lo
	expect_rc 2
	expect_one_line '^tlsobs: -r and -i cannot be used together'
	expect_no_output
}

no_source_is_a_usage_error() {
	run
	expect_rc 2
	expect_one_line '^tlsobs: nothing to capture: give -r FILE or -i IFACE'
	run -r "$FIX/smtp-plain.pcap" extra
	expect_rc 2
	expect_one_line "^tlsobs: unexpected argument 'extra'"
}

# ---- configuration (-T, -c, --set) ----

good_config_checks_ok() {
	run -T -c "$EXAMPLE"
	expect_rc 0
	expect_one_line '^tlsobs: configuration OK$'
	expect_no_output
	run -T
	expect_rc 0
	run -T -c "$EXAMPLE" --set flow.memcap=256mb --set smtp.ports=25,587 --set 'tls.implicit_ports=[465, 10465]'
	expect_rc 0
}

yaml_syntax_error_names_file_and_line() {
	printf 'capture:\n  snaplen: 1500\nsmtp:\n  ports: [25, 587\n' >"$CASE/c.yaml"
	run -T -c "$CASE/c.yaml"
	expect_rc 2
	expect_one_line "^tlsobs: $CASE/c.yaml:[45]: "
	printf 'capture:\n  snaplen: 1500\n bad indent: 1\n' >"$CASE/d.yaml"
	run -T -c "$CASE/d.yaml"
	expect_rc 2
	expect_one_line "^tlsobs: $CASE/d.yaml:3: "
}

unknown_key_names_file_and_line() {
	printf 'capture:\n  snaplen: 1500\nflow:\n  memcap: 64mb\n  memcapp: 64mb\n' >"$CASE/c.yaml"
	run -T -c "$CASE/c.yaml"
	expect_rc 2
	expect_one_line "^tlsobs: $CASE/c.yaml:5: flow.memcapp: unknown setting$"
	printf 'flow:\n  memcap: 64mb\nfoo: 1\nbar:\n  baz: 2\n' >"$CASE/d.yaml"
	run -T -c "$CASE/d.yaml"
	expect_rc 2
	grep -qx "tlsobs: $CASE/d.yaml:3: foo: unknown setting" "$err" || fail "foo not reported: $(cat "$err")"
	grep -qx "tlsobs: $CASE/d.yaml:4: bar: unknown setting" "$err" || fail "bar not reported: $(cat "$err")"
	[ "$(wc -l <"$err")" -eq 2 ] || fail "expected two lines: $(cat "$err")"
}

state_db_mistakes_are_named() {
	run -T --set "state_db=$CASE/no/such/dir/state.db"
	expect_rc 2
	expect_one_line "^tlsobs: state_db $CASE/no/such/dir/state.db: directory $CASE/no/such/dir: No such file"
	printf 'not a database, just text long enough to be read as a header by sqlite...............' >"$CASE/bad.db"
	run -q --set "state_db=$CASE/bad.db" -r "$FIX/smtp-plain.pcap"
	expect_rc 1
	expect_err "^tlsobs: state_db: .*bad.db"
	run -q --set "state_db=$CASE/good.db" -r "$FIX/smtp-plain.pcap"
	expect_rc 0
	[ -s "$CASE/good.db" ] || fail "no database written"
}

bad_value_names_file_and_line() {
	printf 'capture:\n  snaplen: 1500\nflow:\n  memcap: lots\n' >"$CASE/c.yaml"
	run -T -c "$CASE/c.yaml"
	expect_rc 2
	expect_one_line "^tlsobs: $CASE/c.yaml:4: flow.memcap: expected a size .*got 'lots'$"
	printf 'flow:\n  timeout:\n    new: 0s\n' >"$CASE/d.yaml"
	run -T -c "$CASE/d.yaml"
	expect_rc 2
	expect_one_line "^tlsobs: $CASE/d.yaml:3: flow.timeout.new: "
	# The run itself refuses the same file before reading any capture.
	run -c "$CASE/c.yaml" -r "$FIX/smtp-plain.pcap"
	expect_rc 2
	expect_no_output
}

an_empty_section_is_accepted() {
	printf 'flow:\n  # memcap: 64mb\ncapture:\n' >"$CASE/c.yaml"
	run -T -c "$CASE/c.yaml"
	expect_rc 0
}

missing_config_file_is_named() {
	run -T -c "$CASE/none.yaml"
	expect_rc 2
	expect_one_line "^tlsobs: $CASE/none.yaml: No such file or directory$"
}

set_errors_are_named_by_set() {
	run -T --set flow.timeout.new=abc
	expect_rc 2
	expect_one_line "^tlsobs: --set: flow.timeout.new: expected a duration .*got 'abc'$"
	run -T --set nosuch.key=1
	expect_rc 2
	expect_one_line '^tlsobs: --set: nosuch: unknown setting$'
	run -T --set flow.memcap
	expect_rc 2
	expect_one_line "^tlsobs: --set: expected KEY=VALUE, got 'flow.memcap'$"
	run -T -c "$EXAMPLE" --set flow=1
	expect_rc 2
	expect_one_line '^tlsobs: --set: flow is a section, not a value$'
}

set_overrides_the_file() {
	printf 'flow:\n  memcap: lots\n' >"$CASE/c.yaml"
	run -T -c "$CASE/c.yaml" --set flow.memcap=64mb
	expect_rc 0
	run -T -c "$EXAMPLE" --set flow.memcap=lots
	expect_rc 2
	expect_one_line "^tlsobs: --set: flow.memcap: "
	# A --set that changes the capture: the SMTP ports decide the default filter.
	run -q -r "$FIX/smtp-plain.pcap" --set smtp.ports=2525
	expect_rc 0
	expect_sessions "$out" 0
	run -q -r "$FIX/smtp-plain.pcap" --set smtp.ports=2525,25
	expect_rc 0
	expect_sessions "$out" 1
}

# ---- capture filter ----

bad_filter_is_a_usage_error() {
	run -T -f 'tcp port'
	expect_rc 2
	expect_one_line "^tlsobs: -f 'tcp port': bad capture filter"
	run -r "$FIX/smtp-plain.pcap" -f 'tcp port'
	expect_rc 2
	expect_one_line "^tlsobs: -f 'tcp port': bad capture filter"
	expect_no_output
}

filter_selects_packets() {
	run -q -r "$FIX/smtp-plain.pcap" -f 'tcp port 25'
	expect_rc 0
	expect_sessions "$out" 1
	run -q -r "$FIX/smtp-plain.pcap" -f 'tcp port 9'
	expect_rc 0
	expect_sessions "$out" 0
}

# ---- capture files ----

truncated_capture_reports_what_was_seen() {
	truncated_copy "$FIX/demo.pcap" "$CASE/t.pcap"
	run -r "$CASE/t.pcap"
	expect_rc 1
	expect_err "^tlsobs: $CASE/t.pcap: capture ends early: "
	expect_err 'files: 0 read, 1 failed'
	expect_sessions "$out" 4
	cp "$out" "$CASE/truncated.json"
	run -q -r "$FIX/demo.pcap"
	expect_rc 0
	# The sessions that ended before the cut are exactly those of the whole file.
	events normalize "$CASE/truncated.json" >"$CASE/a"
	events normalize "$out" >"$CASE/b"
	cmp -s <(sed -n 1,3p "$CASE/a") <(sed -n 1,3p "$CASE/b") ||
		fail "first sessions differ: $(diff "$CASE/a" "$CASE/b" | head -c 1000)"
	expect_eq "$(events get "$CASE/truncated.json" source.port | tail -n 1)" \
		"$(events get "$out" source.port | tail -n 1)" "last session's client port"
}

non_pcap_file_is_a_runtime_error() {
	printf 'EHLO this is not a capture\r\n' >"$CASE/text.pcap"
	run -r "$CASE/text.pcap"
	expect_rc 1
	expect_err "^tlsobs: $CASE/text.pcap: not a readable pcap or pcapng file"
	expect_no_output
}

empty_file_is_a_runtime_error() {
	: >"$CASE/empty.pcap"
	run -r "$CASE/empty.pcap"
	expect_rc 1
	expect_err "^tlsobs: $CASE/empty.pcap: empty file, not a capture$"
	expect_no_output
}

missing_file_is_a_runtime_error() {
	run -r "$CASE/none.pcap"
	expect_rc 1
	expect_err "^tlsobs: -r $CASE/none.pcap: No such file or directory$"
	expect_err '^tlsobs: no readable capture source$'
	expect_no_output
}

a_bad_file_does_not_stop_the_good_ones() {
	printf 'junk' >"$CASE/junk.pcap"
	run -r "$CASE/junk.pcap" -r "$FIX/smtp-plain.pcap"
	expect_rc 1
	expect_err "^tlsobs: $CASE/junk.pcap: not a readable pcap"
	expect_err '^tlsobs: files: 1 read, 1 failed$'
	expect_sessions "$out" 1
	mkdir "$CASE/empty"
	run -r "$FIX/smtp-plain.pcap" -r "$CASE/none.pcap" -r "$CASE/empty"
	expect_rc 1
	expect_err "^tlsobs: -r $CASE/none.pcap: No such file or directory$"
	expect_err "^tlsobs: -r $CASE/empty: directory holds no files$"
	expect_err '^tlsobs: files: 1 read, 2 failed$'
	expect_sessions "$out" 1
}

# Runs the sensor as an unprivileged user when we are root (root reads any directory).
unreadable_directory_is_a_runtime_error() {
	mkdir "$CASE/locked"
	cp "$FIX/smtp-plain.pcap" "$CASE/locked/"
	chmod 000 "$CASE/locked"
	chmod 755 "$W" "$CASE"
	if [ "$(id -u)" -eq 0 ]; then
		command -v setpriv >/dev/null || { echo "    (no setpriv: not checked as root)"; return 0; }
		rc=0
		setpriv --reuid=65534 --regid=65534 --clear-groups "$TLSOBS" -r "$CASE/locked" \
			>"$CASE/out" 2>"$CASE/err" || rc=$?
		out=$CASE/out err=$CASE/err
	else
		run -r "$CASE/locked"
	fi
	expect_rc 1
	expect_err "^tlsobs: -r $CASE/locked: cannot read directory: Permission denied$"
}

directory_without_files_is_a_runtime_error() {
	mkdir -p "$CASE/d/sub"
	cp "$FIX/smtp-plain.pcap" "$CASE/d/.hidden.pcap"
	cp "$FIX/smtp-plain.pcap" "$CASE/d/sub/"
	run -r "$CASE/d"
	expect_rc 1
	expect_err "^tlsobs: -r $CASE/d: directory holds no files$"
	expect_no_output
}

# Names sort against time: a directory read by name would run the flows backwards.
directory_is_read_in_time_order() {
	local d=$CASE/dir
	mkdir -p "$d/sub"
	cp "$FIX/ipv6-starttls.pcap" "$d/a.pcap"  # 16:02:06
	cp "$FIX/smtps-465.pcap" "$d/b.pcap"      # 16:02:00
	cp "$FIX/starttls-tls13.pcap" "$d/c.pcap" # 16:01:48
	cp "$FIX/smtp-plain.pcap" "$d/d.pcap"     # 16:01:36
	cp "$FIX/bdat.pcap" "$d/.skipped.pcap"    # hidden files and subdirectories are not read
	cp "$FIX/bdat.pcap" "$d/sub/"
	run -r "$d"
	expect_rc 0
	expect_err '^tlsobs: files: 4 read, 0 failed$'
	expect_sessions "$out" 4
	events normalize "$out" >"$CASE/dir.json"
	expect_eq "$(events get "$out" destination.port | tr '\n' ' ')" "25 25 465 25 " "server ports in order"
	expect_eq "$(events get "$out" network.type | tail -n 1)" "ipv6" "last session's network"
	# One flow per file, none overlapping: sessions end, and are reported, in time order.
	events get "$out" event.start >"$CASE/starts"
	LC_ALL=C sort -c "$CASE/starts" || fail "event.start goes backwards: $(cat "$CASE/starts")"
	# The same as naming the files, in either order.
	run -r "$d/d.pcap" -r "$d/c.pcap" -r "$d/b.pcap" -r "$d/a.pcap"
	expect_rc 0
	expect_err '^tlsobs: files: 4 read, 0 failed$'
	events normalize "$out" | cmp -s - "$CASE/dir.json" || fail "differs from the files listed in time order"
	run -r "$d/a.pcap" -r "$d/b.pcap" -r "$d/c.pcap" -r "$d/d.pcap"
	expect_rc 0
	events normalize "$out" | cmp -s - "$CASE/dir.json" || fail "differs from the files listed by name"
}

# Two captures starting at the same microsecond: the order given decides, whatever qsort does.
equal_start_times_keep_the_order_given() {
	local d=$CASE/dir
	mkdir "$d"
	cp "$FIX/smtp-plain.pcap" "$d/x.pcap"
	same_start_copy "$FIX/smtps-465.pcap" "$FIX/smtp-plain.pcap" "$d/y.pcap"
	run -q -r "$d/x.pcap" -r "$d/y.pcap"
	expect_rc 0
	expect_eq "$(events get "$out" event.start | sort -u | wc -l)" 1 "distinct start times"
	expect_eq "$(events get "$out" destination.port | tr '\n' ' ')" "25 465 " "x then y"
	run -q -r "$d/y.pcap" -r "$d/x.pcap"
	expect_rc 0
	expect_eq "$(events get "$out" destination.port | tr '\n' ' ')" "465 25 " "y then x"
	run -q -r "$d"
	expect_eq "$(events get "$out" destination.port | tr '\n' ' ')" "25 465 " "a directory, by name"
	mv "$d/x.pcap" "$d/z.pcap"
	run -q -r "$d"
	expect_eq "$(events get "$out" destination.port | tr '\n' ' ')" "465 25 " "a directory, renamed"
}

# ---- outputs ----

two_outputs_get_the_same_events() {
	run -q -r "$FIX/demo.pcap" -o "json:$CASE/a.json" -o "json:$CASE/b.json"
	expect_rc 0
	expect_no_output
	expect_sessions "$CASE/a.json" 4
	cmp -s "$CASE/a.json" "$CASE/b.json" || fail "the two outputs differ"
	run -q -r "$FIX/demo.pcap" -o json:- -o "json:$CASE/c.json"
	expect_rc 0
	expect_sessions "$CASE/c.json" 4
	# Only event.created may differ between two runs.
	events normalize "$CASE/c.json" | cmp -s - <(events normalize "$CASE/a.json") || fail "runs differ"
	cmp -s "$out" "$CASE/c.json" || fail "stdout and the file differ"
}

bad_output_is_a_usage_error() {
	run -r "$FIX/smtp-plain.pcap" -o xml:-
	expect_rc 2
	expect_one_line "^tlsobs: -o xml:-: unknown output"
	run -r "$FIX/smtp-plain.pcap" -o "json:$CASE/no/such/dir.json"
	expect_rc 2
	expect_one_line "^tlsobs: -o json:$CASE/no/such/dir.json: No such file or directory$"
	expect_no_output
}

dump_streams_needs_a_directory() {
	run -r "$FIX/smtp-plain.pcap" --dump-streams "$FIX/smtp-plain.pcap"
	expect_rc 2
	expect_one_line "^tlsobs: --dump-streams $FIX/smtp-plain.pcap: not a directory$"
	expect_no_output
	run -T --dump-streams "$CASE/none"
	expect_rc 2
	expect_one_line "^tlsobs: --dump-streams $CASE/none: No such file or directory$"
}

dump_streams_writes_both_directions() {
	mkdir "$CASE/streams"
	run -q -r "$FIX/smtp-plain.pcap" --dump-streams "$CASE/streams"
	expect_rc 0
	local c2s s2c
	c2s=$(ls "$CASE/streams"/*.c2s) || fail "no client-to-server stream"
	s2c=$(ls "$CASE/streams"/*.s2c) || fail "no server-to-client stream"
	expect_eq "$(stat -c %s "$c2s")" "$(events get "$out" tlsobs.flow.to_server.bytes)" "c2s bytes"
	expect_eq "$(stat -c %s "$s2c")" "$(events get "$out" tlsobs.flow.to_client.bytes)" "s2c bytes"
	[ "$(head -c 4 "$s2c")" = "220 " ] || fail "the server stream does not start with the greeting"
}

# ---- events ----

every_fixture_gives_valid_events() {
	local f n
	for f in "$FIX"/*.pcap; do
		run -q -r "$f"
		expect_rc 0
		[ ! -s "$err" ] || fail "$(basename "$f"): stderr with -q: $(cat "$err")"
		n=$(events validate "$out") || fail "$(basename "$f")"
		case "$(basename "$f")" in
		non-mail.pcap | nonstd-port-10025-*) ;; # no mail port: sessions only with --any-port
		*) [ "$n" -ge 1 ] || fail "$(basename "$f"): no session" ;;
		esac
	done
}

# 200 copies of one STARTTLS session at once (client ports rewritten, merged): a memcap too small
# for all their parsers makes room by evicting other flows (or, failing that, stops parsing), and
# a session cut either way is undecided, never a false alert; with room, all 200 are whole.
parser_memory_is_charged_to_the_memcap() {
	command -v tcprewrite >/dev/null && command -v mergecap >/dev/null || { echo "    (tcprewrite or mergecap missing: not run)"; return 0; }
	# 200: enough to outgrow 2 MiB now that an SMTP parser is small (issue 16; 60 were before).
	local i n=200
	for i in $(seq 1 $n); do
		tcprewrite --infile="$FIX/starttls-tls12.pcap" --outfile="$CASE/c$i.pcap" --portmap=33414:$((40000 + i)) --fixcsum
	done
	mergecap -w "$CASE/concurrent.pcap" "$CASE"/c*.pcap
	run -r "$CASE/concurrent.pcap" --set flow.memcap=2mb --set flow.hash_size=1024 --ca-file "$FIX/certs/ca.crt"
	expect_rc 0
	local cut
	cut=$(grep -c '"close_reason":"evicted"\|"parser_memcap":1' "$out" || true)
	[ "$cut" -ge 1 ] || fail "no session was cut: the memcap was not reached"
	grep -q "evicted\|parsing stopped at the memcap" "$err" || fail "summary: $(grep flows: "$err")"
	! grep -q '"dataset":"tlsobs.alert"' "$out" || fail "alerts from cut sessions: $(grep -o '"name":"[a-z_]*"' "$out" | sort | uniq -c)"
	run -q -r "$CASE/concurrent.pcap" --ca-file "$FIX/certs/ca.crt"
	expect_sessions "$out" $n
	! grep -q '"limits"\|"close_reason":"evicted"' "$out" || fail "cut sessions with the default memcap"
	[ "$(grep -c '"established":true' "$out")" -eq $n ] || fail "not all $n handshakes established"
}

plain_smtp_is_one_session_to_port_25() {
	run -q -r "$FIX/smtp-plain.pcap"
	expect_rc 0
	expect_sessions "$out" 1
	expect_eq "$(events get "$out" destination.port)" 25 destination.port
	expect_eq "$(events get "$out" destination.ip)" 198.51.100.25 destination.ip
	expect_eq "$(events get "$out" source.ip)" 203.0.113.10 source.ip
	local port
	port=$(events get "$out" source.port)
	[ "$port" -gt 1023 ] || fail "client port $port is not an ephemeral port"
	expect_eq "$(events get "$out" network.type)" ipv4 network.type
	expect_eq "$(events get "$out" tlsobs.flow.close_reason)" fin close_reason
	expect_eq "$(events get "$out" tlsobs.flow.gaps)" 0 gaps
	expect_eq "$(events get "$out" network.packets)" 23 network.packets
	expect_eq "$(events get "$out" event.start)" 2026-11-28T16:01:36.881784Z event.start
	expect_eq "$(events get "$out" event.end)" 2026-11-28T16:01:36.931486Z event.end
}

ipv6_session_is_typed_ipv6() {
	run -q -r "$FIX/ipv6-starttls.pcap"
	expect_rc 0
	expect_sessions "$out" 1
	expect_eq "$(events get "$out" network.type)" ipv6 network.type
	expect_eq "$(events get "$out" source.ip)" 2001:db8:113::10 source.ip
	expect_eq "$(events get "$out" destination.ip)" 2001:db8:100::25 destination.ip
	expect_eq "$(events get "$out" destination.port)" 25 destination.port
}

# smtp-plain.pcap: client 203.0.113.10, server 198.51.100.25.
internal_networks_set_network_direction() {
	run -q -r "$FIX/smtp-plain.pcap" --set internal_networks=198.51.100.0/24
	expect_rc 0
	expect_sessions "$out" 1
	expect_eq "$(events get "$out" network.direction)" inbound network.direction
	run -q -r "$FIX/smtp-plain.pcap" --set internal_networks=203.0.113.0/24
	expect_rc 0
	expect_eq "$(events get "$out" network.direction)" outbound network.direction
	run -q -r "$FIX/smtp-plain.pcap" --set internal_networks=203.0.113.0/24,198.51.100.25/32
	expect_rc 0
	expect_eq "$(events get "$out" network.direction)" internal network.direction
	run -q -r "$FIX/smtp-plain.pcap" --set internal_networks=2001:db8::/32
	expect_rc 0
	expect_eq "$(events get "$out" network.direction)" external network.direction
	run -q -r "$FIX/smtp-plain.pcap"
	expect_rc 0
	expect_eq "$(events get "$out" network.direction)" null "network.direction without internal_networks"
	run -q -r "$FIX/smtp-plain.pcap" --set internal_networks=198.51.100.0/33
	expect_rc 2
	expect_one_line "^tlsobs: --set: internal_networks: .*bad prefix length"
}

known_captures_give_known_sessions() {
	run -q -r "$FIX/demo.pcap"
	expect_sessions "$out" 4
	expect_eq "$(events get "$out" destination.port | tr '\n' ' ')" "25 25 465 25 " "demo ports"
	run -q -r "$FIX/smtps-465.pcap"
	expect_sessions "$out" 1
	expect_eq "$(events get "$out" destination.port)" 465 "smtps port"
	run -q -r "$FIX/submission-auth-587.pcap"
	expect_eq "$(events get "$out" destination.port)" 587 "submission port"
	run -q -r "$FIX/tls-blocked-then-plain.client-side.pcap"
	expect_sessions "$out" 2
	expect_eq "$(events get "$out" tlsobs.flow.close_reason | tr '\n' ' ')" "rst fin " "close reasons"
	run -q -r "$FIX/large-1mb-plain.pcap"
	expect_sessions "$out" 1
	local bytes
	bytes=$(events get "$out" tlsobs.flow.to_server.bytes)
	[ "$bytes" -gt 1000000 ] || fail "the 1 MB message gave $bytes bytes"
}

summary_counts_the_run() {
	run -r "$FIX/smtp-plain.pcap"
	expect_rc 0
	expect_err '^tlsobs: 23 packets, '
	expect_err '^tlsobs: decode anomalies: 0$'
	expect_err '^tlsobs: flows: 1 created, .*0 evicted'
	expect_err 'reassembly gaps: 0 \(0 bytes\)'
	expect_err '^tlsobs: files: 1 read, 0 failed$'
	run -q -r "$FIX/smtp-plain.pcap"
	[ ! -s "$err" ] || fail "-q still prints: $(cat "$err")"
}

# The rule names of the alert events in $out, one a line.
alert_rules() {
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"]["dataset"] == "tlsobs.alert":
        print(e["rule"]["name"], e["tlsobs"]["partner"]["domain"])' "$out"
}

partner_policy_attributes_sessions_and_raises_its_rules() {
	cat >"$CASE/policy.yaml" <<'YAML'
policy:
  default_mode: opportunistic
  partners:
    - domain: example.net
      mode: enforced
      mx: ["*.example.net"]
YAML
	run -q -c "$CASE/policy.yaml" -r "$FIX/smtp-plain.pcap"
	expect_rc 0
	expect_eq "$(events get "$out" tlsobs.partner.domain)" example.net "partner.domain (mail in clear)"
	expect_eq "$(events get "$out" tlsobs.partner.mode)" enforced "partner.mode"
	expect_eq "$(events get "$out" tlsobs.partner.match)" rcpt_domain "partner.match (RCPT TO in clear)"
	expect_eq "$(alert_rules | grep -c '^policy_tls_required example.net$')" 1 "policy_tls_required for mail in clear"
	run -q -c "$CASE/policy.yaml" -r "$FIX/starttls-tls13.pcap"
	expect_rc 0
	expect_eq "$(events get "$out" tlsobs.partner.match)" banner "partner.match (TLS hides RCPT TO)"
	expect_eq "$(alert_rules | grep -c '^policy_')" 0 "no policy alert for TLS 1.3"
	printf '      min_tls_version: "1.3"\n' >>"$CASE/policy.yaml"
	run -q -c "$CASE/policy.yaml" -r "$FIX/starttls-tls12.pcap"
	expect_rc 0
	expect_eq "$(alert_rules | grep -c '^policy_tls_version example.net$')" 1 "policy_tls_version below 1.3"
	run -q -r "$FIX/smtp-plain.pcap"
	expect_eq "$(events get "$out" tlsobs.partner.match)" none "partner.match without a policy"
	expect_eq "$(events get "$out" tlsobs.partner.domain)" null "partner.domain without a policy"
}

mta_sts_policy_raises_a_violation_for_mail_in_clear() {
	mkdir -p "$CASE/sts"
	printf 'version: STSv1\nmode: enforce\nmx: mail.other.example\nmax_age: 86400\n' >"$CASE/sts/example.net.txt"
	printf 'policy:\n  mta_sts_dir: %s\n' "$CASE/sts" >"$CASE/sts.yaml"
	run -q -c "$CASE/sts.yaml" -r "$FIX/smtp-plain.pcap"
	expect_rc 0
	local got
	got=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"]["dataset"] == "tlsobs.alert" and e["rule"]["name"] == "mta_sts_violation":
        print(e["rule"]["id"], e["event"]["severity"], e["tlsobs"]["tlsrpt"]["result_type"])' "$out")
	expect_eq "$got" "tlsobs-1043 6 starttls-not-supported" "mta_sts_violation for mail in clear"
	# A bad policy file is a configuration error naming the file and its line.
	printf 'version: STSv1\nmode: strict\nmax_age: 86400\n' >"$CASE/sts/example.net.txt"
	run -T -c "$CASE/sts.yaml"
	expect_rc 2
	expect_one_line "^tlsobs: policy.mta_sts_dir: $CASE/sts/example.net.txt: line 2: "
}

t "-h and --help print the usage and exit 0" help_prints_usage
t "-V and --version print the version and exit 0" version_prints_the_version
t "an unknown option exits 2 naming it" unknown_option_is_named
t "an option without its value exits 2 naming it" missing_value_is_named
t "-r with -i exits 2" files_and_interfaces_do_not_mix
t "no capture source exits 2" no_source_is_a_usage_error
t "-T with a good configuration exits 0" good_config_checks_ok
t "a YAML syntax error exits 2 naming file:line" yaml_syntax_error_names_file_and_line
t "an unknown key exits 2 naming file:line" unknown_key_names_file_and_line
t "a bad value exits 2 naming file:line" bad_value_names_file_and_line
t "a section with every key commented out is accepted" an_empty_section_is_accepted
t "a state_db in a missing directory exits 2, one that is not a database exits 1" state_db_mistakes_are_named
t "a missing configuration file exits 2 naming it" missing_config_file_is_named
t "a bad --set exits 2 naming --set" set_errors_are_named_by_set
t "--set overrides the file and reaches the capture" set_overrides_the_file
t "a bad capture filter exits 2" bad_filter_is_a_usage_error
t "a capture filter selects the packets read" filter_selects_packets
t "a truncated capture exits 1 and still reports its sessions" truncated_capture_reports_what_was_seen
t "a file that is not a capture exits 1" non_pcap_file_is_a_runtime_error
t "an empty file exits 1" empty_file_is_a_runtime_error
t "a missing capture file exits 1" missing_file_is_a_runtime_error
t "a bad file or path among good ones is skipped and the rest read" a_bad_file_does_not_stop_the_good_ones
t "an unreadable directory exits 1" unreadable_directory_is_a_runtime_error
t "a directory without capture files exits 1" directory_without_files_is_a_runtime_error
t "a directory is read in time order like the files named" directory_is_read_in_time_order
t "captures starting at the same time are read in the order given" equal_start_times_keep_the_order_given
t "two json outputs get the same events" two_outputs_get_the_same_events
t "a bad output exits 2 naming it" bad_output_is_a_usage_error
t "--dump-streams into a non-directory exits 2" dump_streams_needs_a_directory
t "--dump-streams writes both directions of a flow" dump_streams_writes_both_directions
t "every fixture gives valid session events" every_fixture_gives_valid_events
t "plain SMTP is one session from a client port to port 25" plain_smtp_is_one_session_to_port_25
t "the parsers' memory is charged to flow.memcap; a session cut to make room raises nothing" parser_memory_is_charged_to_the_memcap
t "an IPv6 session has network.type ipv6" ipv6_session_is_typed_ipv6
t "internal_networks sets network.direction, and without it there is none" internal_networks_set_network_direction
t "known captures give their known sessions" known_captures_give_known_sessions
t "the summary counts packets, anomalies, flows, evictions and gaps" summary_counts_the_run
t "a partner policy attributes sessions and raises its rules" partner_policy_attributes_sessions_and_raises_its_rules
t "an MTA-STS policy in enforce mode raises mta_sts_violation for mail in clear" mta_sts_policy_raises_a_violation_for_mail_in_clear

echo "cli.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
