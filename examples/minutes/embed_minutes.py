"""Put the sample minutes into the demo streams: every `meeting.held` carries a real PDF.

Run from the repository root: `.venv/bin/python examples/minutes/embed_minutes.py`.
In each of `examples/events/modum.jsonl` and `vardo.jsonl`, the `meeting.held` events take
turns, in file order: the first gets `minutes-pdfa.pdf` (declares PDF/A-2b, archived with
VersionFormat A), the second `minutes-plain.pdf` (VersionFormat P), and so on. Only
`minutes.content_base64` and `minutes.sha256` change; every other field and line is kept
byte for byte, so re-running leaves the files unchanged. `--check` only reports whether a
rewrite is due (exit 1 when it is).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EVENTS = HERE.parent / "events"
STREAMS = ("modum.jsonl", "vardo.jsonl")
SAMPLES = ("minutes-pdfa.pdf", "minutes-plain.pdf")


def _line(event: dict[str, Any]) -> str:
    """One event as the examples write it (non-ASCII kept, default separators)."""
    return json.dumps(event, ensure_ascii=False)


def rewrite(text: str, samples: tuple[bytes, ...]) -> str:
    """`text` (a JSONL stream) with its minutes replaced by `samples`, taken in turn."""
    out: list[str] = []
    held = 0
    for line in text.splitlines():
        event = json.loads(line) if line.strip() else None
        if not isinstance(event, dict) or event.get("type") != "meeting.held":
            out.append(line)
            continue
        if _line(event) != line:
            raise SystemExit("a meeting.held line is not in the examples' JSON form; fix it first")
        data = samples[held % len(samples)]
        held += 1
        minutes = event["data"]["minutes"]
        minutes["content_base64"] = base64.b64encode(data).decode("ascii")
        minutes["sha256"] = hashlib.sha256(data).hexdigest()
        out.append(_line(event))
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    """Rewrite the streams (or, with `--check`, report whether they are up to date)."""
    check = "--check" in argv
    samples = tuple((HERE / name).read_bytes() for name in SAMPLES)
    stale = []
    for name in STREAMS:
        path = EVENTS / name
        before = path.read_text(encoding="utf-8")
        after = rewrite(before, samples)
        if after == before:
            continue
        stale.append(name)
        if not check:
            path.write_text(after, encoding="utf-8")
    verb = "out of date" if check else "rewritten"
    print(f"{verb}: {', '.join(stale)}" if stale else "up to date")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
