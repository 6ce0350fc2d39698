"""The hostile suite's figures as a Markdown table.

Run the suite with ``HOSTILE_REPORT=/some/file.jsonl`` (each attack appends a JSON line:
its answer, duration, the server's RSS change and peak, the ``/ping`` probe's p99),
then ``python tests/e2e/hostile/report.py /some/file.jsonl``.
"""

from __future__ import annotations

import json
import sys


def table(lines: list[str]) -> str:
    rows = [json.loads(line) for line in lines if line.strip()]
    rows.sort(key=lambda r: (r["attack"], r["proto"]))
    out = [
        "| attack | protocol | observed answer | time (s) | RSS Δ (KiB) | RSS peak Δ (KiB)"
        " | /ping p99 (ms, n) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    out.extend(
        f"| {r['attack']} | {r['proto']} | {r['answer']} | {r['seconds']:.3f} "
        f"| {r['rss_delta_kib']} | {r['peak_delta_kib']} "
        f"| {r['probe_p99_ms']} ({r['probe_n']}) |"
        for r in rows
    )
    return "\n".join(out)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        print(table(source.readlines()))
