"""Start an IPython kernel routed to the mirror named by ``$SATLESSON_MIRROR``.

The kernel ``satlesson kernel install`` registers runs ``python -m satlesson.kernel_launch -f
{connection_file}``: the routing hook is in place before the kernel runs any cell, so the
lesson's code, which names the real services, talks to the mirror.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    from satlesson.mirror import routing

    base = os.environ.get(routing.ENV_VAR)
    if base:
        routing.install(base)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    # As ipykernel_launcher: no working folder on the path while loading (IPython adds it
    # back), so a learner's file named like a module cannot break the start-up.
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    main()
