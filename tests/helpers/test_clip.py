"""satlesson.clip: clip local and remote COGs, few requests, one clear error per failure."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
import rasterio.errors
import rioxarray.raster_array
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds
from rasterio.windows import from_bounds

from satlesson.clip import ClipError, clip_asset
from satlesson.search import search_items

# A 4096 x 4096 corner of MGRS tile 35SNA at 10 m, tiled like Sentinel-2 COGs (1024 px blocks).
ORIGIN = (499980.0, 4100040.0)
SIZE = 4096
BOX = (510900, 4065000, 520900, 4085000)  # 10 km x 20 km inside it


@pytest.fixture(scope="module")
def cog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cog") / "B04.tif"
    rows, cols = np.indices((SIZE, SIZE))
    data = ((rows * 7 + cols * 3) % 4000 + 1).astype("uint16")
    with rasterio.open(
        path, "w", driver="COG", width=SIZE, height=SIZE, count=1, dtype="uint16",
        crs="EPSG:32635", transform=from_origin(*ORIGIN, 10, 10), nodata=0,
        compress="DEFLATE", blocksize=1024, overview_resampling="average",
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return path


def make_item(href: str, **more: str) -> pystac.Item:
    item = pystac.Item("S2X_35SNA_20230703_0_L2A", None, None, datetime(2023, 7, 3, tzinfo=UTC), {})
    item.add_asset("red", pystac.Asset(href, media_type=pystac.MediaType.COG))
    for key, other in more.items():
        item.add_asset(key, pystac.Asset(other))
    return item


def source_window(path: Path, bbox: tuple[float, ...]) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1, window=from_bounds(*bbox, transform=src.transform))


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- local files ---------------------------------------------------------------------------------


def test_clip_in_the_rasters_crs(cog: Path) -> None:
    subset = clip_asset(make_item(str(cog)), "red", bbox=BOX)
    assert subset.shape == (1, 2000, 1000)
    assert subset.rio.resolution() == (10.0, -10.0)
    assert subset.rio.bounds() == BOX
    assert subset.rio.crs.to_epsg() == 32635
    assert subset.name == "red"
    np.testing.assert_array_equal(subset.values[0], source_window(cog, BOX))


def test_out_writes_a_compressed_tiled_geotiff(cog: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "red_subset.tif"
    subset = clip_asset(make_item(str(cog)), "red", bbox=BOX, out=out)
    with rasterio.open(out) as written:
        assert written.compression == rasterio.enums.Compression.deflate
        assert written.profile["tiled"]
        assert written.shape == (2000, 1000)
        assert written.crs.to_epsg() == 32635
        assert written.nodata == 0
        np.testing.assert_array_equal(written.read(1), subset.values[0])
    assert out.stat().st_size < 2000 * 1000 * 2 / 3  # well under the raw 4 MB
    assert hidden(out.parent) == []


def test_failed_write_keeps_the_old_file(
    cog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "red_subset.tif"
    out.write_bytes(b"the previous result")

    def half_then_fail(self: object, path: str | Path, **kwargs: object) -> None:
        Path(path).write_bytes(b"II*\x00 half a tiff")
        raise OSError("No space left on device")

    monkeypatch.setattr(rioxarray.raster_array.RasterArray, "to_raster", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        clip_asset(make_item(str(cog)), "red", bbox=BOX, out=out)
    assert out.read_bytes() == b"the previous result"
    assert hidden(tmp_path) == []


def test_lonlat_box(cog: Path) -> None:
    lonlat = transform_bounds("EPSG:32635", "EPSG:4326", *BOX)
    subset = clip_asset(make_item(str(cog)), "red", bbox=lonlat, bbox_crs="EPSG:4326")
    left, bottom, right, top = subset.rio.bounds()
    # The lon/lat box's corners stick out of the UTM box a little, never in.
    assert left <= BOX[0] and bottom <= BOX[1] and right >= BOX[2] and top >= BOX[3]
    assert right - left < 1.1 * (BOX[2] - BOX[0])


def test_overview_level_0_is_half_resolution(cog: Path) -> None:
    subset = clip_asset(make_item(str(cog)), "red", bbox=BOX, overview_level=0)
    assert subset.rio.resolution() == (20.0, -20.0)
    assert subset.shape == (1, 1000, 500)


def test_missing_overview_level(cog: Path) -> None:
    with pytest.raises(ClipError, match="has no overview level 7"):
        clip_asset(make_item(str(cog)), "red", bbox=BOX, overview_level=7)


def test_unknown_asset_lists_the_keys(cog: Path) -> None:
    item = make_item(str(cog), nir=str(cog), scl=str(cog))
    with pytest.raises(ClipError) as caught:
        clip_asset(item, "B04", bbox=BOX)
    assert str(caught.value) == (
        "Item S2X_35SNA_20230703_0_L2A has no asset 'B04'; its assets are: red, nir, scl"
    )


def test_box_outside_the_raster_says_its_bounds(cog: Path) -> None:
    with pytest.raises(ClipError) as caught:
        clip_asset(make_item(str(cog)), "red", bbox=(27.95, 36.20, 28.0, 36.3))
    message = str(caught.value)
    assert "does not overlap" in message
    assert "(499980, 4059080, 540940, 4100040) in EPSG:32635" in message
    assert "bbox_crs='EPSG:4326'" in message  # the likely mistake: lon/lat without bbox_crs


def test_lonlat_box_outside_the_raster(cog: Path) -> None:
    with pytest.raises(ClipError, match=r"in EPSG:4326: .*does not overlap.*in EPSG:32635"):
        clip_asset(make_item(str(cog)), "red", bbox=(28.5, 36.2, 28.6, 36.3), bbox_crs="EPSG:4326")


def test_box_thinner_than_a_pixel(cog: Path) -> None:
    with pytest.raises(ClipError, match="less than one pixel"):
        clip_asset(make_item(str(cog)), "red", bbox=(510900, 4065000, 510904, 4085000))


@pytest.mark.parametrize(
    "bbox", [(510900, 4065000, 520900), (520900, 4065000, 510900, 4085000), "510900,4065000"]
)
def test_bad_bbox_is_a_value_error(cog: Path, bbox: object) -> None:
    with pytest.raises(ValueError, match="bbox"):
        clip_asset(make_item(str(cog)), "red", bbox=bbox)  # type: ignore[arg-type]


def test_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(ClipError, match=r"Could not read asset 'red' .*nothing\.tif"):
        clip_asset(make_item(str(tmp_path / "nothing.tif")), "red", bbox=BOX)


def test_not_a_raster_or_not_georeferenced(tmp_path: Path) -> None:
    thumbnail = tmp_path / "preview.png"
    with rasterio.open(
        thumbnail, "w", driver="PNG", width=8, height=8, count=1, dtype="uint8"
    ) as d:
        d.write(np.zeros((1, 8, 8), "uint8"))
    metadata = tmp_path / "tileInfo.json"
    metadata.write_text("{}")
    item = make_item(str(thumbnail), metadata=str(metadata))
    with pytest.raises(ClipError, match="'red' .* is not a georeferenced raster"):
        clip_asset(item, "red", bbox=(0, 0, 4, 4))
    with pytest.raises(ClipError, match=r"'metadata' .*\(not a raster format GDAL can read\)\.$"):
        clip_asset(item, "metadata", bbox=(0, 0, 4, 4))


# --- over HTTP: a byte-range server that logs what GDAL asks for -------------------------------


class RangeHandler(BaseHTTPRequestHandler):
    root = Path(".")
    log: list[tuple[str, str, str | None]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        self.log.append((self.command, self.path, self.headers.get("Range")))
        path = self.root / self.path.lstrip("/").split("?")[0]
        if not self.path.lstrip("/") or not path.is_file():
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = path.read_bytes()
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match:
            start = int(match[1])
            end = min(int(match[2]) if match[2] else len(data) - 1, len(data) - 1)
            data_out = data[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            data_out = data
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(data_out)))
        self.end_headers()
        if body:
            self.wfile.write(data_out)


def start_server(root: Path, port: int = 0) -> ThreadingHTTPServer:
    RangeHandler.root = root
    server = ThreadingHTTPServer(("127.0.0.1", port), RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def http_base(cog: Path) -> Iterator[str]:
    server = start_server(cog.parent)
    RangeHandler.log = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_remote_clip_reads_only_header_and_tiles(cog: Path, http_base: str) -> None:
    # A unique query string: GDAL caches per URL, and this test counts first reads.
    href = f"{http_base}/B04.tif?count"
    subset = clip_asset(make_item(href), "red", bbox=BOX)
    np.testing.assert_array_equal(subset.values[0], source_window(cog, BOX))
    # No folder listing, no .aux.xml/.msk probes: every request is for the COG itself.
    assert {path for _, path, _ in RangeHandler.log} == {"/B04.tif?count"}
    # Size (HEAD), header, and one merged range per row of tiles (3 rows x 2 adjacent tiles).
    assert len(RangeHandler.log) <= 5, RangeHandler.log
    fetched = sum(
        int(b) - int(a) + 1
        for _, _, rng in RangeHandler.log
        if rng
        for a, b in [rng.removeprefix("bytes=").split("-")]
    )
    assert fetched < cog.stat().st_size / 2


def test_http_404_is_one_sentence(http_base: str) -> None:
    href = f"{http_base}/gone.tif"
    with pytest.raises(ClipError) as caught:
        clip_asset(make_item(href), "red", bbox=BOX)
    message = str(caught.value)
    assert message.startswith(
        f"Could not read asset 'red' of item S2X_35SNA_20230703_0_L2A from {href} "
        "(the server answered HTTP 404)."
    )
    assert "\n" not in message
    assert isinstance(caught.value.__cause__, rasterio.errors.RasterioIOError)


def test_connection_refused_then_recovers(cog: Path) -> None:
    port = closed_port()
    href = f"http://127.0.0.1:{port}/B04.tif"
    with pytest.raises(ClipError) as caught:
        clip_asset(make_item(href), "red", bbox=BOX)
    assert str(caught.value) == (
        f"Could not read asset 'red' of item S2X_35SNA_20230703_0_L2A from {href} "
        "(connection refused). Check your internet connection or start the offline mirror: "
        "satlesson mirror serve"
    )
    # The learner starts the mirror (or gets back online) and runs the cell again: GDAL must
    # not answer from its memory of the failure.
    server = start_server(cog.parent, port)
    try:
        assert clip_asset(make_item(href), "red", bbox=BOX).shape == (1, 2000, 1000)
    finally:
        server.shutdown()
        server.server_close()


# --- the mirror: the lesson's clip ------------------------------------------------------------


LESSON_BOX = (560900, 3995000, 570900, 4015000)


@pytest.fixture(scope="module")
def last_item(mirror_base: str) -> pystac.Item:
    items = search_items(
        "https://earth-search.aws.element84.com/v1",
        collection="sentinel-2-l2a",
        intersects=(27.95, 36.20),
        datetime="2023-07-01/2023-08-31",
    )
    assert items[-1].id == "S2B_35SNA_20230703_0_L2A"
    return items[-1]


def test_lesson_clip_on_the_mirror(last_item: pystac.Item, tmp_path: Path) -> None:
    out = tmp_path / "red_subset.tif"
    subset = clip_asset(last_item, "red", bbox=LESSON_BOX, out=out)
    assert subset.shape == (1, 2000, 1000)
    assert subset.rio.resolution() == (10.0, -10.0)
    assert subset.rio.bounds() == LESSON_BOX
    assert subset.values.any()
    assert out.stat().st_size < 10 * 2**20
    with rasterio.open(out) as written:
        np.testing.assert_array_equal(written.read(1), subset.values[0])


def test_lonlat_box_on_the_mirror(last_item: pystac.Item) -> None:
    lonlat = transform_bounds("EPSG:32635", "EPSG:4326", *LESSON_BOX)
    subset = clip_asset(last_item, "red", bbox=lonlat, bbox_crs="EPSG:4326")
    left, bottom, right, top = subset.rio.bounds()
    assert left <= LESSON_BOX[0] and top >= LESSON_BOX[3]
    assert subset.shape[1] >= 2000 and subset.shape[2] >= 1000


def test_overview_on_the_mirror(last_item: pystac.Item) -> None:
    subset = clip_asset(last_item, "red", bbox=LESSON_BOX, overview_level=0)
    assert subset.rio.resolution() == (20.0, -20.0)
    assert subset.shape == (1, 1000, 500)
