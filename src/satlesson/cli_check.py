"""The ``satlesson check`` sub-command: lint the lesson sources (see satlesson.lesson.check)."""

from __future__ import annotations

import argparse

from satlesson.lesson import check


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="lint the lesson sources",
        description="Report lesson problems as file:line: message; exit 1 if there are any.",
    )
    check.add_arguments(parser)
    parser.set_defaults(func=check.run)
