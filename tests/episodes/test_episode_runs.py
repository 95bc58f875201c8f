"""The runner the episode tests share (episode_runs.py): hidden checks cannot lend a learner's
cell what it lacks, and a trial runs from the state just before its change, after which the
unchanged cells run as its control."""

from __future__ import annotations

from pathlib import Path

import pytest
from episode_runs import Trial, assert_caught, replaced, run_episode, stdout

EPISODE = """\
```{code-cell} python
total = 1
```

```{code-cell} python
:tags: [remove-cell]
import math
assert total == 1, "total: expected 1"
```

## After the check

```{code-cell} python
print("next:", total + 1)
```
"""


def _run(tmp_path: Path, text: str, base: str, state: Path, trials: list[Trial] = []):  # noqa: B006
    episode = tmp_path / "episode.md"
    episode.write_text(text)
    (workdir := tmp_path / "work").mkdir()
    return run_episode(episode, workdir, base, state, trials)


def test_a_trial_starts_where_its_change_does_and_the_control_follows(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path
) -> None:
    wrong = Trial("two", replaced(EPISODE, "total = 1", "total = 2"), until="## After the check")
    run = _run(tmp_path, EPISODE, mirror_base, mirror_state_dir, [wrong])
    assert_caught(run.trials["two"], "total: expected 1")
    # The unchanged cells ran after the trial and set the state back: the page prints 2.
    assert stdout(run.nb).strip() == "next: 2"


def test_hidden_cells_lend_nothing_to_the_learners_cells(
    tmp_path: Path, mirror_base: str, mirror_state_dir: Path
) -> None:
    """``math`` is imported by a hidden check only: the learner notebook would fail here."""
    text = EPISODE + '\n```{code-cell} python\nprint(math.pi)\n```\n'
    with pytest.raises(pytest.fail.Exception, match="NameError"):
        _run(tmp_path, text, mirror_base, mirror_state_dir)
