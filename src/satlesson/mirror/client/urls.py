"""The one rule that maps upstream URLs into the mirror.

``https://HOST/PATH`` is served by the mirror at ``{base}/HOST/PATH`` for every host below.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8642
DEFAULT_BASE = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"

EARTH_SEARCH = "earth-search.aws.element84.com"
SENTINEL_COGS = "sentinel-cogs.s3.us-west-2.amazonaws.com"
E84_SENTINEL_DATA = "e84-earth-search-sentinel-data.s3.us-west-2.amazonaws.com"  # Collection 1
CMR = "cmr.earthdata.nasa.gov"
LPDAAC = "data.lpdaac.earthdatacloud.nasa.gov"
COP_DEM_30 = "copernicus-dem-30m.s3.amazonaws.com"
# Not an upstream host (.invalid never resolves): documents only the mirror has, such as the
# synthetic snapshot's ground truth.
TRUTH_HOST = "satlesson.invalid"

MIRRORED_HOSTS: tuple[str, ...] = (EARTH_SEARCH, SENTINEL_COGS, E84_SENTINEL_DATA, CMR, LPDAAC,
                                   COP_DEM_30, TRUTH_HOST)

EARTH_SEARCH_API = f"https://{EARTH_SEARCH}/v1"
CMR_LPCLOUD_API = f"https://{CMR}/stac/LPCLOUD"


def mirror_url(url: str, base: str = DEFAULT_BASE) -> str:
    """Return where the mirror at ``base`` serves ``url``; other URLs come back unchanged."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in MIRRORED_HOSTS:
        return url
    rest = url[len(f"https://{parts.netloc}") :]
    return f"{base.rstrip('/')}/{parts.hostname}{rest}"

