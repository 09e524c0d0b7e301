"""Parse rate of the hardened 80020 parser against plain ElementTree on the same file.

A day of 10,000 measuring points x 48 half-hours (480,000 values, windows-1251) is written by
the simulator; then, interleaved, best of --repeat runs: ``adapters.askue.parse_file`` (safe,
values to exact Decimals in UTC periods) against ``xml.etree.ElementTree.parse`` (no
protection) iterating its values (text and status), and defusedxml's ElementTree for reference.
CPU time of this process is reported beside wall time: the machine may be shared.

    python bench/bench_askue_parse.py [--points 10000] [--repeat 3] [--encoding utf-8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import defusedxml.ElementTree as DET

from adapters.askue import parse_file
from simulators.askue import AskueFleet, write_fleet


def safe(path: Path) -> int:
    return parse_file(path).value_count


def plain_elementtree(path: Path) -> int:
    n = 0
    for v in ET.parse(path).iter("value"):
        v.text  # noqa: B018 - what a consumer reads
        v.get("status")
        n += 1
    return n


def defused_elementtree(path: Path) -> int:
    n = 0
    for v in DET.parse(path).iter("value"):
        v.text  # noqa: B018
        v.get("status")
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--encoding", default="windows-1251", choices=("windows-1251", "utf-8"))
    ap.add_argument("--no-defused", action="store_true", help="skip the defusedxml reference")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fleet = AskueFleet(points=args.points, days=1, minutes=30, encoding=args.encoding)
        write_fleet(Path(tmp), fleet, truth=False)
        (path,) = Path(tmp).glob("80020_*.xml")
        size = path.stat().st_size
        runs: dict[str, Callable[[Path], int]] = {
            "safe parser (adapters.askue)": safe,
            "ElementTree.parse + iterate": plain_elementtree,
        }
        if not args.no_defused:
            runs["defusedxml ElementTree + iterate"] = defused_elementtree
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.repeat):
            for name, fn in runs.items():
                w0, c0 = time.perf_counter(), time.process_time()
                n = fn(path)
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                held = best.get(name)
                if held is None or cpu < held[1]:
                    best[name] = (wall, cpu, n)
    print(f"file: {args.points} points x 48 half-hours, {size / 1e6:.1f} MB, {args.encoding}")
    print(f"best of {args.repeat}, interleaved")
    print(f"{'':34} {'values':>8} {'wall s':>7} {'cpu s':>7} {'values/s (cpu)':>15}")
    for name, (wall, cpu, n) in best.items():
        print(f"{name:34} {n:>8} {wall:7.2f} {cpu:7.2f} {n / cpu:15,.0f}")
    base = best["ElementTree.parse + iterate"]
    mine = best["safe parser (adapters.askue)"]
    if base[2] != mine[2]:
        raise SystemExit(f"value counts differ: {mine[2]} vs {base[2]}")
    print(f"ratio safe / ElementTree (values/s, cpu): {base[1] / mine[1]:.2f}")
    print(f"ratio safe / ElementTree (values/s, wall): {base[0] / mine[0]:.2f}")


if __name__ == "__main__":
    main()
