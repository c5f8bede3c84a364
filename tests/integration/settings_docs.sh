#!/usr/bin/env bash
# settings_docs.sh: the documentation of the configuration keys cannot drift from the settings table
# (sensor/config/settings_table.c):
#  - docs/settings.md is exactly what `tlsobs --list-settings` prints (regenerate it with that command);
#  - docs/tlsobs.example.yaml has every key of the table and no other (a key whose default depends on the
#    host or the build may be shown commented out), and its values are the defaults: `tlsobs -T -v` prints
#    the same effective configuration for it as for an empty file;
#  - every dotted key the manual pages name (tlsobs.yaml(5), tlsobs(8)) is a key of the table, or a
#    section of them written "section.*".
# Exits 77 (skipped) without python3 and PyYAML.
set -uo pipefail

: "${TLSOBS:?TLSOBS must name the tlsobs binary}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
python3 -c 'import yaml' 2>/dev/null || { echo "python3 with PyYAML missing: skipped"; exit 77; }

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
check() { # name, then a command that must succeed
	if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi
}

rc=0
"$TLSOBS" --list-settings >"$W/list.md" 2>"$W/list.err" || rc=$?
check "--list-settings exits 0 and says nothing on stderr" '[ "$rc" -eq 0 ] && [ ! -s "$W/list.err" ]'
check "docs/settings.md is what --list-settings prints (regenerate: tlsobs --list-settings >docs/settings.md)" \
	'diff -u "$SRC/docs/settings.md" "$W/list.md"'

: >"$W/empty.yaml"
"$TLSOBS" -T -v -c "$W/empty.yaml" >"$W/defaults.txt" 2>"$W/defaults.err"
check "-T -v prints the effective configuration of an empty file" '[ -s "$W/defaults.txt" ]'
"$TLSOBS" -T -v -c "$SRC/docs/tlsobs.example.yaml" >"$W/example.txt" 2>"$W/example.err"
check "the example's values are the defaults (-T -v prints the same)" 'diff -u "$W/defaults.txt" "$W/example.txt"'
check "-T -v prints one line per key of the table" \
	'[ "$(wc -l <"$W/defaults.txt")" -eq "$(grep -Ec "\| (yes|no) \|$" "$W/list.md")" ]'
"$TLSOBS" -T -v -c "$W/empty.yaml" --set flow.memcap=256mb --set smtp.ports=25,10025 >"$W/set.txt" 2>/dev/null
check "-T -v shows a --set value" 'grep -qx "flow.memcap: 256mb" "$W/set.txt" && grep -qx "smtp.ports: \[25, 10025\]" "$W/set.txt"'

cat >"$W/keys.py" <<'EOF'
import re, sys, yaml

list_md, example, *manpages = sys.argv[1:]
rows = [l.split("|")[1].strip() for l in open(list_md) if l.startswith("| ") and not l.startswith("| key ")]
table = set(rows)
problems = []
if len(rows) != len(table):
    problems.append("a key listed twice in --list-settings")

# Leaf keys of the example: a map below a key is a section, except for free-form kafka.properties.
def leaves(node, prefix):
    for k, v in node.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and path != "kafka.properties":
            yield from leaves(v, path + ".")
        else:
            yield path

text = open(example).read()
shown = set(leaves(yaml.safe_load(text), ""))
for key in sorted(shown - table):
    problems.append(f"{example}: {key} is not a key of the settings table")
for key in sorted(table - shown):
    last = key.rsplit(".", 1)[-1]
    if not re.search(r"^\s*#\s*" + re.escape(last) + r":", text, re.M):
        problems.append(f"{example}: {key} is missing")

sections = "|".join(sorted({k.split(".")[0] for k in table}))
token = re.compile(r"(?<![\w./-])(?:%s)\.[a-z_][a-z_.*]*[a-z_*]" % sections)
for page in manpages:
    for key in sorted(set(token.findall(open(page).read().replace("\\-", "-")))):
        if key in table or key.startswith("kafka.properties."):
            continue
        if re.search(r"\.(json|md|yaml)$", key):
            continue  # a file name (events.schema.json), not a key
        if key.endswith(".*") and any(k.startswith(key[:-1]) for k in table):
            continue
        problems.append(f"{page}: {key} is not a key of the settings table")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
check "the example and the manual pages name the table's keys and no others" \
	'python3 "$W/keys.py" "$W/list.md" "$SRC/docs/tlsobs.example.yaml" "$SRC/packaging/tlsobs.yaml.5.in" "$SRC/packaging/tlsobs.8.in"'

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all settings documentation checks passed"
