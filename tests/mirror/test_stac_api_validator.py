"""stac-api-validator finds nothing wrong with the mirror's Earth Search API.

Offline it cannot download the JSON schemas, so errors that are only failed downloads from the
two schema hosts are set aside; every other error, a crash of the validator, or a run that
never reaches its report fails the test.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCHEMA_HOSTS = ("schemas.stacspec.org", "stac-extensions.github.io")
DOWNLOAD_FAILED = ("Connection", "NameResolution", "Max retries exceeded")
CLASSES = ("Core", "Collections", "Features", "Item Search")
# The validator, with one fix: it calls Session.send directly, which skips the CA bundle that
# REQUESTS_CA_BUNDLE names (requests applies it in Session.request), so behind any TLS proxy,
# the mirror's included, it could not verify a certificate. Its sessions get that bundle.
VALIDATOR = """
import os, sys, requests
from stac_api_validator.__main__ import main
_init = requests.Session.__init__
def _with_bundle(self):
    _init(self)
    self.verify = os.environ.get("REQUESTS_CA_BUNDLE", True)
requests.Session.__init__ = _with_bundle
sys.argv[0] = "stac-api-validator"
sys.exit(main())
"""


def real_errors(returncode: int, output: str) -> list[str]:
    """The problems a validator run reports beyond failed schema downloads (a list of lines)."""
    if "Traceback (most recent call last)" in output:
        return ["the validator crashed: " + output.strip().splitlines()[-1]]
    missing = [c for c in CLASSES if f"Validating STAC API - {c} conformance class" not in output]
    if missing:
        return [f"the validator never validated {', '.join(missing)}"]
    if returncode not in (0, 1):
        return [f"the validator exited with {returncode}"]
    errors = output.split("Errors:", 1)[1].splitlines() if "Errors:" in output else []
    if returncode == 1 and not errors:
        return ["the validator failed without saying why"]
    return [e for e in errors if e.startswith("- ") and not _schema_download(e)]


def _schema_download(error: str) -> bool:
    return any(h in error for h in SCHEMA_HOSTS) and any(k in error for k in DOWNLOAD_FAILED)


def test_validator_reports_no_errors_but_schema_downloads(mirror_base: str) -> None:  # noqa: ARG001
    # At the real address, through the mirror's proxy (this process's settings, inherited).
    result = subprocess.run(
        [sys.executable, "-c", VALIDATOR, "--root-url", "https://earth-search.aws.element84.com/v1",
         "--conformance", "core", "--conformance", "item-search",
         "--conformance", "features", "--conformance", "collections",
         "--collection", "sentinel-2-l2a",
         "--geometry", json.dumps({"type": "Point", "coordinates": [27.95, 36.2]})],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    problems = real_errors(result.returncode, result.stdout + result.stderr)
    assert problems == [], "\n".join(problems)


VALIDATED = "\n".join(f"INFO:x:Validating STAC API - {c} conformance class." for c in CLASSES)
SCHEMA = ("- [Features] : GET http://127.0.0.1:1/v1/x failed stac-validator validation: "
          "HTTPSConnectionPool(host='schemas.stacspec.org', port=443): Max retries exceeded")


def test_only_schema_downloads_are_set_aside() -> None:
    assert real_errors(1, f"{VALIDATED}\nErrors:\n{SCHEMA}") == []
    # What must not pass: the mirror itself unreachable, a crash, a run cut short, a wrong item.
    mirror_down = ("- [Core] : GET http://127.0.0.1:8642/v1 failed: HTTPConnectionPool("
                   "host='127.0.0.1', port=8642): Max retries exceeded (ConnectionError)")
    assert real_errors(1, f"{VALIDATED}\nErrors:\n{SCHEMA}\n{mirror_down}") == [mirror_down]
    crash = f"{VALIDATED}\nTraceback (most recent call last):\n  ...\nKeyError: 'links'"
    assert real_errors(1, crash) == ["the validator crashed: KeyError: 'links'"]
    assert real_errors(0, "INFO:x:Validating STAC API - Core conformance class.")
    assert real_errors(1, VALIDATED) == ["the validator failed without saying why"]
    invalid = ("- [Features] : GET /x failed stac-validator validation: [{'schema': "
               "['https://schemas.stacspec.org/v1.0.0/item.json'], 'error_type': "
               "'JSONSchemaValidationError'}]")
    assert real_errors(1, f"{VALIDATED}\nErrors:\n{invalid}") == [invalid]
    wrong = "- [Item Search] : GET /search?ids=a returned 2 items, expected 1"
    assert real_errors(1, f"{VALIDATED}\nErrors:\n{wrong}") == [wrong]
