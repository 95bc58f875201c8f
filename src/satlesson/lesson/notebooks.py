"""Write each episode as a learner's ``.ipynb`` beside its page and link it from the page.

Jupyter Book's own download menu offers the MyST source and a PDF; learners want a notebook
they can open in Jupyter and run as is. ``learner.py`` makes it (plain Markdown, no build-time
checks, solutions collapsed); this module only places and links it.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

from satlesson.lesson import frontmatter
from satlesson.lesson.collect import is_episode
from satlesson.lesson.learner import write_learner_notebook

logger = logging.getLogger(__name__)


def is_notebook_episode(app: Sphinx, docname: str) -> bool:
    if not is_episode(docname):
        return False
    source = Path(app.env.doc2path(docname))
    if source.suffix == ".ipynb":
        return True
    meta = frontmatter.read(source)
    return "jupytext" in meta or "kernelspec" in meta


def notebook_name(docname: str) -> str:
    return posixpath.basename(docname) + ".ipynb"


def add_download_link(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """doctree-resolved: a visible link under the episode's title (HTML builders only)."""
    if app.builder.format != "html" or not is_notebook_episode(app, docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    name = notebook_name(docname)
    paragraph = nodes.paragraph(classes=["satlesson-download"])
    paragraph += nodes.Text("Download this episode as a Jupyter notebook: ")
    paragraph += nodes.reference("", name, refuri=name, internal=False)
    section.insert(1, paragraph)  # index 0 is the title


def write_notebooks(app: Sphinx, exc: BaseException | None) -> None:
    """build-finished: write the notebooks next to the pages they were linked from."""
    if exc is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        if not is_notebook_episode(app, docname):
            continue
        page_dir = posixpath.dirname(app.builder.get_target_uri(docname))
        target = Path(app.outdir, page_dir, notebook_name(docname))
        source = Path(app.env.doc2path(docname))
        try:
            write_learner_notebook(source, target)
        except Exception as err:  # a warning (an error under -W) names the page, no traceback
            logger.warning("could not write the learner notebook %s: %s", target.name, err,
                           location=docname)
