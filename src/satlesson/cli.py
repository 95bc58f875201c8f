"""The ``satlesson`` command."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from satlesson.errors import SatlessonError
from satlesson.mirror.client.urls import DEFAULT_BASE, DEFAULT_HOST, DEFAULT_PORT
from satlesson.mirror.errors import MirrorError


def _mirror_parser(subparsers: argparse._SubParsersAction) -> None:
    mirror = subparsers.add_parser("mirror", help="the offline mirror of the lesson's services")
    verbs = mirror.add_subparsers(dest="verb", required=True)
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument("--state-dir", type=Path, default=None,
                       help="database and file cache (default: ./.mirror or $SATLESSON_MIRROR_DIR)")

    snap = argparse.ArgumentParser(add_help=False)
    snap.add_argument("--snapshot", type=Path, default=None, metavar="DIR",
                      help="serve a recorded snapshot (default: the synthetic one)")

    serve = verbs.add_parser("serve", parents=[state, snap],
                             help="serve the mirror in the foreground")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--proxy-port", type=int, default=None,
                       help="the HTTPS proxy learners' kernels use (default: --port + 1)")
    serve.add_argument("--allow-other-hosts", action="store_true",
                       help="let the proxy tunnel hosts outside the lesson to the internet "
                            "(default: refuse them)")

    build = verbs.add_parser("build", parents=[state],
                             help="generate the files the episodes read ahead of time")
    build.add_argument("--all", action="store_true", dest="everything",
                       help="every file of the lesson's scenes (not the archive's), not only "
                            "those the episodes read")
    build.add_argument("--item", action="append", default=[],
                       help="every file of this item instead (repeatable)")
    build.add_argument("--jobs", type=int, default=None,
                       help="worker processes (default: one per core)")

    env = verbs.add_parser("env", parents=[state],
                           help="print shell exports that route this shell's programs "
                                "(Jupyter kernels, GDAL, requests) to a running mirror")
    env.add_argument("--base", default=DEFAULT_BASE)

    run = verbs.add_parser("run", parents=[state, snap],
                           help="start the mirror, run a command routed to it, stop the mirror")
    run.add_argument("--port", type=int, default=DEFAULT_PORT)
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="COMMAND")

    record = verbs.add_parser(
        "record", help="run a command through a recorder of the real services; write a snapshot")
    record.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the snapshot folder to write (replaced only when complete)")
    record.add_argument("--upstream", default=None, metavar="BASE_URL",
                        help="fetch https://HOST/PATH from BASE_URL/HOST/PATH (e.g. a mirror)")
    record.add_argument("--port", type=int, default=None, help="the recorder's port")
    record.add_argument("cmd", nargs=argparse.REMAINDER, metavar="COMMAND")
    mirror.set_defaults(func=_mirror)


def _mirror(args: argparse.Namespace) -> int:
    from satlesson.mirror.server import service

    state_dir = (args.state_dir.resolve() if getattr(args, "state_dir", None)
                 else service.default_state_dir())
    if args.verb == "serve":
        service.serve(args.host, args.port, state_dir, args.snapshot, args.proxy_port,
                      args.allow_other_hosts)
    elif args.verb == "build":
        service.build(state_dir, args.item, args.everything, args.jobs)
    elif args.verb == "env":
        from satlesson.mirror.client.routing import kernel_env

        for key, value in kernel_env(args.base, state_dir).items():
            print(f"export {key}={shlex.quote(value)}")
    elif args.verb == "run":
        command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not command:
            raise MirrorError("Name a command to run, e.g. satlesson mirror run -- jupyter lab")
        return service.run_with_mirror(command, args.port, state_dir, args.snapshot)
    elif args.verb == "record":
        from satlesson.mirror.recorded.recorder import record, summary

        command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not command:
            raise MirrorError("Name a command to record, e.g. satlesson mirror record --out "
                              "snapshot -- jupyter-book build .")
        print(summary(record(args.out, command, args.upstream, args.port), args.out))
    return 0


def _check_parser(subparsers: argparse._SubParsersAction) -> None:
    from satlesson.lesson import check

    parser = subparsers.add_parser(
        "check", help="lint the lesson sources",
        description="Report lesson problems as file:line: message; exit 1 if there are any.")
    check.add_arguments(parser)
    parser.set_defaults(func=check.run)


def _drift_parser(subparsers: argparse._SubParsersAction) -> None:
    drift = subparsers.add_parser(
        "drift", help="check that the services still give the facts the pages show")
    drift.add_argument("--against", metavar="BASE_URL", default=None,
                       help="ask a mirror-style base URL (https://HOST/PATH read at "
                            "BASE_URL/HOST/PATH) instead of the live services")
    drift.set_defaults(func=_drift)


def _drift(args: argparse.Namespace) -> int:
    """Exit 0 when nothing moved, 1 when something did, 2 when a service could not be asked."""
    from satlesson.facts import drift

    try:
        return drift.run(args.against)
    except drift.Unreachable as exc:
        print(f"satlesson drift: {exc}", file=sys.stderr)
        return 2


def _kernel_parser(subparsers: argparse._SubParsersAction) -> None:
    kernel = subparsers.add_parser("kernel", help="a Jupyter kernel routed to a mirror")
    verbs = kernel.add_subparsers(dest="verb", required=True)
    install = verbs.add_parser("install", help="register the satlesson-mirror kernel for this "
                               "user: its notebooks talk to the mirror at --mirror")
    install.add_argument("--mirror", required=True, metavar="http://HOST:PORT",
                         help="the mirror's address, as `satlesson mirror serve` printed it")
    verbs.add_parser("remove", help="unregister the satlesson-mirror kernel")
    kernel.set_defaults(func=_kernel)


def _kernel(args: argparse.Namespace) -> int:
    from satlesson.mirror.client import kernel

    if args.verb == "remove":
        print(f"Removed the {kernel.KERNEL_NAME} kernel ({kernel.remove()}).")
        return 0
    folder, base = kernel.install(args.mirror)
    print(f'Installed the Jupyter kernel "Python 3 (satlesson mirror at {base})" in {folder}.\n'
          "Choose it for the lesson's notebooks (JupyterLab: Kernel > Change Kernel). It "
          "trusts the mirror's certificate for the lesson's addresses; nothing else changes "
          "on this computer.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="satlesson", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for register in (_mirror_parser, _kernel_parser, _check_parser, _drift_parser):
        register(subparsers)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SatlessonError as exc:
        print(f"satlesson: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
