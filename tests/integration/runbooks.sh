#!/usr/bin/env bash
# runbooks.sh: every rule of the rule table (rules/rule_table.c) has its runbook,
# docs/runbooks/<rule.name>.md, with the sections an analyst needs (what it means,
# how to confirm it, likely causes naming middlebox, misconfiguration and attack,
# what to do, whom to tell; for the partner policy rules, tlsobs-1040..1049, how to
# relax and re-enable a partner), headed by the rule's own id; and the alerts the
# sensor writes carry rule.reference = detection.runbook_base + name + ".md" and
# rule.ruleset. Run by ctest with TLSOBS and TLSOBS_SOURCE_DIR.
set -uo pipefail
: "${TLSOBS:?TLSOBS must name the tlsobs binary}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BOOKS=$SRC/docs/runbooks
errors=0
err() {
	echo "FAIL $*"
	errors=$((errors + 1))
}

# RULE(CODE, "name", "tlsobs-NNNN", severity, ...): one per line in the table.
mapfile -t rows < <(grep -oE 'RULE\([A-Z_]+, "[a-z_0-9]+", "tlsobs-[0-9]+"' "$SRC/rules/rule_table.c" |
	sed -E 's/.*"([a-z_0-9]+)", "(tlsobs-[0-9]+)"/\1 \2/')
[ "${#rows[@]}" -ge 20 ] || err "only ${#rows[@]} rules read from rules/rule_table.c"
for row in "${rows[@]}"; do
	read -r name id <<<"$row"
	f=$BOOKS/$name.md
	if [ ! -f "$f" ]; then
		err "$name ($id): no runbook $f"
		continue
	fi
	grep -q "rule.id \`$id\`" "$f" || err "$name: the runbook does not name rule.id $id"
	for section in "What it means" "How to confirm it from the evidence" "Likely causes" "What to do" "Whom to tell"; do
		grep -q "^## $section" "$f" || err "$name: no '## $section' section"
	done
	for cause in Middlebox Misconfiguration Attack; do
		grep -q "^- $cause:" "$f" || err "$name: likely causes do not cover '$cause'"
	done
	num=${id#tlsobs-}
	if [ "$num" -ge 1040 ] && [ "$num" -le 1049 ]; then
		grep -q "^## Relax and re-enable" "$f" || err "$name: a policy rule without '## Relax and re-enable'"
		grep -q "relaxed_until" "$f" || err "$name: the relaxation section does not show relaxed_until"
	fi
done
echo "checked ${#rows[@]} rules against docs/runbooks/"

# The sensor's alerts point at these files.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$TLSOBS" -q --set "detection.runbook_base=$BOOKS/" -r "$SRC/tests/fixtures" >"$out" 2>/dev/null
python3 - "$out" "$BOOKS" <<'PY' || errors=$((errors + 1))
import json, os, sys
path, books = sys.argv[1:]
alerts = [e for e in map(json.loads, open(path)) if e["event"]["dataset"] == "tlsobs.alert"]
bad = [e["rule"] for e in alerts if e["rule"].get("reference") != os.path.join(books, e["rule"]["name"] + ".md")
       or not os.path.isfile(e["rule"]["reference"]) or not e["rule"].get("ruleset")]
if not alerts or bad:
    sys.exit(f"FAIL rule.reference/ruleset: {len(alerts)} alerts, bad: {bad[:3]}")
print(f"ok   {len(alerts)} alerts of {len({e['rule']['name'] for e in alerts})} rules carry rule.reference to an "
      "existing runbook and rule.ruleset")
PY
[ "$errors" -eq 0 ] && echo "ok   every rule has a complete runbook"
[ "$errors" -eq 0 ]
