"""The workflows that talk to the real services, tested on a machine without internet.

`.github/workflows/live.yml` (weekly drift and live build, one issue when a page no longer
holds online) and the recording on main in `.github/workflows/site.yml` are run here job by
job: their real `run:` scripts in bash, with their `if:` conditions, step outputs and job
`needs` evaluated by GitHub's rules (the part of them these workflows use), and fakes standing
in for what needs the internet or GitHub (`make`, `gh`, `satlesson drift`). What those steps
do for real has its own tests: the recording and its replay against a running synthetic
mirror standing in for the internet in tests/mirror/test_recorded.py, drift against a proxy that
changes answers in tests/lesson/test_drift.py, and actionlint over every workflow in
tests/lesson/test_publishing.py. Cost: about ten seconds.
"""

from __future__ import annotations

import base64
import http.server
import json
import math
import netrc
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from satlesson.mirror.server.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ISSUE_TITLE = "Live services no longer match the lesson"
RUN_URL = "https://github.com/example/lesson/actions/runs/42"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(flow: dict[str, Any]) -> dict[str, Any]:
    return flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true


def step(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("id") == step_id)


def scripts() -> list[tuple[str, str, str]]:
    """(workflow, job, script) of every `run:` step."""
    return [(path.name, name, s["run"]) for path in sorted(WORKFLOWS.glob("*.y*ml"))
            for name, job in yaml.safe_load(path.read_text())["jobs"].items()
            for s in job.get("steps", []) if "run" in s]


# --- GitHub's expressions, as far as the workflows use them -------------------------------------

_TOKEN = re.compile(r"\s*(\|\||&&|==|!=|!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][\w.-]*(?:\(\))?)")
_STATUS = ("success()", "failure()", "always()", "cancelled()")


def _truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _number(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return math.nan


def _equal(left: Any, right: Any) -> bool:
    """GitHub's loose equality: strings ignore case; other types compare as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right):
        return left == right
    return _number(left) == _number(right)


def evaluate(text: str, lookup: Callable[[str], Any]) -> Any:
    """The value of one expression: literals, context paths, status functions, ! == != && ||."""
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        assert match, f"this test cannot read the expression {text!r} at {text[pos:]!r}"
        tokens.append(match.group(1))
        pos = match.end()
    tokens.append("")
    at = 0

    def take() -> str:
        nonlocal at
        at += 1
        return tokens[at - 1]

    def primary() -> Any:
        token = take()
        if token == "!":
            return not _truthy(primary())
        if token == "(":
            value = either()
            assert take() == ")", text
            return value
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token]
        return lookup(token)

    def comparison() -> Any:
        value = primary()
        while tokens[at] in ("==", "!="):
            negate = take() == "!="
            value = _equal(value, primary()) != negate
        return value

    def both() -> Any:
        value = comparison()
        while tokens[at] == "&&":
            take()
            right = comparison()
            value = right if _truthy(value) else value
        return value

    def either() -> Any:
        value = both()
        while tokens[at] == "||":
            take()
            right = both()
            value = value if _truthy(value) else right
        return value

    value = either()
    assert tokens[at] == "", f"this test cannot read the expression {text!r}"
    return value


def _path(context: dict[str, Any], name: str) -> Any:
    value: Any = context
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def interpolate(text: Any, lookup: Callable[[str], Any]) -> str:
    if not isinstance(text, str):  # YAML's true, 90, ...: as GitHub passes them on
        return _render(text)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _render(evaluate(m.group(1), lookup)), str(text))


def holds(condition: Any, lookup: Callable[[str], Any]) -> bool:
    """An `if:`: an expression with or without ${{ }}, `success() &&` unless it says otherwise."""
    text = str(condition).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not any(status in text for status in _STATUS):
        text = f"success() && ({text})"
    return _truthy(evaluate(text, lookup))


# --- fakes for what needs the internet or GitHub ------------------------------------------------

# `make TARGET [VAR=VALUE]...`: logs its goals and the SNAPSHOT it sees (from the command line
# or, as make reads it, the environment); FAKE_MAKE_FAIL lists the targets that fail.
# `snapshot` writes a recording's manifest; `site` refuses a SNAPSHOT folder that is not a
# recording (as `satlesson mirror run --snapshot` does) and writes episode pages whose notice
# names what they were built from, or "synthetic" whatever it was given when FAKE_PAGES says so.
FAKE_MAKE = """
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
goals = [a for a in args if "=" not in a]
variables = {"SNAPSHOT": os.environ.get("SNAPSHOT", "")}
variables.update(a.split("=", 1) for a in args if "=" in a)
snapshot = variables["SNAPSHOT"]
with open(os.environ["FAKE_LOG"] + "/make.jsonl", "a") as log:
    log.write(json.dumps({"goals": goals, "snapshot": snapshot}) + "\\n")
if set(goals) & set(os.environ.get("FAKE_MAKE_FAIL", "").split(",")):
    sys.exit(2)
if goals == ["snapshot"]:
    (Path(snapshot) / "apis").mkdir(parents=True)
    (Path(snapshot) / "manifest.json").write_text('{"kind": "recorded"}')
if goals == ["site"]:
    if snapshot and not (Path(snapshot) / "manifest.json").exists():
        sys.exit(f"satlesson: {snapshot} is not a recorded snapshot: it has no manifest.json.")
    kind = "recorded" if snapshot and os.environ.get("FAKE_PAGES") != "synthetic" else "synthetic"
    pages = Path("_build/html/episodes")
    pages.mkdir(parents=True)
    for name in ("01-search-for-imagery", "02-open-remote-imagery"):
        (pages / f"{name}.html").write_text(
            f'<h1>{name}</h1><div class="satlesson-data-notice satlesson-data-{kind}">')
"""

# `gh`: logs its arguments; answers `issue list` from the issues in FAKE_ISSUES (as the fields
# asked for, through the real jq for --jq, raw like gh), and opens, comments and closes there.
FAKE_GH = """
import json, os, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"] + "/gh.jsonl", "a") as log:
    log.write(json.dumps(args) + "\\n")
if not os.environ.get("GH_TOKEN") or not os.environ.get("GH_REPO"):
    sys.exit("gh: set the GH_TOKEN environment variable (and GH_REPO outside a clone)")
path = os.environ["FAKE_ISSUES"]
with open(path) as f:
    issues = json.load(f)
def option(name):
    return args[args.index(name) + 1] if name in args else None
def issue(number):
    return next(i for i in issues if str(i["number"]) == number)
if args[:2] == ["issue", "list"]:
    state = option("--state") or "open"
    rows = [{k: i[k] for k in option("--json").split(",")} for i in issues
            if state == "all" or i["state"] == state]
    if option("--jq"):
        sys.exit(subprocess.run(["jq", "-r", option("--jq")], input=json.dumps(rows),
                                text=True).returncode)
    print(json.dumps(rows))
elif args[:2] == ["issue", "create"]:
    number = max((i["number"] for i in issues), default=0) + 1
    issues.append({"number": number, "title": option("--title"), "state": "open",
                   "comments": [open(option("--body-file")).read()]})
    print(f"https://github.com/{os.environ['GH_REPO']}/issues/{number}")
elif args[:2] == ["issue", "comment"]:
    issue(args[2])["comments"].append(open(option("--body-file")).read())
elif args[:2] == ["issue", "close"]:
    issue(args[2])["state"] = "closed"
    issue(args[2])["comments"].append(option("--comment") or "")
else:
    sys.exit(f"fake gh: unexpected {args}")
with open(path, "w") as f:
    json.dump(issues, f)
"""

# `.venv/bin/satlesson drift`, as FAKE_DRIFT says: the real report of services that still hold
# or of one fact that moved, or the real command against a port nothing listens on.
FAKE_SATLESSON = """
import os, sys
assert sys.argv[1:] == ["drift"], sys.argv
from satlesson import facts
from satlesson.facts import drift
mode = os.environ["FAKE_DRIFT"]
if mode == "unreachable":
    os.execv(sys.executable, [sys.executable, "-m", "satlesson", "drift",
                              "--against", os.environ["FAKE_CLOSED"]])
rows = [drift.Row(f, f.snapshot, []) for f in facts.FACTS.values()]
if mode == "moved":
    rows = [drift.Row(r.fact, 13, r.fact.changes(13)) if r.fact.name == "scenes" else r
            for r in rows]
sys.exit(drift.report(rows, "the live services", sys.stdout))
"""


def _tool(path: Path, code: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{code}")
    path.chmod(0o755)


@dataclass
class Job:
    result: str  # success, failure or skipped
    outputs: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    used: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # actions and inputs
    log: str = ""
    home: Path | None = None


class Runner:
    """Runs a workflow's jobs, each on a fresh runner (workspace and home), as GitHub would:
    the real scripts in `bash -e`, with fakes for make, gh and satlesson first on PATH, and
    artifacts kept between jobs."""

    def __init__(self, tmp: Path, github: dict[str, Any], secrets: dict[str, str],
                 inputs: dict[str, Any] | None = None, **fakes: str) -> None:
        self.github, self.secrets, self.inputs = github, secrets, inputs or {}
        self.tmp = Path(tempfile.mkdtemp(prefix="runner-", dir=tmp))  # issues.json is shared
        self.bin, self.logs = self.tmp / "bin", self.tmp / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        _tool(self.bin / "make", FAKE_MAKE)
        _tool(self.bin / "gh", FAKE_GH)
        issues = tmp / "issues.json"
        if not issues.exists():
            issues.write_text("[]")
        self.fakes = {"FAKE_LOG": str(self.logs), "FAKE_ISSUES": str(issues),
                      "FAKE_CLOSED": f"http://127.0.0.1:{free_port()}", **fakes}
        self.artifacts: dict[str, dict[str, bytes]] = {}
        self.runs = 0

    def calls(self, tool: str) -> list[Any]:
        log = self.logs / f"{tool}.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def run(self, flow: dict[str, Any]) -> dict[str, Job]:
        jobs: dict[str, Job] = {}
        ancestors: dict[str, set[str]] = {}
        for name, spec in flow["jobs"].items():
            needs = spec.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            assert set(needs) <= set(jobs), f"{name} needs a later job"
            ancestors[name] = set(needs).union(*(ancestors[n] for n in needs))
            above = [jobs[n].result for n in ancestors[name]]
            context = {"needs": {n: {"result": jobs[n].result, "outputs": jobs[n].outputs}
                                 for n in needs}}
            status = {"success()": all(r == "success" for r in above),  # transitive, as GitHub
                      "failure()": "failure" in above, "always()": True, "cancelled()": False}
            if not holds(spec.get("if", "success()"), self._lookup(context, status)):
                jobs[name] = Job("skipped")
                continue
            jobs[name] = self._job(flow, name, spec, context)
        return jobs

    def _lookup(self, context: dict[str, Any], status: dict[str, bool]) -> Callable[[str], Any]:
        full = {"github": self.github, "secrets": self.secrets, "inputs": self.inputs, **context}
        return lambda name: status[name] if name in status else _path(full, name)

    def _job(self, flow: dict[str, Any], name: str, spec: dict[str, Any],
             context: dict[str, Any]) -> Job:
        self.runs += 1
        root = self.tmp / f"run{self.runs}-{name}"
        workspace, home = root / "workspace", root / "home"
        workspace.mkdir(parents=True)
        home.mkdir()
        _tool(workspace / ".venv" / "bin" / "satlesson", FAKE_SATLESSON)  # as `make deps` would
        # The real interpreter (the notebooks-branch step runs the lesson's own code), and the
        # checkout's binder/ folder that step copies.
        python = workspace / ".venv" / "bin" / "python"
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python.chmod(0o755)
        shutil.copytree(ROOT / "binder", workspace / "binder")
        job = Job("success", home=home)
        context = {**context, "steps": job.steps}
        for number, s in enumerate(spec["steps"]):
            failed = job.result == "failure"
            lookup = self._lookup(context, {"success()": not failed, "failure()": failed,
                                            "always()": True, "cancelled()": False})
            if not holds(s.get("if", "success()"), lookup):
                if "id" in s:
                    job.steps[s["id"]] = {"outcome": "skipped", "conclusion": "skipped",
                                          "outputs": {}}
                continue
            if "uses" in s:
                given = {k: interpolate(v, lookup) for k, v in s.get("with", {}).items()}
                job.used.append((s["uses"].split("@")[0], given))
                ok, outputs = self._action(s["uses"].split("@")[0], given, workspace), {}
            else:
                ok, outputs = self._script(s, flow, spec, lookup, workspace, home, number, job)
            outcome = "success" if ok else "failure"
            if not ok and not s.get("continue-on-error", False):
                job.result = "failure"
            if "id" in s:
                job.steps[s["id"]] = {"outcome": outcome, "outputs": outputs,
                                      "conclusion": "success" if ok or s.get(
                                          "continue-on-error") else "failure"}
        lookup = self._lookup(context, {})
        job.outputs = {k: interpolate(v, lookup) for k, v in spec.get("outputs", {}).items()}
        return job

    def _script(self, s: dict[str, Any], flow: dict[str, Any], spec: dict[str, Any],
                lookup: Callable[[str], Any], workspace: Path, home: Path, number: int,
                job: Job) -> tuple[bool, dict[str, str]]:
        assert "${{" not in s["run"], "a script takes its values from env:, never ${{ }}"
        assert "shell" not in s, "these scripts are written for GitHub's default bash -e"
        script = home.parent / f"step{number}.sh"
        script.write_text(s["run"])
        output = home.parent / f"step{number}.output"
        output.touch()
        env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "HOME": str(home), "LANG": "C.UTF-8",
               "GITHUB_OUTPUT": str(output), "GITHUB_REF": self.github["ref"],
               "GITHUB_EVENT_NAME": self.github["event_name"], **self.fakes}
        for scope in (flow, spec, s):
            env.update({k: interpolate(v, lookup) for k, v in scope.get("env", {}).items()})
        done = subprocess.run(["bash", "-e", str(script)], cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        job.log += done.stdout + done.stderr
        lines = output.read_text().splitlines()
        assert not any("<<" in line for line in lines)
        return done.returncode == 0, dict(line.split("=", 1) for line in lines)

    def _action(self, uses: str, given: dict[str, str], workspace: Path) -> bool:
        """upload-artifact and download-artifact, as far as these workflows use them."""
        if uses == "actions/upload-artifact":
            paths = [workspace / p.strip() for p in given["path"].splitlines() if p.strip()]
            base = paths[0] if len(paths) == 1 and paths[0].is_dir() else workspace
            hidden = given.get("include-hidden-files") == "true"
            files = {f.relative_to(base).as_posix(): f.read_bytes()
                     for p in paths if p.exists() for f in sorted(p.rglob("*"))
                     if f.is_file() and (hidden or not any(
                         part.startswith(".") for part in f.relative_to(base).parts))}
            if not files:
                return given.get("if-no-files-found", "warn") != "error"
            self.artifacts[given["name"]] = files
        elif uses == "actions/download-artifact":
            if given["name"] not in self.artifacts:
                return False
            target = workspace / given.get("path", ".")
            for name, content in self.artifacts[given["name"]].items():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                (target / name).write_bytes(content)
        return True


def github(event: str = "schedule", ref: str = "refs/heads/main") -> dict[str, Any]:
    return {"event_name": event, "ref": ref, "token": "ghs_fake", "repository": "example/lesson",
            "server_url": "https://github.com", "run_id": "42"}


LOGIN = {"EARTHDATA_USERNAME": "learner", "EARTHDATA_PASSWORD": "s3cret pass"}
needs_jq = pytest.mark.skipif(shutil.which("jq") is None,
                              reason="the fake gh answers --jq with jq (gh has it built in)")


def issues(tmp: Path) -> list[dict[str, Any]]:
    return json.loads((tmp / "issues.json").read_text())


# --- live.yml: drift and the live build, one issue ---------------------------------------------


def test_live_checks_weekly_and_on_demand_with_least_privilege() -> None:
    flow = load("live.yml")
    on = triggers(flow)
    assert set(on) == {"schedule", "workflow_dispatch"}
    [cron] = [entry["cron"] for entry in on["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert day == month == "*" and re.fullmatch(r"[0-6]", weekday), f"not weekly: {cron}"
    assert flow["permissions"] == {"contents": "read"}
    assert flow["concurrency"]["cancel-in-progress"] is False
    [(name, job)] = flow["jobs"].items()
    assert name == "drift-and-live-build"
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert 0 < job["timeout-minutes"] <= 180
    assert job["env"]["ISSUE_TITLE"] == ISSUE_TITLE
    assert step(job, "issue")["env"]["GH_TOKEN"] == "${{ github.token }}"
    ids = [s.get("id") for s in job["steps"]]
    assert ids.index("login") < ids.index("drift") < ids.index("live") < ids.index("issue")
    assert ids.index("issue") < ids.index("fail")
    # The same schedule republishes the site from a fresh recording.
    assert triggers(load("site.yml"))["schedule"] == on["schedule"]


@needs_jq
def test_live_moved_opens_one_issue_updates_it_then_closes_it(tmp_path: Path) -> None:
    flow = load("live.yml")
    # Another issue, and a closed one with the same title: neither is the one to update.
    (tmp_path / "issues.json").write_text(json.dumps([
        {"number": 3, "title": f"{ISSUE_TITLE} (old)", "state": "open", "comments": []},
        {"number": 5, "title": ISSUE_TITLE, "state": "closed", "comments": []},
    ]))

    # A fact moved and the live build fails: the job fails after opening the issue.
    runner = Runner(tmp_path, github(), LOGIN, FAKE_DRIFT="moved", FAKE_MAKE_FAIL="site-live")
    job = runner.run(flow)["drift-and-live-build"]
    assert job.result == "failure"
    assert job.steps["drift"]["outputs"] == {"status": "1"}
    assert job.steps["live"]["outcome"] == "failure"
    assert job.steps["fail"]["outcome"] == "failure"
    assert "::error title=Live services no longer match the lesson::" in job.log
    assert [c["goals"] for c in runner.calls("make")] == [["deps"], ["site-live"]]
    [opened] = [i for i in issues(tmp_path) if i["number"] not in (3, 5)]
    assert opened["title"] == ISSUE_TITLE and opened["state"] == "open"
    body = opened["comments"][0]
    assert RUN_URL in body
    assert "the services no longer give what the pages show" in body
    assert re.search(r"^scenes +12 +13 +yes$", body, re.M)  # the drift table itself
    assert "- 12 scenes became 13" in body
    assert "**make site-live**: failed" in body
    # The netrc the live build read: the Earthdata Login from the secrets, for requests and GDAL.
    assert job.home is not None
    login = job.home / ".netrc"
    assert stat.S_IMODE(login.stat().st_mode) == 0o600
    assert netrc.netrc(str(login)).authenticators("urs.earthdata.nasa.gov") == (
        "learner", "", "s3cret pass")

    # A week later a service is down: the same issue gets a comment, no second issue.
    runner = Runner(tmp_path, github(), LOGIN, FAKE_DRIFT="unreachable")
    job = runner.run(flow)["drift-and-live-build"]
    assert job.result == "failure"
    assert job.steps["drift"]["outputs"] == {"status": "2"}
    assert job.steps["live"]["outcome"] == "success"
    [again] = [i for i in issues(tmp_path) if i["number"] not in (3, 5)]
    assert again["number"] == opened["number"] and len(again["comments"]) == 2
    update = again["comments"][1]
    assert "a service could not be reached" in update
    assert "satlesson drift: No satlesson mirror answers at" in update  # its own sentence
    assert "**make site-live**: every page built" in update
    assert not any(c[:2] == ["issue", "create"] for c in runner.calls("gh"))

    # Everything holds again: the job passes and closes the issue with a link to the run.
    runner = Runner(tmp_path, github(), LOGIN, FAKE_DRIFT="holds")
    job = runner.run(flow)["drift-and-live-build"]
    assert job.result == "success"
    assert job.steps["fail"]["outcome"] == "skipped"
    closed = next(i for i in issues(tmp_path) if i["number"] == opened["number"])
    assert closed["state"] == "closed" and RUN_URL in closed["comments"][-1]
    assert {i["number"]: i["state"] for i in issues(tmp_path)}[3] == "open"


@needs_jq
def test_live_without_secrets_runs_drift_only_and_says_so(tmp_path: Path) -> None:
    runner = Runner(tmp_path, github("workflow_dispatch"), {}, FAKE_DRIFT="holds")
    job = runner.run(load("live.yml"))["drift-and-live-build"]
    assert job.result == "success"
    assert "::warning title=No Earthdata Login::" in job.log
    assert "EARTHDATA_USERNAME and EARTHDATA_PASSWORD are not set" in job.log
    assert job.home is not None and not (job.home / ".netrc").exists()
    assert job.steps["live"]["outcome"] == "skipped"
    assert [c["goals"] for c in runner.calls("make")] == [["deps"]]
    assert [c[:2] for c in runner.calls("gh")] == [["issue", "list"]]  # nothing to open

    runner = Runner(tmp_path, github("workflow_dispatch"), {}, FAKE_DRIFT="moved")
    job = runner.run(load("live.yml"))["drift-and-live-build"]
    assert job.result == "failure"
    [opened] = issues(tmp_path)
    assert "**make site-live**: not run (no Earthdata Login" in opened["comments"][0]


# --- site.yml: record on main, build from the recording, publish ------------------------------


@pytest.mark.parametrize(
    ("case", "event", "ref", "secrets", "inputs", "fakes", "expected"),
    [
        # Pull requests build from the synthetic snapshot and publish nothing.
        ("pull request", "pull_request", "refs/pull/7/merge", LOGIN, {}, {},
         {"record": "skipped", "build": "success", "deploy": "skipped", "kind": "synthetic"}),
        # Main records, builds from the recording and publishes it.
        ("main", "push", "refs/heads/main", LOGIN, {}, {},
         {"record": "success", "build": "success", "deploy": "success", "kind": "recorded"}),
        ("weekly", "schedule", "refs/heads/main", LOGIN, {}, {},
         {"record": "success", "build": "success", "deploy": "success", "kind": "recorded"}),
        # A repository without the secrets (a fork) publishes synthetic pages, which say so.
        ("fork", "push", "refs/heads/main", {}, {}, {},
         {"record": "success", "build": "success", "deploy": "success", "kind": "synthetic"}),
        # A failed recording publishes nothing: Pages keeps the last site.
        ("services down", "schedule", "refs/heads/main", LOGIN, {}, {"FAKE_MAKE_FAIL": "snapshot"},
         {"record": "failure", "build": "skipped", "deploy": "skipped", "kind": None}),
        # By hand, on purpose: the synthetic snapshot, with its notice.
        ("synthetic by hand", "workflow_dispatch", "refs/heads/main", LOGIN, {"synthetic": True},
         {}, {"record": "skipped", "build": "success", "deploy": "success", "kind": "synthetic"}),
        # Pages that say "synthetic" although a recording was given are never published.
        ("notice wrong", "push", "refs/heads/main", LOGIN, {}, {"FAKE_PAGES": "synthetic"},
         {"record": "success", "build": "failure", "deploy": "skipped", "kind": "synthetic"}),
    ],
)
def test_site_publishes_the_recording_or_says_it_is_synthetic(
    tmp_path: Path, case: str, event: str, ref: str, secrets: dict[str, str],
    inputs: dict[str, Any], fakes: dict[str, str], expected: dict[str, Any],
) -> None:
    runner = Runner(tmp_path, github(event, ref), secrets, inputs, **fakes)
    jobs = runner.run(load("site.yml"))
    # The notebooks job (the launch buttons' branch) is checked on its own below.
    assert {name: job.result for name, job in jobs.items() if name != "notebooks"} == {
        k: expected[k] for k in ("record", "build", "deploy")
    }, [job.log[-1500:] for job in jobs.values()]
    made = runner.calls("make")
    recorded = expected["record"] == "success" and bool(secrets)
    if expected["record"] != "skipped":
        assert ({"goals": ["snapshot"], "snapshot": "snapshot-live"} in made) is bool(secrets)
    if recorded:
        uploads = dict(jobs["record"].used)["actions/upload-artifact"]
        assert uploads["name"] == "snapshot-live" and "manifest.json" in runner.artifacts[
            "snapshot-live"]
    if expected["build"] == "skipped":
        assert [m for m in made if m["goals"] == ["site"]] == []
        return
    build = jobs["build"]
    snapshot = "snapshot-live" if recorded else ""
    assert {"goals": ["site"], "snapshot": snapshot} in made
    assert ("actions/download-artifact" in dict(build.used)) is recorded
    if expected["kind"] == "synthetic" and ref == "refs/heads/main" and build.result == "success":
        assert "::warning title=Synthetic data::" in build.log
    if case == "fork":
        assert "::warning title=No Earthdata Login::" in jobs["record"].log
    if case == "notice wrong":
        assert "does not say its data are recorded" in build.log
    pages = dict(build.used).get("actions/upload-pages-artifact")
    assert (pages is not None) is (ref == "refs/heads/main" and build.result == "success"), case


def test_login_step_is_the_same_in_both_workflows_and_secrets_go_nowhere_else() -> None:
    site, live = load("site.yml"), load("live.yml")
    record, check = step(site["jobs"]["record"], "login"), step(live["jobs"][
        "drift-and-live-build"], "login")
    assert record["run"] == check["run"]
    assert record["env"]["EARTHDATA_USERNAME"] == "${{ secrets.EARTHDATA_USERNAME }}"
    for flow in (site, live):
        for job in flow["jobs"].values():
            for s in job["steps"]:
                if s.get("id") != "login":
                    # GITHUB_TOKEN is the run's own token (the notebooks branch push), not a
                    # repository secret.
                    assert "secrets." not in json.dumps(s).replace("secrets.GITHUB_TOKEN", ""), s
    assert "permissions" not in site["jobs"]["record"]  # the workflow's contents: read
    assert site["permissions"] == {"contents": "read"}
    # Only the job that replaces the notebooks branch may write, and only after a main build.
    notebooks = site["jobs"]["notebooks"]
    assert notebooks["permissions"] == {"contents": "write"} and notebooks["needs"] == "build"
    assert "github.ref == 'refs/heads/main'" in notebooks["if"]
    assert [j for j, job in site["jobs"].items()
            if job.get("permissions", {}).get("contents") == "write"] == ["notebooks"]


class _EchoLogin(http.server.BaseHTTPRequestHandler):
    """Answers with the user:password of the request's basic authorization."""

    def do_GET(self) -> None:  # noqa: N802
        sent = self.headers.get("Authorization", "")
        body = base64.b64decode(sent.split()[1]) if sent else b"(none)"
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("password", ["plain-1", "s3cret pass", 'a"b', "back\\slash", "#lead",
                                      "a#b", "end\\", "it's", "$(false)"])
def test_login_step_writes_a_netrc_that_python_and_curl_read(tmp_path: Path,
                                                             password: str) -> None:
    """The lesson reads ~/.netrc with Python's netrc module, GDAL through curl: both must get
    the password from the secret back exactly, whatever characters it has."""
    script = step(load("live.yml")["jobs"]["drift-and-live-build"], "login")["run"]
    output = tmp_path / "output"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GITHUB_OUTPUT": str(output),
           "EARTHDATA_USERNAME": "learner", "EARTHDATA_PASSWORD": password, "SKIPPING": "-"}
    subprocess.run(["bash", "-e", "-c", script], env=env, check=True, timeout=30)
    assert output.read_text() == "login=true\n"
    path = tmp_path / ".netrc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert netrc.netrc(str(path)).authenticators("urs.earthdata.nasa.gov") == (
        "learner", "", password)
    if password == "plain-1":  # as the episode shows it
        assert path.read_text() == (
            "machine urs.earthdata.nasa.gov login learner password plain-1\n")
    if shutil.which("curl") is None:
        return
    server = http.server.HTTPServer(("127.0.0.1", 0), _EchoLogin)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        host = f"urs.earthdata.nasa.gov:{port}"
        sent = subprocess.run(  # --resolve: the name is only a netrc key, traffic stays local
            ["curl", "-sS", "--netrc-file", str(path), "--resolve", f"{host}:127.0.0.1",
             f"http://{host}/"], capture_output=True, check=True, timeout=30).stdout
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert sent.decode() == f"learner:{password}"


# --- every command a workflow runs exists here ---------------------------------------------------


def test_workflows_run_only_make_targets_and_commands_that_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))
    seen = set()
    for workflow, job, script in scripts():
        assert "${{" not in script, (workflow, job, "values come in through env:")
        for line in re.findall(r"^\s*make\s.*$", script, re.M):
            words = shlex.split(line)
            goals = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
            assert goals and set(goals) <= targets, (workflow, line)
            for variable in (w.split("=", 1)[0] for w in words[1:] if "=" in w):
                assert re.search(rf"^{variable}\s*\??=", makefile, re.M), (workflow, line)
            seen.update((workflow, goal) for goal in goals)
            for snapshot in ("", "snapshot-live"):
                dry = subprocess.run(["bash", "-c", line.replace("make", "make -n", 1)],
                                     cwd=ROOT, env={**os.environ, "SNAPSHOT": snapshot},
                                     capture_output=True, text=True, timeout=60, check=False)
                assert dry.returncode == 0, (workflow, line, dry.stderr)
                if goals == ["site"]:  # SNAPSHOT reaches the mirror, and only when given
                    assert ("--snapshot snapshot-live" in dry.stdout) is bool(snapshot), line
        for tool, command in re.findall(r"^\s*\.venv/bin/(\S+)\s+(\w[\w-]*)", script, re.M):
            path = Path(sys.executable).with_name(tool)
            assert path.exists(), (workflow, tool)
            done = subprocess.run([str(path), command, "--help"], capture_output=True,
                                  timeout=60, check=False)
            assert done.returncode == 0, (workflow, tool, command)
            seen.add((workflow, f"{tool} {command}"))
    assert {("live.yml", "deps"), ("live.yml", "site-live"), ("live.yml", "satlesson drift"),
            ("site.yml", "snapshot"), ("site.yml", "site")} <= seen


def test_the_expression_reader_reads_like_github() -> None:
    """The runner above is only as good as its expressions: spot-check GitHub's rules."""
    context = {"needs": {"record": {"result": "skipped", "outputs": {}}}, "inputs": {}}
    lookup = lambda name: _path(context, name)  # noqa: E731
    assert evaluate("needs.record.outputs.snapshot != ''", lookup) is False  # null == ''
    assert evaluate("!inputs.synthetic", lookup) is True
    assert evaluate("needs.record.result != 'failure' && 'x' || 'y'", lookup) == "x"
    assert evaluate("'Failure' == 'failure'", lookup) is True
