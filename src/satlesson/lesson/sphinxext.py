"""Sphinx extension: Carpentries-shaped lessons on Jupyter Book 1.

Registers the Workbench blocks, the challenge (a sphinx-exercise exercise), the generated-page
placeholders, the per-episode notebook download and data-source notice, the repository URL
substitution, and keys the execution cache on the data source (live services or the mirror's
snapshot), the package version and a hash of the code and data the outputs depend on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

import satlesson
from satlesson.lesson import collect, datasource, launch, notebooks, notice, repository
from satlesson.lesson.blocks import BLOCKS, CHALLENGE, COLLECTIONS
from satlesson.lesson.directives import (
    BlockDirective,
    ChallengeDirective,
    CollectionDirective,
    lesson_collection,
)

HERE = Path(__file__).parent
PACKAGE = HERE.parent


def _digest(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def env_version() -> int:
    """Changes whenever this extension's code or CSS does, so Sphinx re-reads every page."""
    files = [p for p in HERE.rglob("*") if p.is_file() and p.suffix in {".py", ".css", ".js"}]
    return int(_digest(files, HERE)[:8], 16)


# What the episodes' outputs depend on besides their own code: the helper API they call, and
# the mirror modules that decide the snapshot's content (mirror/synthetic: scenes, catalog
# JSON, asset bytes; the URLs items point at) with the data files they read. The mirror's
# server code (mirror/server) only serves that content, so editing it re-executes nothing;
# the snapshot's version (asked of the mirror) keys the data on purpose, this hash catches
# unreleased edits. The files are hashed, not imported: the mirror stays optional.
HELPER_MODULES = ("__init__.py", "search.py", "items.py", "clip.py", "bands.py", "errors.py")
SNAPSHOT_MODULES = ("client/routing.py", "client/urls.py")  # and every module of mirror/synthetic


def helper_files() -> list[Path]:
    """The package files whose changes can change an episode's outputs (see above)."""
    files = [PACKAGE / name for name in HELPER_MODULES]
    # The facts the hidden checks assert: a corrected fact must re-run the checks.
    files += sorted((PACKAGE / "facts").glob("*.py"))
    files += [PACKAGE / "mirror" / name for name in SNAPSHOT_MODULES]
    files += sorted((PACKAGE / "mirror" / "synthetic").glob("*.py"))
    data = PACKAGE / "data"
    files += [p for p in data.rglob("*") if p.is_file()] if data.is_dir() else []
    return [p for p in files if p.is_file()]  # the mirror is optional


def helper_digest() -> str:
    """Hash of the helper API modules, the mirror's snapshot-content modules and the package
    data: what the episodes' outputs depend on (not this extension, the CLI or the mirror's
    server code). The package version alone would miss an unreleased change to a helper.
    """
    return _digest(helper_files(), PACKAGE)[:10]


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str,
                           context: dict[str, Any], doctree: Any) -> None:
    """Jupyter Book 1.0.4 registers sphinx-thebe's inline config script twice, and the second
    copy throws "THEBE_JS_URL has already been declared" in every visitor's console."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in context.get("script_files", []):
        # The copies differ only in filename None vs "": compare what the browser runs.
        key = (getattr(script, "filename", None) or "",
               str(getattr(script, "attributes", {}).get("body", "")))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def cache_key(source: datasource.DataSource) -> str:
    return f"{source.key}-{satlesson.__version__}-{helper_digest()}"


def detect_data_source(app: Sphinx, config: Config) -> None:
    """config-inited: ask the mirror (or not) once per build where the outputs come from."""
    try:
        source = datasource.detect()
    except datasource.DataSourceError as exc:
        raise ConfigError(str(exc)) from None
    setattr(config, notice.CONFIG, source.as_config())


def key_execution_cache(app: Sphinx, config: Config) -> None:
    """jupyter-cache matches notebooks on code alone: give each data source and helper version
    its own cache, so a page never keeps outputs made from another source. The changed path
    also makes Sphinx re-read every page (it is an "env" config value)."""
    source = datasource.DataSource.from_config(getattr(config, notice.CONFIG))
    base = config.nb_execution_cache_path or str(Path(app.outdir).parent / ".jupyter_cache")
    config.nb_execution_cache_path = str(Path(base) / cache_key(source))


def add_static(app: Sphinx, config: Config) -> None:
    config.html_static_path.append(str(HERE / "static"))


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx_exercise")
    app.setup_extension("myst_nb")

    for name in BLOCKS:
        # ``hint`` and ``caution`` are also docutils admonitions: ours replace them.
        app.add_directive(name, BlockDirective, override=True)
    app.add_directive(CHALLENGE, ChallengeDirective)
    for name in COLLECTIONS:
        app.add_directive(name, CollectionDirective)
    app.add_node(lesson_collection)
    app.add_post_transform(collect.FillCollections)

    app.add_config_value(notice.CONFIG, {}, "env", types=[dict])
    app.add_config_value(repository.CONFIG, "", "env", types=[str])
    app.add_transform(repository.RepositoryUrlInCode)

    app.connect("config-inited", detect_data_source, priority=400)
    app.connect("config-inited", key_execution_cache)
    app.connect("config-inited", repository.read_repository_url)
    app.connect("doctree-read", notice.add_notice)
    app.connect("config-inited", add_static)
    app.connect("doctree-read", collect.read_episode, priority=900)  # after images are resolved
    app.connect("env-purge-doc", collect.purge)
    app.connect("env-merge-info", collect.merge)
    app.connect("env-get-outdated", collect.collection_pages)
    app.connect("doctree-resolved", notebooks.add_download_link)
    app.connect("build-finished", notebooks.write_notebooks)
    app.connect("html-page-context", drop_duplicate_scripts)
    app.connect("html-page-context", launch.point_at_notebooks, priority=600)  # after the theme
    app.add_css_file("satlesson.css")
    app.add_js_file("satlesson-a11y.js")  # names two theme buttons by what they show
    return {
        "version": satlesson.__version__,
        "env_version": env_version(),
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
