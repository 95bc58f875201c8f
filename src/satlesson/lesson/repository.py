"""The lesson's repository URL, written once in ``_config.yml`` (``repository.url``).

Jupyter Book already uses it for the repository and launch buttons; this puts it on pages
as ``{{ repository_url }}``: in prose through MyST substitutions, and in code blocks (which
MyST leaves alone) through a transform, so install commands never repeat the address.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms import SphinxTransform

NAME = "repository_url"
TOKEN = "{{ repository_url }}"
CONFIG = "satlesson_repository_url"


def read_repository_url(app: Sphinx, config: Config) -> None:
    """config-inited: keep the URL in a config value of our own (a change re-reads every page)
    and offer it to MyST as a substitution."""
    url = str((config.html_theme_options or {}).get("repository_url") or "").rstrip("/")
    setattr(config, CONFIG, url)
    config.myst_substitutions = {NAME: url, **(config.myst_substitutions or {})}


class RepositoryUrlInCode(SphinxTransform):
    """Replace the token in literal blocks, such as the setup page's ``git clone`` line."""

    default_priority = 400

    def apply(self, **kwargs: object) -> None:
        url = getattr(self.config, CONFIG)
        for block in self.document.findall(nodes.literal_block):
            text = block.astext()
            if TOKEN not in text:
                continue
            text = text.replace(TOKEN, url)
            # rawsource equal to the text keeps Sphinx highlighting the block.
            block.rawsource = text
            block.children = []
            block += nodes.Text(text)
