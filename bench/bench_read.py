"""Benchmark of the registry foundation: reading, parsing and checking, each beside its floor.

Run: `python bench/bench_read.py` (about a minute on 2 cores). Prints, for 1k and 10k people
(10 attendance rows per person, so 100k rows at 10k):

- xlsx: `gt check`'s read + parse + check, beside python-calamine's bare read of the same
  workbook (target ≤ 3×) and openpyxl's read-only read (what a naive tool would use);
- xlsx write-back of the owned tabs, beside openpyxl's bare load + save (target ≤ 1.3×);
- Google Sheets (the project's HTTP fake, real gspread): requests per read (target: 1 at any
  size) and wall time of read + parse + check, beside gspread's bare `values_batch_get`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import bench_sync  # noqa: E402  (its Sheets-fake helpers)
from generate import AS_OF, generate_registry, owned_headers, write_workbook  # noqa: E402
from gt_registry.config import load_config  # noqa: E402

SIZES = (1_000, 10_000)
ROWS_PER_PERSON = 10


def best_of(call: Callable[[], Any], repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def our_check(backend: Any, config: Any) -> None:
    """What `Session.load` does for every command: read, then parse, the GC paused."""
    from gt_registry.loader import load_registry
    from gt_registry.session import paused_gc

    with paused_gc():
        load_registry(backend.read(), config, AS_OF)


def xlsx_figures(people: int, folder: Path) -> list[str]:
    import openpyxl
    from gt_registry.backends.xlsx import WorkbookBackend
    from python_calamine import CalamineWorkbook

    config = load_config(None, environ={})
    path = write_workbook(
        {**generate_registry(people, people * ROWS_PER_PERSON, config), **owned_headers(config)},
        folder / f"r{people}.xlsx",
    )
    backend = WorkbookBackend(path, config)

    def calamine() -> None:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)

    def openpyxl_read() -> None:
        book = openpyxl.load_workbook(path, read_only=True)
        for sheet in book.worksheets:
            for _row in sheet.iter_rows(values_only=True):
                pass
        book.close()

    def openpyxl_load_save() -> None:
        openpyxl.load_workbook(path).save(folder / "copy.xlsx")

    snapshot = backend.read()
    eligibility = [["ID", "Nom"], *([f"P-{i:06d}", f"Nom {i}"] for i in range(people))]

    def our_write() -> None:
        backend.write({config.tab("eligibility"): eligibility}, snapshot)

    floor = best_of(calamine)
    ours = best_of(lambda: our_check(backend, config))
    naive = best_of(openpyxl_read, repeat=1)
    save_floor = best_of(openpyxl_load_save, repeat=1)
    write = best_of(our_write, repeat=1)
    return [
        f"xlsx {people:>6} personnes : read+parse+check {ours:6.2f} s | calamine seul {floor:5.2f} s "
        f"(×{ours / floor:.1f}, cible ≤ 3) | openpyxl read-only seul {naive:5.2f} s",
        f"xlsx {people:>6} personnes : écriture des onglets outil {write:6.2f} s | openpyxl load+save seul "
        f"{save_floor:5.2f} s (×{write / save_floor:.2f}, cible ≤ 1.3)",
    ]


def google_figures(fake_module: Any, people: int) -> str:
    from dataclasses import replace

    from gt_registry.backends.gsheets import RENDER, GoogleSheetsBackend
    from gt_registry.model import quote_tab

    tabs = {**generate_registry(people, people * ROWS_PER_PERSON), **owned_headers()}
    with bench_sync.faked(fake_module, tabs) as (fake, key_file):
        config = replace(load_config(None, environ={}), credentials=key_file)
        backend = GoogleSheetsBackend(bench_sync.KEY, config)
        backend.read()  # token + client set-up, outside the timing
        fake.requests.clear()
        ours = best_of(lambda: our_check(backend, config), repeat=1)
        requests = [r.kind for r in fake.requests]
        http = backend._http()
        ranges = [quote_tab(name) for name in tabs]
        floor = best_of(
            lambda: http.values_batch_get(bench_sync.KEY, ranges, params=RENDER), repeat=1
        )
    return (
        f"Google {people:>6} personnes : requêtes par lecture {len(requests)} ({', '.join(sorted(set(requests)))}) | "
        f"read+parse+check {ours:5.2f} s | values_batch_get seul {floor:5.2f} s (faux serveur local)"
    )


def main() -> None:
    print(__doc__.split("\n\n")[0])
    fake_module = bench_sync.load_fake()
    bench_sync.SERVICE_ACCOUNT = fake_module.make_service_account_key()
    with tempfile.TemporaryDirectory() as folder:
        for people in SIZES:
            for line in xlsx_figures(people, Path(folder)):
                print(line, flush=True)
    for people in SIZES:
        print(google_figures(fake_module, people), flush=True)


if __name__ == "__main__":
    main()
