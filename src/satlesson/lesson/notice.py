"""A notice under each episode's title saying where the page's executed outputs come from.

Readers see item lists, thumbnails and plots; without this notice, a page built against the
synthetic snapshot would pass its images off as real Sentinel-2 scenes.
"""

from __future__ import annotations

from datetime import date

from docutils import nodes
from sphinx.application import Sphinx

from satlesson.lesson.collect import is_episode
from satlesson.lesson.datasource import DataSource

CONFIG = "satlesson_data_source"  # set once per build by sphinxext.detect_data_source


def _day(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else "an unknown date"


def wording(source: DataSource) -> tuple[str, str]:
    """(title, text) of the notice for pages built from ``source``."""
    if source.kind == "synthetic":
        return (
            f"Synthetic data (snapshot {source.version})",
            f"The outputs on this page were made against the lesson's offline mirror, which "
            f"serves its synthetic snapshot {source.version}. The catalog metadata (item IDs, "
            "dates, cloud cover, asset links) is shaped like the real services' answers, but "
            "the imagery is synthetic: coastlines and burn scars are drawn in their true "
            "places, and no pixel is a real satellite measurement.",
        )
    if source.kind == "recorded":
        return (
            f"Recorded data (snapshot {source.version})",
            f"The outputs on this page were made against the lesson's offline mirror, which "
            f"replays snapshot {source.version}: the real services' catalog answers and image "
            f"files as recorded on {_day(source.day)}. The services may answer differently "
            "today.",
        )
    return (
        "Live data",
        f"The outputs on this page come from the live services, as they answered when this "
        f"site was built on {_day(source.day)}. Running the code later may find newer items.",
    )


def add_notice(app: Sphinx, doctree: nodes.document) -> None:
    """doctree-read: put the notice right under the title of every episode."""
    if not is_episode(app.env.docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    source = DataSource.from_config(getattr(app.config, CONFIG))
    title, text = wording(source)
    notice = nodes.admonition(
        "", nodes.title("", title), nodes.paragraph("", text),
        classes=["satlesson-data-notice", f"satlesson-data-{source.kind}"],
    )
    section.insert(1, notice)  # index 0 is the title
