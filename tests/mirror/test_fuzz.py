"""Schemathesis sends each mirrored STAC API what its OpenAPI document allows, and worse.

Whatever arrives, the mirror answers with a 2xx, 3xx or a 4xx JSON error, never a 5xx. Each
API is fuzzed once per seed in ``SEEDS``: different seeds reach different inputs, and a fixed
seed with a fixed budget (examples per operation, no example database) makes each run the same
every time (5-20 s per API and seed, about a minute in all with the mirror's start). Seeds 46
and 152 found the CMR guard crashing on a sort field that was not text (with schemathesis 4.32
and hypothesis 6.170; other versions generate other inputs, so ``test_upstream.py`` keeps that
case explicitly). All traffic goes to the session's loopback mirror.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from satlesson.mirror.upstream import UPSTREAMS

EXAMPLES_PER_OPERATION = 40
SEEDS = (0, 46)
BUDGET = settings(max_examples=EXAMPLES_PER_OPERATION, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("fuzz_seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("mount", sorted(u.mount for u in UPSTREAMS),
                         ids=lambda mount: mount.split("/")[1])
def test_no_server_errors(mirror_base: str, mount: str, fuzz_seed: int) -> None:
    assert urlsplit(mirror_base).hostname == "127.0.0.1"  # loopback only
    schema = schemathesis.openapi.from_url(f"{mirror_base}{mount}/api")
    schema.config.update(base_url=mirror_base)
    failures: list[str] = []
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        @seed(fuzz_seed)
        @BUDGET
        @given(case=cases)
        def answers_without_server_error(case: schemathesis.Case) -> None:
            response = case.call(session=session, timeout=60)
            assert response.status_code < 500, (
                f"{response.status_code}: {response.text[:300]}\n  {case.as_curl_command()}")
            if response.status_code >= 400:
                assert isinstance(response.json(), dict)  # a JSON message, not a text page

        try:
            answers_without_server_error()
        except AssertionError as failure:
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n".join(failures)
    assert requests.get(f"{mirror_base}{mount}/", timeout=10).ok  # and it keeps serving
