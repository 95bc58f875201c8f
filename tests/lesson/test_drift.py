"""`satlesson drift` compares the facts the pages state with what a catalog answers now.

Against the mirror nothing moves. Against a catalog whose answers differ (a real HTTP proxy in
front of the mirror that drops a scene, changes a cloud cover and adds two scenes) it exits 1
and names each change in the same words as the episodes' hidden checks.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satlesson import facts
from satlesson.facts import drift
from satlesson.mirror.server import proxy
from satlesson.mirror.server.postgres import free_port

DRIFT_TIMEOUT = 300  # seconds; one run reads one band header and a 2000 x 1000 clip

SEARCH = "/earth-search.aws.element84.com/v1/search"
ITEMS = "/earth-search.aws.element84.com/v1/collections/sentinel-2-l2a/items"
GONE = "S2B_35SNA_20230703_0_L2A"
CLOUDIER = "S2A_35SNA_20230827_0_L2A"
# Two new scenes inside July-August 2023, both clear, copied from the 23 July scene.
ADDED = {
    "S2A_35SNA_20230730_0_L2A": ("2023-07-30T09:00:22.103000Z", 0.3),
    "S2B_35SNA_20230725_0_L2A": ("2023-07-25T09:00:20.267000Z", 0.2),
}
TEMPLATE = "S2B_35SNA_20230723_0_L2A"


def _run_drift(base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "satlesson", "drift", "--against", base],
                          capture_output=True, text=True, timeout=DRIFT_TIMEOUT)


def _rows(stdout: str) -> dict[str, list[str]]:
    """The table's rows by fact name: [snapshot, now, changed]."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("fact "))
    # Columns are separated by two spaces and values hold at most single spaces.
    rows = {}
    for line in lines[header + 2:]:
        if not line.strip():
            break
        name, *cells = [c.strip() for c in line.split("  ") if c.strip()]
        rows[name] = cells
    return rows


def _moved(stdout: str) -> list[str]:
    return [line[2:] for line in stdout.splitlines() if line.startswith("- ")]


# --- a catalog whose answers differ: a real proxy in front of the mirror -----------------------


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _in_range(stamp: str, period: str | None) -> bool:
    if not period:
        return True
    start, _, end = period.partition("/") if "/" in period else (period, "", period)
    when = _when(stamp)
    after_start = start in ("", "..") or when >= _when(start)
    return after_start and (end in ("", "..") or when <= _when(end))


def _passes(feature: dict[str, Any], query: dict[str, Any] | None) -> bool:
    for prop, ops in (query or {}).items():
        for op, limit in ops.items():
            assert op == "lt", f"this proxy only knows the 'lt' query operator, got {op}"
            if not feature["properties"][prop] < float(limit):  # pystac-client sends "1"
                return False
    return True


def _change(doc: dict[str, Any], search: dict[str, Any], template: dict[str, Any]) -> None:
    """Make ``doc`` the answer of a catalog where GONE is gone, CLOUDIER is cloudier and the
    ADDED scenes exist: drop, edit and add features, then re-apply the search's own filters."""
    features = [f for f in doc["features"] if f["id"] != GONE]
    for feature in features:
        if feature["id"] == CLOUDIER:
            feature["properties"]["eo:cloud_cover"] = 5.0
    for new_id, (stamp, cloud) in ADDED.items():
        feature = copy.deepcopy(template)
        feature["id"] = new_id
        feature["properties"].update({"datetime": stamp, "eo:cloud_cover": cloud})
        if _in_range(stamp, search.get("datetime")):
            features.append(feature)
    features = [f for f in features if _passes(f, search.get("query"))]
    features.sort(key=lambda f: f["properties"]["datetime"], reverse=True)
    doc["features"] = features
    doc["numberMatched"] = doc["numberReturned"] = len(features)
    if "context" in doc:
        doc["context"].update(matched=len(features), returned=len(features))
    doc["links"] = [link for link in doc.get("links", []) if link.get("rel") != "next"]


def changing_proxy(upstream: str, proxy_port: int) -> Starlette:
    """Forward everything to ``upstream``; change Earth Search's answers to Sentinel-2 searches
    (see _change).

    It stands where a mirror's app stands, behind a mirror proxy of its own on ``proxy_port``
    (which its index names), so every request drift makes (pages, item files) comes through it.
    """

    def forward(method: str, url: str, headers: dict[str, str], body: bytes) -> requests.Response:
        return requests.request(method, url, headers=headers, data=body, timeout=120,
                                allow_redirects=False)

    async def handle(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        body = await request.body()
        url = upstream + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        search = None
        if request.url.path == SEARCH:
            if request.method != "POST":
                return Response("this proxy changes POST searches only", 500)
            search = json.loads(body)
            # Ask for every match at once; the filters are applied again after the change.
            body = json.dumps({**search, "limit": 1000}).encode()
        answer = await anyio.to_thread.run_sync(forward, request.method, url, headers, body)
        content = answer.content
        if request.url.path == "/":
            content = json.dumps({**answer.json(), "proxy_port": proxy_port}).encode()
        # Only the Sentinel-2 searches change; other collections (the DEM tiles) stay as they are.
        if search is not None and answer.ok and search.get("collections") == ["sentinel-2-l2a"]:
            template = await anyio.to_thread.run_sync(
                forward, "GET", f"{upstream}{ITEMS}/{TEMPLATE}", headers, b"")
            doc = answer.json()
            _change(doc, search, template.json())
            content = json.dumps(doc).encode()
        # requests has decoded the body; a HEAD answer's length is the file's, so it stays.
        drop = {"content-encoding", "transfer-encoding", "connection"}
        if request.method != "HEAD":
            drop.add("content-length")
        keep = {k: v for k, v in answer.headers.items() if k.lower() not in drop}
        return Response(content, answer.status_code, headers=keep)

    methods = ["GET", "HEAD", "POST"]
    return Starlette(routes=[Route("/", handle, methods=methods),
                             Route("/{path:path}", handle, methods=methods)])


@pytest.fixture(scope="module")
def changed_catalog(mirror_base: str, mirror_state_dir: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port, proxy_port = free_port(), free_port()
    config = uvicorn.Config(changing_proxy(mirror_base, proxy_port), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the proxy did not start"
        time.sleep(0.05)
    try:
        # The mirror's CA (the same state folder), so the mirror's /ca.pem names it.
        with proxy.running(("127.0.0.1", port), "127.0.0.1", proxy_port, mirror_state_dir,
                           log=tmp_path_factory.mktemp("changing") / "proxy.log"):
            yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# --- the command ------------------------------------------------------------------------------


def test_nothing_moved_against_the_mirror(mirror_base: str) -> None:
    result = _run_drift(mirror_base)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = _rows(result.stdout)
    assert list(rows) == list(facts.FACTS)
    assert {cells[2] for cells in rows.values()} == {"no"}
    assert rows["scenes"] == ["12", "12", "no"]
    assert rows["red-clip-shape"] == ["(1, 2000, 1000)", "(1, 2000, 1000)", "no"]
    assert "Nothing moved" in result.stdout


def test_a_changed_catalog_is_named_in_plain_words(changed_catalog: str) -> None:
    result = _run_drift(changed_catalog)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = _rows(result.stdout)
    assert rows["scenes"] == ["12", "13", "yes"]
    assert rows["scene-ids"] == ["12 IDs", "13 IDs", "yes"]
    assert rows["cloud-covers"] == ["12 scenes", "13 scenes", "yes"]
    assert rows["clear-scenes"] == ["11", "12", "yes"]
    assert rows["after-scene"] == [CLOUDIER, "S2B_35SNA_20230822_0_L2A", "yes"]
    # The page says the all-time count grows: growth is shown but is not drift.
    assert rows["all-time-scenes"] == ["800", "801", "grew, as expected"]
    # What the proxy left alone stays unchanged, the clip read through the proxy included.
    for name in ("newest-scene", "clearest-scene", "before-scene", "red-clip-shape",
                 "hls-items", "hls-band-without-login"):
        assert rows[name][2] == "no", (name, rows[name])
    assert _moved(result.stdout) == [
        "12 scenes became 13",
        f"scene {GONE} is gone",
        "scene S2A_35SNA_20230730_0_L2A is new",
        "scene S2B_35SNA_20230725_0_L2A is new",
        f"the cloud cover of {CLOUDIER} was 0.955362, now 5",
        "11 clear scenes became 12",
        f"scene {CLOUDIER} left the clear scenes",
        "scene S2A_35SNA_20230730_0_L2A joined the clear scenes",
        "scene S2B_35SNA_20230725_0_L2A joined the clear scenes",
        f"the newest clear scene (the 'after' image) was {CLOUDIER}, "
        "now S2B_35SNA_20230822_0_L2A",
        # Episode 11's data cube has one time step per clear scene.
        "11 time steps (solar days) in the data cube of the clear scenes became 12",
    ]
    # A live build's hidden check for the same change fails with the same words.
    with pytest.raises(AssertionError, match="^Drift: 11 clear scenes became 12 "):
        facts.check("clear-scenes", 12)


def test_an_unreachable_service_is_one_sentence_and_exit_2() -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = _run_drift(closed)
    assert result.returncode == 2
    assert result.stderr == (
        f"satlesson drift: No satlesson mirror answers at {closed} (ConnectionError): check the "
        "address, or ask whoever runs the mirror.\n"
    )
    assert result.stdout == ""


# --- the words: a hidden check and drift say the same ---------------------------------------


@pytest.mark.parametrize(
    ("name", "now", "words"),
    [
        ("scenes", 13, ["12 scenes became 13"]),
        ("clear-scene-ids", [i for i in facts.FACTS["clear-scene-ids"].snapshot
                             if i != "S2B_35SNA_20230812_0_L2A"],
         ["scene S2B_35SNA_20230812_0_L2A left the clear scenes"]),
        ("scene-ids", ["S2B_35SNA_20230901_0_L2A", *facts.FACTS["scene-ids"].snapshot],
         ["scene S2B_35SNA_20230901_0_L2A is new"]),
        ("scene-ids", list(reversed(facts.FACTS["scene-ids"].snapshot)),
         ["the scenes come in a different order"]),
        ("cloud-covers", {**facts.FACTS["cloud-covers"].snapshot,
                          "S2B_35SNA_20230812_0_L2A": 3.5, "S2A_35SNA_20230901_0_L2A": 0.1},
         ["the cloud cover of S2B_35SNA_20230812_0_L2A was 0.697368, now 3.5"]),
        ("red-clip-shape", (1, 1999, 1000),
         ["the shape of the clipped red band was (1, 2000, 1000), now (1, 1999, 1000)"]),
        ("least-cloudy-hls", None, ["the least cloudy HLS item was "
                                    "HLS.L30.T18TWL.2021039T153324.v2.0, now none"]),
    ],
)
def test_hidden_check_words_equal_drift_words(name: str, now: Any, words: list[str]) -> None:
    fact = facts.FACTS[name]
    with pytest.raises(AssertionError) as caught:
        facts.check(name, now)
    check_words = str(caught.value).removeprefix("Drift: ").split(f" (fact '{name}')")[0]

    out = io.StringIO()
    assert drift.report([drift.Row(fact, now, fact.changes(now))], "a test", out) == 1
    assert _moved(out.getvalue()) == words
    assert check_words == "; ".join(words)


def test_facts_import_neither_mirror_nor_lesson_tooling() -> None:
    """Hidden checks run in learners' kernels too: facts belong with the helper API."""
    code = (
        "import sys\n"
        "from satlesson.facts import check\n"
        "check('scenes', 12)\n"
        "print(','.join(sorted(m for m in sys.modules\n"
        "                      if m.startswith(('satlesson.mirror', 'satlesson.lesson')))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


def test_a_check_passes_on_the_snapshot_and_on_expected_growth() -> None:
    for name, fact in facts.FACTS.items():
        facts.check(name, fact.snapshot)
    facts.check("all-time-scenes", 2000)  # the page says this count grows
    with pytest.raises(AssertionError, match="800 scenes over the point in the whole archive "
                                             "became 799"):
        facts.check("all-time-scenes", 799)


def test_build_cache_is_keyed_on_the_facts() -> None:
    """A corrected fact must re-run the hidden checks, not reuse outputs checked against the
    old value."""
    from satlesson.lesson.sphinxext import PACKAGE, helper_files

    hashed = {p.relative_to(PACKAGE).as_posix() for p in helper_files()}
    assert {f"facts/{p.name}" for p in (PACKAGE / "facts").glob("*.py")} <= hashed
    assert "drift.py" not in hashed  # the command changes no page


def test_make_site_live_uses_no_mirror_and_its_own_cache() -> None:
    """`make site-live` must not start a mirror, must not inherit routing to one from a shell
    that ran `satlesson mirror env`, and must not share `make site`'s output or cache."""
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()

    def recipe(target: str) -> str:
        body = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        return " ".join(body.replace("\\\n", " ").split("\n")[1:])

    live, site = recipe("site-live"), recipe("site")
    assert "jupyter-book build . --builder html -W --keep-going" in live
    assert "mirror run" not in live and "mirror run" in site
    from satlesson.mirror.client.routing import VARIABLES

    for variable in VARIABLES:
        assert f"-u {variable}" in live
    assert "--path-output _build/live" in live and "--path-output" not in site
