"""Benchmark of `gt report` beside `gt check` on the same workbook: `python bench/bench_report.py`.

At 1k and 10k people (10 attendance rows per person, so 100k rows at 10k), each command is run
whole, as staff run it (a fresh process: imports, read, parse, figures, charts, writing), best
of two; printed side by side with their ratio (target: the page within 2× of `gt check`, the
figures being one pass over the registry and the charts a constant).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from generate import AS_OF, generate_registry, owned_headers, write_workbook  # noqa: E402
from gt_registry.config import load_config  # noqa: E402

SIZES = (1_000, 10_000)
ROWS_PER_PERSON = 10


def timed(*args: str, repeat: int = 2) -> float:
    """Best wall time of `python -m gt_registry ARGS` (exit 0 or 1: problems are not failures)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "gt_registry", *args], capture_output=True)
        best = min(best, time.perf_counter() - started)
        if done.returncode not in (0, 1):
            raise SystemExit(done.stderr.decode())
    return best


def figures(people: int, folder: Path) -> str:
    config = load_config(None, environ={})
    path = write_workbook(
        {**generate_registry(people, people * ROWS_PER_PERSON, config), **owned_headers(config)},
        folder / f"r{people}.xlsx",
    )
    common = ("--sheet", str(path), "--as-of", AS_OF.isoformat())
    check = timed(*common, "check")
    page = timed(*common, "report", "--out", str(folder / f"r{people}.html"), "--force")
    data = timed(*common, "report", "--json")
    return (
        f"{people:>6} people × {people * ROWS_PER_PERSON:>7} rows: gt check {check:.2f} s | "
        f"gt report {page:.2f} s (×{page / check:.2f}, target ≤ 2) | "
        f"gt report --json {data:.2f} s (×{data / check:.2f})"
    )


def main() -> None:
    print(__doc__.split("\n\n")[0])
    with tempfile.TemporaryDirectory(prefix="gt-bench-report-") as tmp:
        for people in SIZES:
            print(figures(people, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
