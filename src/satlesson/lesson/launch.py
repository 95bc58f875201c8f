"""Launch buttons that open the learner notebook, not the MyST source.

sphinx-book-theme points Binder and Colab at ``episodes/NAME.md`` on the repository's branch:
Colab cannot read MyST, and Binder would need jupytext and an environment. The site workflow
publishes a ``notebooks`` branch instead (see :func:`write_branch`): the learner notebooks the
build wrote, at the same paths as on the site, plus ``binder/`` from the repository. Both
buttons open the episode's notebook on that branch; the theme's other buttons are dropped.
"""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from satlesson.lesson.notebooks import is_notebook_episode, notebook_name

BRANCH = "notebooks"
BINDER_DIR = "binder"
KEPT = {"Binder", "Colab"}


def _org_repo(url: str) -> tuple[str, str]:
    org, repo = url.rstrip("/").split("github.com/", 1)[1].split("/")[:2]
    return org, repo


def launch_urls(app: Sphinx, docname: str) -> dict[str, str]:
    """The Binder and Colab addresses for an episode's learner notebook on the branch."""
    options = app.config.html_theme_options or {}
    buttons = options.get("launch_buttons", {})
    org, repo = _org_repo(str(options.get("repository_url", "")))
    page_dir = posixpath.dirname(app.builder.get_target_uri(docname))
    path = posixpath.join(page_dir, notebook_name(docname))
    urls = {}
    if buttons.get("binderhub_url"):
        binder = buttons["binderhub_url"].rstrip("/")
        urls["Binder"] = f"{binder}/v2/gh/{org}/{repo}/{BRANCH}?urlpath=lab/tree/{path}"
    if buttons.get("colab_url"):
        colab = buttons["colab_url"].rstrip("/")
        urls["Colab"] = f"{colab}/github/{org}/{repo}/blob/{BRANCH}/{path}"
    return urls


def point_at_notebooks(app: Sphinx, pagename: str, templatename: str,
                       context: dict[str, Any], doctree: Any) -> None:
    """html-page-context, after the theme's: rewrite the launch group's buttons."""
    groups = [b for b in context.get("header_buttons", []) if b.get("label") == "launch-buttons"]
    if not groups:
        return
    urls = launch_urls(app, pagename) if is_notebook_episode(app, pagename) else {}
    for group in groups:
        group["buttons"] = [{**b, "url": urls[b["text"]]} for b in group["buttons"]
                            if b.get("text") in KEPT and b.get("text") in urls]
        if not group["buttons"]:
            context["header_buttons"].remove(group)


def write_branch(site: Path, root: Path, out: Path) -> None:
    """The ``notebooks`` branch's files: every ``.ipynb`` of the built site at its site path,
    and the repository's ``binder/`` folder, which Binder reads to build the environment."""
    for notebook in sorted(site.rglob("*.ipynb")):
        target = out / notebook.relative_to(site)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook, target)
    shutil.copytree(root / BINDER_DIR, out / BINDER_DIR, dirs_exist_ok=True)


def main(argv: list[str] | None = None) -> None:
    """``python -m satlesson.lesson.launch SITE ROOT OUT``, as the site workflow runs it."""
    import sys

    site, root, out = map(Path, argv if argv is not None else sys.argv[1:])
    write_branch(site, root, out)


if __name__ == "__main__":
    main()
