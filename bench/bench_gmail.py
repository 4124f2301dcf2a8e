"""Benchmark of drafting into Gmail: the project's HTTP fake of Gmail v1 with 0.1 s of
latency per request and Gmail's per-user quota enforced (250 units per second; a create
costs 10), real google-auth above it.

Run: `python bench/bench_gmail.py` (about a minute: this bench really waits). Prints, for
100, 300 and 1,000 new drafts, the wall time of `gmail_push.push` (each draft noted on
disk as it is confirmed, fsync included, as a real run does: `gmail_pending`) beside:

- the sequential floor: requests × latency (one request at a time, no quota);
- the quota floor: quota units ÷ 250 per second (any number of threads);

and the requests sent and the 429 answers received. Target (issue 12): 300 drafts in at
most half the sequential time (≈ 15 s), close to the quota floor (12 s), almost no 429;
then a re-run with nothing changed: two requests.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

import pytest  # noqa: E402  (MonkeyPatch routes requests to the fake, as in the tests)
from fake_gmail import USER, FakeGmail, authorized_user_info, install  # noqa: E402
from gt_registry import auth, gmail_pending, gmail_plan  # noqa: E402
from gt_registry.gmail import COSTS, QUOTA_PER_SECOND, GmailClient  # noqa: E402
from gt_registry.gmail_push import push  # noqa: E402

SIZES = (100, 300, 1_000)
LATENCY = 0.1


def messages(count: int) -> list[gmail_plan.Outgoing]:
    out = []
    for i in range(count):
        data = (
            f"From: Camille <{USER}>\r\nTo: p{i}@example.org\r\nSubject: Réunion du GT\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\nBonjour {i},\r\n" + "x" * 2000 + "\r\n"
        ).encode()
        out.append(gmail_plan.Outgoing("R-BENCH", f"P-{i:04}", data, gmail_plan.digest(data), 0))
    return out


def one(count: int, folder: Path) -> None:
    fake = FakeGmail(latency=LATENCY, quota_per_second=QUOTA_PER_SECOND)
    with pytest.MonkeyPatch.context() as patch:
        install(patch, fake)
        key = folder / f"user-{count}.json"
        key.write_text(json.dumps(authorized_user_info(fake.grant())), encoding="utf-8")
        credentials = auth.gmail_credentials(key).credentials
        batch = messages(count)
        client = GmailClient(credentials)
        started = time.perf_counter()
        noted = folder / f"notes-{count}.jsonl"  # each draft noted on disk, as a real run does
        result = push(
            client, batch, [], when="bench", note=lambda rs: gmail_pending.note(noted, rs)
        )
        wall = time.perf_counter() - started
        assert len(fake.drafts()) == count and not result.failed
        units = COSTS["profile"] + COSTS["list"] + COSTS["create"] * count  # Drafts empty first
        sequential = client.requests * LATENCY
        quota = units / QUOTA_PER_SECOND
        rerun = GmailClient(credentials)
        again = push(rerun, batch, result.records, when="bench")
        assert not again.written
        print(
            f"{count:>5} drafts: {wall:6.1f} s   sequential floor {sequential:6.1f} s "
            f"({client.requests} requests × {LATENCY} s)   quota floor {quota:5.1f} s "
            f"({units} units ÷ {QUOTA_PER_SECOND}/s)   requests {client.requests}   "
            f"429s {client.throttled}   re-run: {rerun.requests} requests, nothing written"
        )


def main() -> None:
    print(f"Gmail fake: {LATENCY} s latency per request, {QUOTA_PER_SECOND} units/user/s enforced")
    with tempfile.TemporaryDirectory() as folder:
        for count in SIZES:
            one(count, Path(folder))


if __name__ == "__main__":
    main()
