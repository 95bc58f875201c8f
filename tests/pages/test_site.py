"""The built site, as `make site` builds it, read by a real browser (Debian's Chromium)."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import requests
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from satlesson.lesson import datasource, sphinxext
from satlesson.lesson.launch import BRANCH, write_branch
from satlesson.mirror.client.routing import kernel_env
from satlesson.mirror.synthetic.scenes import SNAPSHOT_VERSION

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SEARCH = "episodes/01-search-for-imagery.html"
EPISODE = "episodes/02-open-remote-imagery.html"
# Every episode after the first: (page, number of figures its executed cells draw).
LATER_EPISODES = [
    ("episodes/03-read-rasters.html", 1),
    ("episodes/04-pixel-values.html", 3),
    ("episodes/05-vector-data.html", 2),
    ("episodes/06-vectors-meet-rasters.html", 3),
    ("episodes/07-band-indices.html", 2),
    ("episodes/08-how-much-burned.html", 3),
    ("episodes/09-dask.html", 0),
    ("episodes/10-parallel-severity.html", 1),
    ("episodes/11-data-cubes.html", 2),
    ("episodes/12-other-catalogs.html", 1),
]
CMR_PAGE = "episodes/12-other-catalogs.html"
CHROMIUM = "/usr/bin/chromium"
# axe-core from npm, fetched once into the user's cache (not vendored into the repository).
AXE_VERSION = "4.14.1"
AXE_CACHE = Path.home() / ".cache" / "satlesson" / f"axe-core-{AXE_VERSION}"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def cache_dir(out: Path, base: str) -> Path:
    """The build's execution cache for outputs of the snapshot the mirror at ``base`` serves."""
    return out / "_build" / ".jupyter_cache" / sphinxext.cache_key(datasource.ask_mirror(base))


def seed_execution_cache(out: Path, base: str, notebooks: dict[Path, nbformat.NotebookNode]
                         ) -> None:  # fmt: skip
    """Put the episodes that this session's tests executed into the build's execution cache, as
    if the build had executed them (jupyter-cache matches a page on its code cells), in the
    folder the lesson extension gives outputs from this mirror's snapshot."""
    cache = get_cache(str(cache_dir(out, base)))
    for path, nb in notebooks.items():
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(path)), check_validity=False,
                                    overwrite=True)  # fmt: skip


@pytest.fixture(scope="session")
def site(mirror_base: str, mirror_state_dir: Path, tmp_path_factory: pytest.TempPathFactory,
         all_executed_episodes: dict[Path, nbformat.NotebookNode]) -> Path:
    """Build the whole book against the mirror, failing on any warning. An episode whose tests
    ran keeps the outputs of that run (run once, read by both); any other executes."""
    out = tmp_path_factory.mktemp("site")
    seed_execution_cache(out, mirror_base, all_executed_episodes)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    env = {**os.environ, **kernel_env(mirror_base, mirror_state_dir)}
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "--builder", "html",
         "-W", "--keep-going"], capture_output=True, text=True, env=env, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    # Each seeded episode was taken from the cache: the build added no record of its own.
    uris = [r.uri for r in get_cache(str(cache_dir(out, mirror_base))).list_cache_records()]
    assert len(uris) == len(set(uris)), "the build executed an episode the tests had run"
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make deps` (Debian package chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and page.console_errors.append(
        f"{r.status} {r.url}"))
    yield page
    context.close()


def test_episode_pages_show_executed_outputs(site: Path) -> None:
    ids = re.findall(r"S2[AB]_35SNA_2023\d{4}_0_L2A", (site / SEARCH).read_text())
    summer = [i for i in dict.fromkeys(ids) if "202307" in i or "202308" in i]
    assert len(summer) == 12
    html = (site / EPISODE).read_text()
    assert "(1, 2000, 1000)" in html  # the clipped raster's shape, printed by the code
    assert (site / "episodes" / "02-open-remote-imagery.ipynb").exists()
    cmr = (site / CMR_PAGE).read_text()
    assert "HLS.L30.T18TWL.2021039T153324.v2.0" in cmr
    # The answers as the code printed them (the prose names the codes, never these words).
    assert "401 Unauthorized" in cmr and "200 OK" in cmr


def test_every_episode_names_the_synthetic_snapshot(site: Path) -> None:
    pages = sorted((site / "episodes").glob("*.html"))
    assert len(pages) >= 2
    for page in pages:
        html = page.read_text()
        assert html.count('class="satlesson-data-notice satlesson-data-synthetic') == 1, page
        assert f"Synthetic data (snapshot {SNAPSHOT_VERSION})" in html, page
    assert "satlesson-data-notice" not in (site / "index.html").read_text()


def test_no_page_shows_the_mirrors_address(site: Path, mirror_base: str) -> None:
    """Built under the mirror, the pages print what they print online: real addresses."""
    port = urlsplit(mirror_base).port
    proxy_port = requests.get(mirror_base + "/", timeout=10).json()["proxy_port"]
    pages = sorted(site.glob("**/*.html"))
    assert len(pages) > 10
    for page in pages:  # this build's mirror, on any page
        text = page.read_text()
        for address in (f":{port}/", f":{proxy_port}/"):
            assert address not in text, (page.name, address)
    # The episodes and their learner notebooks never show a mirror's address (the setup page
    # teaches the default one).
    episodes = sorted(site.glob("episodes/*.html")) + sorted(site.glob("episodes/*.ipynb"))
    assert len(episodes) >= 10
    for page in episodes:
        assert not re.search(rf"127\.0\.0\.1:(8642|8643|{port}|{proxy_port})",
                             page.read_text()), page.name
    assert "https://sentinel-cogs.s3.us-west-2.amazonaws.com/" in (site / EPISODE).read_text()


def test_every_lesson_page_is_in_the_navigation(site: Path) -> None:
    nav = (site / "index.html").read_text()
    for page in ("learners/setup.html", SEARCH, EPISODE, *(p for p, _ in LATER_EPISODES),
                 "learners/keypoints.html", "learners/reference.html", "credits.html",
                 "code-of-conduct.html", "licence.html", "instructors/instructor-notes.html",
                 "instructors/figures.html"):
        assert (site / page).exists()
        assert f'href="{page}"' in nav, page


@pytest.mark.browser
def test_episode_in_a_browser(page, site_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site_url}/{EPISODE}", wait_until="networkidle")
    # Before any scrolling, the reader learns that the outputs come from the synthetic snapshot.
    notice = page.locator(".satlesson-data-notice")
    assert notice.count() == 1
    assert notice.is_visible() and notice.bounding_box()["y"] < 900
    text = notice.inner_text()
    assert f"Synthetic data (snapshot {SNAPSHOT_VERSION})" in text
    assert "imagery is synthetic" in text
    thumbnails = page.locator("img[alt*='humbnail']")
    assert thumbnails.count() == 2  # before and after the fires
    for i in range(thumbnails.count()):
        image = thumbnails.nth(i)
        alt = image.get_attribute("alt") or ""
        assert len(alt) > 20 and alt.startswith("Synthetic"), alt  # not passed off as a photo
        assert image.evaluate("img => img.complete && img.naturalWidth > 100")
    solution = page.locator(".solution").first
    body = solution.locator(".cell").first
    assert not body.is_visible()
    solution.locator("button.toggle-button").click()
    body.wait_for(state="visible")
    # The first solution (ch-swir-clip) opens on what its code printed: half the red clip's
    # rows and columns, at 20 m.
    printed = solution.locator(".cell_output").first.inner_text()
    assert "(1, 1000, 500) (20.0, -20.0)" in printed, printed
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "episode-02.png"), full_page=True)
    assert page.console_errors == []  # type: ignore[attr-defined]


@pytest.mark.browser
@pytest.mark.parametrize(("path", "figures"), LATER_EPISODES)
def test_later_episodes_in_a_browser(page, site_url: str, path: str, figures: int) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    """Each figure an executed cell drew loads, says what it shows, and the page is clean."""
    page.goto(f"{site_url}/{path}", wait_until="networkidle")
    assert page.locator(".satlesson-data-notice").is_visible()
    images = page.locator("main .cell_output img")
    assert images.count() >= figures, path
    for i in range(images.count()):
        image = images.nth(i)  # some sit in collapsed solutions: loaded, but not visible
        assert len(image.get_attribute("alt") or "") > 40, path  # a description, not a name
        assert image.evaluate("img => img.complete && img.naturalWidth > 100"), path
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / Path(path).with_suffix(".png").name), full_page=True)
    assert page.console_errors == []  # type: ignore[attr-defined]


@pytest.mark.browser
def test_landing_keypoints_and_instructor_notes_in_a_browser(page, site_url: str) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    page.goto(f"{site_url}/index.html", wait_until="networkidle")
    schedule = page.locator("table").first.inner_text()
    assert "Search for satellite imagery" in schedule and "Finish" in schedule
    page.screenshot(path=str(ARTIFACTS / "landing.png"), full_page=True)

    page.get_by_role("link", name="Key points").first.click()
    page.wait_for_load_state("networkidle")
    assert "rioxarray" in page.locator("main").inner_text()

    page.get_by_role("link", name="Instructor notes").first.click()
    page.wait_for_load_state("networkidle")
    notes = page.locator("main").inner_text()
    assert "Search for satellite imagery" in notes
    assert "mirror" in notes.lower()
    assert page.console_errors == []  # type: ignore[attr-defined]


LAUNCH = re.compile(r'href="(https://(?:mybinder\.org|colab\.research\.google\.com)/[^"]+)"')


def test_every_launch_button_opens_a_published_notebook(site: Path, tmp_path: Path) -> None:
    """Binder and Colab open the episode's learner notebook on the notebooks branch, which the
    site workflow fills from this build (write_branch); Binder finds its environment there."""
    branch = tmp_path / BRANCH
    write_branch(site, ROOT, branch)
    assert (branch / "binder" / "requirements.txt").is_file()
    repo = "satlesson/satlesson"
    episodes = sorted(site.glob("episodes/*.html"))
    for page in sorted(site.glob("**/*.html")):
        urls = [u.replace("&amp;", "&") for u in LAUNCH.findall(page.read_text())]
        if page in episodes:
            assert len(urls) == 2, (page.name, urls)  # Binder and Colab, nothing else
        for url in urls:
            binder = re.fullmatch(rf"https://mybinder\.org/v2/gh/{repo}/{BRANCH}"
                                  r"\?urlpath=lab/tree/(.+\.ipynb)", url)
            colab = re.fullmatch(rf"https://colab\.research\.google\.com/github/{repo}/blob/"
                                 rf"{BRANCH}/(.+\.ipynb)", url)
            match = binder or colab
            assert match, (page.name, url)
            assert (branch / match.group(1)).is_file(), (page.name, url)
            # The notebook of this very page: the one its download link gives.
            assert match.group(1) == page.relative_to(site).with_suffix(".ipynb").as_posix()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's browser build, from npm the first time (`npm pack`), then from the cache."""
    script = AXE_CACHE / "axe.min.js"
    if not script.exists():
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        # npm reaches its registry directly, not through a mirror's proxy this session set.
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in {"https_proxy", "http_proxy", "no_proxy"}}
        done = subprocess.run(["npm", "pack", f"axe-core@{AXE_VERSION}", "--pack-destination",
                               str(AXE_CACHE)], capture_output=True, text=True, timeout=300,
                              env=env)
        assert done.returncode == 0, "npm pack axe-core failed: " + done.stderr[-2000:]
        tarball = AXE_CACHE / f"axe-core-{AXE_VERSION}.tgz"
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None
            script.write_bytes(member.read())
        tarball.unlink()
    return script


@pytest.mark.browser
def test_every_page_passes_axe(page, site: Path, site_url: str, axe_script: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    """axe-core finds no WCAG 2.1 A or AA violation on any page of the site, as rendered."""
    pages = [p.relative_to(site).as_posix() for p in sorted(site.glob("**/*.html"))]
    pages = [p for p in pages if not p.startswith("_")]
    assert len(pages) > 10
    found = {}
    for path in pages:
        # Loaded, its fonts in (and any maths typeset): the page as a reader sees it. (Not
        # "networkidle", which waits 0.5 s on every page after the last request.)
        page.goto(f"{site_url}/{path}", wait_until="load")
        page.evaluate("""() => Promise.all([document.fonts.ready,
                                            window.MathJax?.startup?.promise])""")
        page.add_script_tag(path=str(axe_script))
        violations = page.evaluate(
            """tags => axe.run(document, {runOnly: {type: "tag", values: tags}})
                 .then(r => r.violations.map(v => [v.id, v.nodes.map(n => n.html)]))""",
            WCAG_TAGS)
        if violations:
            found[path] = violations
    assert found == {}
