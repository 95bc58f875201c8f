"""The one error type the mirror raises for problems a person can fix."""

from satlesson.errors import SatlessonError


class MirrorError(SatlessonError, RuntimeError):
    """A problem with the mirror's set-up, told in one sentence (the CLI prints just that)."""
