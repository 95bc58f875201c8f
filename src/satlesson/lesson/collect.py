"""Gather schedule, key points, instructor notes and figures from the episodes.

Episodes are read in any order (and possibly in parallel), so what each one holds is stored in
the environment at read time and turned into page content only when a page is written, by a
post-transform that replaces the ``lesson_collection`` placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform

from satlesson.lesson import frontmatter
from satlesson.lesson.blocks import EPISODES_DIR, SETUP_DOC
from satlesson.lesson.directives import lesson_collection


@dataclass
class Episode:
    title: str
    teaching: int
    exercises: int
    keypoints: list[nodes.Node] = field(default_factory=list)
    instructor: list[nodes.Node] = field(default_factory=list)
    figures: list[tuple[str, nodes.image]] = field(default_factory=list)  # (alt, image)


def episodes(env: BuildEnvironment) -> dict[str, Episode]:
    if not hasattr(env, "satlesson_episodes"):
        env.satlesson_episodes = {}  # type: ignore[attr-defined]
    return env.satlesson_episodes  # type: ignore[attr-defined]


def is_episode(docname: str) -> bool:
    return docname.startswith(EPISODES_DIR + "/")


def _detached(node: nodes.Node) -> nodes.Node:
    """A copy without ids, so that a collected node does not clash with its original."""
    copy = node.deepcopy()
    for element in copy.findall(nodes.Element):
        element["ids"] = []
    return copy


_IMAGE_MIME_RANK = ("image/svg+xml", "image/png", "image/gif", "image/jpeg")


def _ancestor(node: nodes.Node, test: Callable[[nodes.Node], bool]) -> nodes.Node | None:
    parent = node.parent
    while parent is not None and not test(parent):
        parent = parent.parent
    return parent


def _is_bundle(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Element) and node.get("nb_element") == "mime_bundle"


def _has_mime(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Element) and "mime_type" in node


def _shown_images(doctree: nodes.document) -> list[nodes.image]:
    """Images in reading order, one per executed output (myst-nb keeps PNG and JPEG alike
    until it picks one when writing)."""
    shown: list[nodes.image] = []
    bundles: set[int] = set()
    for image in doctree.findall(nodes.image):
        bundle = _ancestor(image, _is_bundle)
        if bundle is None:
            shown.append(image)
            continue
        if id(bundle) in bundles:
            continue
        bundles.add(id(bundle))

        def rank(img: nodes.image) -> int:
            holder = _ancestor(img, _has_mime)
            mime = holder["mime_type"] if holder is not None else ""
            return _IMAGE_MIME_RANK.index(mime) if mime in _IMAGE_MIME_RANK else 99

        shown.append(min(bundle.findall(nodes.image), key=rank))
    return shown


def read_episode(app: Sphinx, doctree: nodes.document) -> None:
    """doctree-read: record what the generated pages need from this episode."""
    docname = app.env.docname
    if not is_episode(docname):
        return
    meta = frontmatter.read(Path(app.env.doc2path(docname)))
    title = meta.get("title") or (
        app.env.titles[docname].astext() if docname in app.env.titles else docname
    )
    episode = Episode(
        title=str(title),
        teaching=frontmatter.minutes(meta, "teaching") or 0,
        exercises=frontmatter.minutes(meta, "exercises") or 0,
    )
    for block in doctree.findall(nodes.admonition):
        kind = block.get("satlesson_block")
        if kind == "keypoints":
            episode.keypoints.extend(_detached(c) for c in block.children[1:])
        elif kind == "instructor":
            episode.instructor.append(_detached(block))
    for image in _shown_images(doctree):
        episode.figures.append((image.get("alt", ""), _detached(image)))
    episodes(app.env)[docname] = episode


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    episodes(env).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    mine = episodes(env)
    for docname, episode in episodes(other).items():
        if docname in docnames:
            mine[docname] = episode


def collection_pages(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """env-get-outdated: pages built from the episodes go stale whenever an episode does."""
    if not any(is_episode(d) for d in added | changed | removed):
        return []
    return [d for d, meta in env.metadata.items() if meta.get("satlesson_collects")]


def _toc_order(env: BuildEnvironment, root: str) -> list[str]:
    order: list[str] = []

    def walk(doc: str) -> None:
        if doc in order:
            return
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(root)
    return order


def _ordered(app: Sphinx) -> list[tuple[str, Episode]]:
    found = episodes(app.env)
    order = _toc_order(app.env, app.config.root_doc)
    ranked = sorted(found, key=lambda d: (order.index(d) if d in order else len(order), d))
    return [(d, found[d]) for d in ranked]


def _link(app: Sphinx, fromdoc: str, todoc: str, text: str) -> nodes.Node:
    uri = app.builder.get_relative_uri(fromdoc, todoc)
    return nodes.reference("", text, internal=True, refuri=uri)


def _section(docname: str, title: str, kind: str) -> nodes.section:
    section = nodes.section(ids=[nodes.make_id(f"{kind}-{docname}")])
    section += nodes.title(title, title)
    return section


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def schedule(app: Sphinx, fromdoc: str) -> list[nodes.Node]:
    rows: list[tuple[str, nodes.Node | str, str, str]] = []
    if SETUP_DOC in app.env.found_docs:
        rows.append(("00:00", _link(app, fromdoc, SETUP_DOC, "Setup instructions"), "", ""))
    start = 0
    for number, (docname, ep) in enumerate(_ordered(app), start=1):
        link = _link(app, fromdoc, docname, f"{number}. {ep.title}")
        rows.append((_clock(start), link, str(ep.teaching), str(ep.exercises)))
        start += ep.teaching + ep.exercises
    rows.append((_clock(start), "Finish", "", ""))

    header = ("Start", "Episode", "Teaching (min)", "Exercises (min)")
    table = nodes.table(classes=["satlesson-schedule"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in (10, 60, 15, 15):
        group += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    for target, cells in ((head, header), *((body, r) for r in rows)):
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            paragraph = nodes.paragraph()
            paragraph += nodes.Text(cell) if isinstance(cell, str) else cell
            entry += paragraph
            row += entry
        target += row
    return [table]


def keypoints(app: Sphinx, fromdoc: str) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    for docname, ep in _ordered(app):
        section = _section(docname, ep.title, "keypoints")
        section.extend(c.deepcopy() for c in ep.keypoints)
        out.append(section)
    return out


def instructor(app: Sphinx, fromdoc: str) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    for docname, ep in _ordered(app):
        section = _section(docname, ep.title, "instructor")
        if ep.instructor:
            section.extend(c.deepcopy() for c in ep.instructor)
        else:
            section += nodes.paragraph(text="No notes for this episode.")
        out.append(section)
    return out


def figures(app: Sphinx, fromdoc: str) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    for docname, ep in _ordered(app):
        if not ep.figures:
            continue
        section = _section(docname, ep.title, "figures")
        for number, (alt, image) in enumerate(ep.figures, start=1):
            ids = [nodes.make_id(f"figure-{docname}-{number}")]
            figure = nodes.figure(ids=ids, classes=["satlesson-figure"])
            figure += image.deepcopy()
            caption = nodes.caption()
            caption += nodes.Text(f"Figure {number}: " + (alt or "(no alt text)"))
            figure += caption
            section += figure
        out.append(section)
    return out


BUILDERS = {
    "schedule": schedule,
    "keypoints": keypoints,
    "instructor": instructor,
    "figures": figures,
}


class FillCollections(SphinxPostTransform):
    """Replace placeholders with collected content, before cross-references are resolved."""

    default_priority = 5  # ReferencesResolver is 10: copied {term} and {ref} still resolve

    def run(self, **kwargs: object) -> None:
        docname = self.env.docname
        for placeholder in list(self.document.findall(lesson_collection)):
            content = BUILDERS[placeholder["kind"]](self.app, docname)
            for xref in (x for c in content for x in c.findall(addnodes.pending_xref)):
                xref["refdoc"] = docname  # links are made relative to the page they land on
            placeholder.replace_self(content or [nodes.paragraph(text="Nothing yet.")])
