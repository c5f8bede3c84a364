#!/usr/bin/env bash
# es_template.sh: docs/elasticsearch-component-template.json is a valid component
# template (JSON, template.mappings.properties, known field types) that maps every
# field of docs/events.schema.json and every field of real events (the fixtures
# with a partner policy), each value fitting its mapped type (long, date, ip,
# boolean, geo_point); and it is what scripts/gen-es-template.py makes of the
# schema, so a schema change cannot leave it behind. See es_template.py.
set -euo pipefail
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/es_template.py"
