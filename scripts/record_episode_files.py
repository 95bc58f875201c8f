"""Record which mirror files each episode reads, for ``satlesson mirror build``.

    .venv/bin/python scripts/record_episode_files.py                  # every episode
    .venv/bin/python scripts/record_episode_files.py episodes/01-*.md  # just these

Runs each episode (a MyST Markdown notebook) in a kernel routed to a mirror started for the
purpose and writes the advertised files its requests fetched into
``src/satlesson/data/episode-files.json``. Run it after adding an episode or changing what one
reads. The mirror uses the usual state folder (``.mirror``), so files already rendered there
are reused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from satlesson.lesson.blocks import EPISODES_DIR
from satlesson.mirror import episode_files
from satlesson.mirror.server import service
from satlesson.mirror.server.postgres import free_port
from satlesson.mirror.synthetic.advertised import advertised_files

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "src" / "satlesson" / "data" / episode_files.RECORD_FILE  # this checkout's


def episodes(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return episode_files.notebook_episodes(ROOT / EPISODES_DIR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("episodes", nargs="*", help="episode files (default: every notebook)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="the mirror's state folder (default: ./.mirror)")
    args = parser.parse_args()
    state = (args.state_dir or service.default_state_dir()).resolve()
    advertised = advertised_files()
    record = episode_files.load(RECORD) if RECORD.exists() else {}
    log = state / "requests.log"
    with service.running(free_port(), state) as base:
        for episode in episodes(args.episodes):
            start = log.stat().st_size
            print(f"running {episode.name} ...", file=sys.stderr, flush=True)
            episode_files.run_episode(episode, base, state)
            with log.open() as f:
                f.seek(start)
                files = episode_files.requested(f, advertised)
            record[episode.stem] = files
            count = sum(map(len, files.values()))
            print(f"{episode.stem}: {count} files of {len(files)} items", flush=True)
    episode_files.save(record, RECORD)
    print(f"wrote {RECORD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
