"""Directives for the Workbench block types, the challenge, and the generated-page placeholders."""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective
from sphinx_exercise.directive import ExerciseDirective

from satlesson.lesson.blocks import BLOCKS, COLLECTIONS


class lesson_collection(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """Placeholder that a post-transform replaces with content gathered from every episode."""


def block_classes(name: str) -> list[str]:
    return ["satlesson-block", f"satlesson-{name}"]


class BlockDirective(SphinxDirective):
    """One Workbench block: an admonition with its own class, title bar and icon (CSS)."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {"class": directives.class_option, "name": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        block = BLOCKS[self.name]
        title_text = self.arguments[0] if self.arguments else block.title
        classes = [*block_classes(block.name), *self.options.get("class", [])]
        if block.collapsed:
            classes.append("dropdown")
        node = nodes.admonition("\n".join(self.content), classes=classes)
        node["satlesson_block"] = block.name
        self.set_source_info(node)
        inline, messages = self.state.inline_text(title_text, self.lineno)
        title = nodes.title(title_text, "", *inline)
        self.set_source_info(title)
        node += title
        self.state.nested_parse(self.content, self.content_offset, node)
        self.add_name(node)
        return [node, *messages]


class ChallengeDirective(ExerciseDirective):
    """sphinx-exercise's exercise, unnumbered and titled "Challenge: <argument>".

    Being an exercise is what lets ``solution-start <label>`` find it and merge the executed
    code cells that follow into a hidden solution.
    """

    def run(self) -> list[nodes.Node]:
        heading = self.arguments[0] if self.arguments else ""
        self.arguments: list[str] = []  # we build the title ourselves, without "(...)" around it
        self.options["nonumber"] = None  # Workbench challenges are not numbered
        self.options["class"] = [*block_classes("challenge"), *self.options.get("class", [])]
        result = super().run()
        if not result:  # duplicate label or :hidden:
            return result
        node = result[0]
        title = node.children[0]
        text = nodes.inline()
        text += nodes.Text("Challenge" + (": " if heading else ""))
        if heading:
            text.extend(self.state.inline_text(heading, self.lineno)[0])
        title.children = []
        title += text
        node["title"] = text.astext()  # shown by {ref} to the challenge's label
        node["type"] = "exercise"  # sphinx-exercise's solution-order check looks for this
        # The registry holds a copy made before the retitle; solutions take their title from it.
        self.env.sphinx_exercise_registry[node["label"]]["node"] = node.deepcopy()
        return result


class CollectionDirective(SphinxDirective):
    """``{lesson-keypoints}`` etc.: mark where the gathered content goes."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        kind = COLLECTIONS[self.name]
        # Lets the extension rebuild this page whenever an episode changes.
        self.env.metadata[self.env.docname]["satlesson_collects"] = True
        node = lesson_collection(kind=kind)
        self.set_source_info(node)
        return [node]
