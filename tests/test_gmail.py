"""The Gmail client and the push of a run's drafts, against the HTTP-level fake (real
google-auth above it): pacing, retries, lost answers, staff edits and sends."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_gmail import USER, FakeGmail
from google.auth.transport.requests import AuthorizedSession
from gt_registry import auth, gmail
from gt_registry import gmail_plan as plan
from gt_registry.gmail import GmailClient, GmailError, Pacer
from gt_registry.gmail_plan import Outgoing, Record
from gt_registry.gmail_push import describe, push

DATA = Path(__file__).parent / "data" / "gmail.v1.subset.json"


class VirtualClock:
    """Time that passes only when someone sleeps: no test waits for real."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now = max(self.now, self.now + seconds)


class ThreadClock(VirtualClock):
    """Virtual time kept per thread: a thread's clock moves only when it sleeps, as if each
    request reached Gmail the instant its thread woke. Threads' sleeps overlap, as real ones
    do, and how the machine schedules them cannot change what the fake sees."""

    def __init__(self) -> None:
        super().__init__()
        self._own = threading.local()

    def __call__(self) -> float:
        return float(getattr(self._own, "now", 0.0))

    def sleep(self, seconds: float) -> None:
        mine = self() + seconds
        self._own.now = mine
        with self._lock:
            self.slept.append(seconds)
            self.now = max(self.now, mine)  # the latest any thread has reached


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def client(authorized_user_file: Path, clock: VirtualClock) -> Callable[..., GmailClient]:
    def make(workers: int = 1) -> GmailClient:
        creds = auth.gmail_credentials(authorized_user_file).credentials
        pacer = Pacer(clock=clock, sleep=clock.sleep)
        return GmailClient(creds, workers=workers, pacer=pacer, sleep=clock.sleep)

    return make


def message(person: str, text: str = "Bonjour", sequence: int | None = 0) -> Outgoing:
    data = (
        f"From: Camille <{USER}>\r\nTo: {person.lower()}@example.org\r\nSubject: Réunion\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{text} {person}\r\n"
    ).encode()
    return Outgoing("R-1", person, data, plan.digest(data), sequence, "fr")


PEOPLE = [f"P-{i}" for i in range(5)]


def run(client: GmailClient, messages: list[Outgoing], records: list[Record], **kw: bool):  # type: ignore[no-untyped-def]
    return push(client, messages, records, when="2020-01-10 10:00", **kw)


def test_a_fresh_run_creates_one_draft_each_with_the_same_bytes_and_the_mark(
    fake_gmail: FakeGmail, client: Callable[..., GmailClient]
) -> None:
    messages = [message(p) for p in PEOPLE]
    result = run(client(), messages, [])
    assert result.count(plan.CREATE) == 5 and not result.failed
    stored = {d.id: d.raw for d in fake_gmail.drafts()}
    for m in messages:
        ref = result.written[("R-1", m.person)]
        assert stored[ref.id] == plan.marked(m)  # the .eml's bytes, the mark first
    assert {r.draft_id for r in result.records} == set(stored)
    assert fake_gmail.count("drafts.get") == 0


def test_a_rerun_with_nothing_changed_creates_nothing_in_two_requests(
    fake_gmail: FakeGmail, client: Callable[..., GmailClient]
) -> None:
    messages = [message(p) for p in PEOPLE]
    first = run(client(), messages, [])
    before = fake_gmail.count()
    again = run(client(), messages, first.records)
    assert fake_gmail.count() - before == 2  # the profile, one list
    assert again.count(plan.KEEP) == 5 and len(fake_gmail.drafts()) == 5
    assert again.records == first.records


def test_a_moved_meeting_updates_unsent_drafts_in_place_and_reissues_sent_ones(
    fake_gmail: FakeGmail, client: Callable[..., GmailClient]
) -> None:
    first = run(client(), [message(p) for p in PEOPLE], [])
    ids = {p: first.written[("R-1", p)].id for p in PEOPLE}
    fake_gmail.staff_send(ids["P-0"])
    fake_gmail.staff_edit(ids["P-1"])
    moved = [message(p, "Nouvelle date", sequence=1) for p in PEOPLE]
    second = run(client(), moved, first.records)
    actions = {d.person: d.action for d in second.decisions}
    assert actions == {
        "P-0": plan.REISSUE,
        "P-1": plan.EDITED,
        "P-2": plan.UPDATE,
        "P-3": plan.UPDATE,
        "P-4": plan.UPDATE,
    }
    drafts = {d.id: d for d in fake_gmail.drafts()}
    for p in ("P-2", "P-3", "P-4"):
        assert second.written[("R-1", p)].id == ids[p]  # same draft, new message
        assert b"Nouvelle date" in drafts[ids[p]].raw
    assert b"Nouvelle date" not in drafts[ids["P-1"]].raw  # staff's edit kept
    reissued = drafts[second.written[("R-1", "P-0")].id]
    assert b"Mise =C3=A0 jour" in reissued.raw or "Mise à jour".encode() in reissued.raw
    assert len(drafts) == 5
    lines = " ".join(text for text, _tone in describe(second))
    assert "modifié(s) à la main" in lines and "P-1" in lines and "Gmail → Brouillons" in lines
    forced = run(client(), moved, second.records, force=True)
    assert {d.person: d.action for d in forced.decisions}["P-1"] == plan.REPLACE
    assert forced.written[("R-1", "P-1")].id == ids["P-1"]


@pytest.mark.parametrize("applied", [True, False], ids=["after-apply", "before-apply"])
def test_a_dropped_create_never_makes_a_second_draft(
    fake_gmail: FakeGmail, client: Callable[..., GmailClient], applied: bool
) -> None:
    fake_gmail.staff_draft()  # staff's own draft: never read
    fake_gmail.drop_next("drafts.create", applied=applied, times=2)
    result = run(client(), [message(p) for p in PEOPLE], [])
    assert not result.failed and len(result.written) == 5
    tool_drafts = [d for d in fake_gmail.drafts() if d.by_tool]
    assert len(tool_drafts) == 5
    assert sorted(r.person for r in result.records) == PEOPLE
    staff = next(d for d in fake_gmail.drafts() if not d.by_tool)
    assert not any(staff.id in r.url for r in fake_gmail.requests)


def test_a_5xx_on_create_is_checked_before_creating_again(
    fake_gmail: FakeGmail, client: Callable[..., GmailClient]
) -> None:
    fake_gmail.fail_next("drafts.create", 503)
    result = run(client(), [message(p) for p in PEOPLE], [])
    assert len(fake_gmail.drafts()) == 5 and not result.failed


def test_429_and_5xx_are_retried_with_bounded_backoff(
    fake_gmail: FakeGmail, client: Callable[..., GmailClient], clock: VirtualClock
) -> None:
    fake_gmail.fail_next("drafts.list", 429, times=2)
    fake_gmail.fail_next("drafts.update", 500)
    c = client()
    assert c.list_drafts() == []
    assert c.throttled == 2 and c.requests == 3
    waits = [s for s in clock.slept if s >= gmail.FIRST_DELAY / 2]
    assert len(waits) == 2 and all(w <= gmail.MAX_DELAY for w in waits)
    ref = c.create(b"To: a@example.org\r\n\r\nx\r\n")
    assert c.update(ref.id, b"To: a@example.org\r\n\r\ny\r\n").id == ref.id


def test_a_persistent_429_gives_up_with_a_clear_message(
    fake_gmail: FakeGmail, client: Callable[..., GmailClient], clock: VirtualClock
) -> None:
    fake_gmail.fail_next("drafts.list", 429, times=100)
    with pytest.raises(
        GmailError, match=r"Gmail ne répond pas \(quota dépassé \(429\)\) après 6 tentatives"
    ):
        client().list_drafts()
    assert sum(s for s in clock.slept if s >= 0.5) <= gmail.MAX_WAIT


def test_a_failure_is_listed_and_what_was_written_is_recorded(
    fake_gmail: FakeGmail, client: Callable[..., GmailClient]
) -> None:
    fake_gmail.fail_next("drafts.create", 429, times=gmail.MAX_ATTEMPTS)  # the first person's
    result = run(client(), [message(p) for p in PEOPLE], [])
    assert len(result.failed) == 1 and len(result.written) == 4
    assert len(result.records) == 4
    again = run(client(), [message(p) for p in PEOPLE], result.records)
    assert again.count(plan.CREATE) == 1 and len(fake_gmail.drafts()) == 5


def test_concurrent_pushes_stay_under_the_quota(
    fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    clock = ThreadClock()
    fake_gmail.clock = clock
    fake_gmail.quota_per_second = 250
    messages = [message(f"P-{i:03}") for i in range(120)]
    creds = auth.gmail_credentials(authorized_user_file).credentials
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    c = GmailClient(creds, workers=8, pacer=pacer, sleep=clock.sleep)
    result = run(c, messages, [])
    assert len(fake_gmail.drafts()) == 120 and not result.failed
    assert c.throttled == 0
    units = 120 * 10 + 5 + 1
    assert clock.now >= (units - gmail.BURST) / 250


def test_a_service_account_writes_into_the_delegated_mailbox(
    fake_gmail: FakeGmail, service_account_file: Path
) -> None:
    resolved = auth.gmail_credentials(service_account_file, USER)
    c = GmailClient(resolved.credentials, USER, sleep=lambda _s: None)
    assert c.profile() == USER


# -- the fake itself: the upload forms, From, shapes against the discovery document ----------


def session(authorized_user_file: Path) -> AuthorizedSession:
    return AuthorizedSession(auth.gmail_credentials(authorized_user_file).credentials)


def test_the_fake_takes_the_media_and_multipart_upload_forms(
    fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    s = session(authorized_user_file)
    raw = f"From: {USER}\r\nTo: a@example.org\r\nSubject: S\r\n\r\nCorps\r\n".encode()
    url = "https://gmail.googleapis.com/upload/gmail/v1/users/me/drafts"
    media = s.post(
        url, params={"uploadType": "media"}, data=raw, headers={"Content-Type": "message/rfc822"}
    )
    assert media.status_code == 200, media.text
    boundary = "==gt=="
    body = (
        (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{}}\r\n"
            f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        ).encode()
        + raw
        + f"\r\n--{boundary}--\r\n".encode()
    )
    multi = s.post(
        url,
        params={"uploadType": "multipart"},
        data=body,
        headers={"Content-Type": f'multipart/related; boundary="{boundary}"'},
    )
    assert multi.status_code == 200, multi.text
    put = s.put(
        f"{url}/{media.json()['id']}",
        params={"uploadType": "media"},
        data=raw.replace(b"Corps", b"Autre"),
        headers={"Content-Type": "message/rfc822"},
    )
    assert put.status_code == 200 and put.json()["id"] == media.json()["id"]
    assert [d.raw.endswith(b"Corps\r\n") for d in fake_gmail.drafts()] == [False, True]
    assert (
        s.delete(
            f"https://gmail.googleapis.com/gmail/v1/users/me/drafts/{media.json()['id']}"
        ).status_code
        == 204
    )
    assert len(fake_gmail.drafts()) == 1


def test_gmail_replaces_a_from_that_is_not_the_account_s(
    fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    c = GmailClient(auth.gmail_credentials(authorized_user_file).credentials, sleep=lambda _s: None)
    c.create(b"From: GT <gt@convergences.example.org>\r\nTo: a@example.org\r\n\r\nx\r\n")
    assert fake_gmail.messages()[0]["From"] == USER
    fake_gmail.mailboxes[USER].send_as.add("gt@convergences.example.org")
    c.create(b"From: GT <gt@convergences.example.org>\r\nTo: a@example.org\r\n\r\nx\r\n")
    assert fake_gmail.messages()[1]["From"] == "GT <gt@convergences.example.org>"


def _check(value: object, schema: dict, schemas: dict, where: str) -> None:
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), where
        props = schema.get("properties", {})
        for key, item in value.items():
            assert key in props, f"{where}.{key} is not in the discovery document"
            _check(item, props[key], schemas, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check(item, schema["items"], schemas, f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), where
        if schema.get("format") == "byte":
            base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    elif kind == "integer":
        assert isinstance(value, int), where


def test_the_fake_answers_in_the_shapes_of_the_discovery_document(
    fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    schemas = doc["schemas"]
    methods = doc["resources"]["users"]["resources"]["drafts"]["methods"]
    base = doc["rootUrl"] + doc["servicePath"]
    s = session(authorized_user_file)
    raw = base64.urlsafe_b64encode(
        f"From: {USER}\r\nTo: a@example.org\r\nSubject: S\r\n\r\nx\r\n".encode()
    ).decode()

    def url(method: dict, **values: str) -> str:
        path = method["path"]
        for key, value in {"userId": "me", **values}.items():
            path = path.replace("{" + key + "}", value)
        return base + path

    created = s.request(
        methods["create"]["httpMethod"], url(methods["create"]), json={"message": {"raw": raw}}
    )
    _check(created.json(), {"$ref": methods["create"]["response"]["$ref"]}, schemas, "create")
    draft_id = created.json()["id"]
    for fmt in methods["get"]["parameters"]["format"]["enum"]:
        got = s.get(url(methods["get"], id=draft_id), params={"format": fmt})
        _check(got.json(), {"$ref": "Draft"}, schemas, f"get({fmt})")
    listed = s.get(url(methods["list"]), params={"maxResults": "1"})
    _check(listed.json(), {"$ref": "ListDraftsResponse"}, schemas, "list")
    updated = s.put(
        url(methods["update"], id=draft_id), json={"id": draft_id, "message": {"raw": raw}}
    )
    _check(updated.json(), {"$ref": "Draft"}, schemas, "update")
    profile = doc["resources"]["users"]["methods"]["getProfile"]
    _check(s.get(url(profile)).json(), {"$ref": "Profile"}, schemas, "profile")
    for name, method in methods.items():  # every route the discovery document names is served
        assert (
            fake_gmail._route(
                method["httpMethod"],
                url(method, id="x"),
                "/" + url(method, id="x").split("/", 3)[3],
            )[0]
            != "unknown"
        ), name
        simple = method.get("mediaUpload", {}).get("protocols", {}).get("simple", {}).get("path")
        if simple:
            path = simple.replace("{userId}", "me").replace("{id}", "x")
            assert (
                fake_gmail._route(method["httpMethod"], doc["rootUrl"] + path.lstrip("/"), path)[0]
                != "unknown"
            )
