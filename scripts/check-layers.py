#!/usr/bin/env python3
"""scripts/check-layers.py [ROOT] - the one-way rule between layers and between sensor/'s rooms.

Layers: parsers <- rules <- outputs <- sensor (a layer includes only itself and the layers to its left).
Rooms of sensor/ (README "Layout"): capture and flow stand alone; app builds on flow; config holds the
settings of every room, so it may name flow's; state stands alone; report reads config and state; the top
of sensor/ (main.c, sensor.c, worker.c) wires them all. Prints each include that breaks the rule and exits 1.
"""
import pathlib
import re
import sys

LAYERS = {"parsers": {"parsers"}, "rules": {"parsers", "rules"},
          "outputs": {"parsers", "rules", "outputs"}, "sensor": {"parsers", "rules", "outputs", "sensor"}}
ROOMS = {"capture": {"capture"}, "flow": {"flow"}, "app": {"app", "flow"}, "config": {"config", "flow"},
         "workers": {"workers", "top", "capture", "flow", "app", "config"},
         "state": {"state"}, "report": {"report", "config", "state"},
         "top": {"top", "capture", "flow", "app", "config", "state", "report", "workers"}}


def room_of(rel):
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 else "top"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    bad = 0
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.[ch]")):
            rel = path.relative_to(root).as_posix()
            for n, line in enumerate(path.read_text().splitlines(), 1):
                m = re.match(r'\s*#\s*include\s+"([a-z_]+)/([^"]+)"', line)
                if not m:
                    continue
                target = m.group(1)
                why = None
                if target in LAYERS and target not in LAYERS[layer]:
                    why = f"layer {layer} may not include {target}"
                elif layer == "sensor" and target == "sensor":
                    inc_room = room_of(m.group(1) + "/" + m.group(2))
                    if room_of(rel) not in ROOMS:
                        why = f"unknown room {room_of(rel)}"
                    elif inc_room not in ROOMS[room_of(rel)]:
                        why = f"room {room_of(rel)} may not include room {inc_room}"
                if why:
                    print(f"{rel}:{n}: {why}: {line.strip()}")
                    bad += 1
    print(f"check-layers: {bad} include(s) against the one-way rule")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
