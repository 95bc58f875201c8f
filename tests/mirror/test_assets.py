"""The mirror's generated asset files: valid COGs on the advertised grids, that look like Rhodes.

The files are those of the session's mirror cache, so each is made once in the session (the
build makes the true-colour image the episodes read); besides it, only 60 m and 20 m rasters
are rendered here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.warp import transform as warp_transform
from rio_cogeo import cog_validate

from satlesson.mirror.synthetic import earth_search, model, render
from satlesson.mirror.synthetic.advertised import advertised_files
from satlesson.mirror.synthetic.archive import s2_scene
from satlesson.mirror.synthetic.filespec import FileSpec
from satlesson.mirror.synthetic.scenes import s2_footprint

CLEAR = "S2A_35SNA_20230827_0_L2A"  # after the fire, 1 % cloud
BEFORE = "S2A_35SNA_20230708_0_L2A"  # before the fire
CLOUDY = "S2B_35SNA_20230703_0_L2A"  # 23 % cloud
HLS = "HLS.L30.T18TWL.2021103T153244.v2.0"  # April: no snow, 8 % cloud
CLIP_BOX = (560900, 3995000, 570900, 4015000)  # the lesson's clip, EPSG:32635

Spec = FileSpec


@pytest.fixture(scope="module")
def specs() -> dict[tuple[str, str], Spec]:
    return {(s.item_id, s.asset_key): s for s in advertised_files().values()}


@pytest.fixture(scope="module")
def rendered(specs: dict[tuple[str, str], Spec],
             mirror_state_dir: Path) -> Callable[[str, str], Path]:  # fmt: skip
    """The file as the session's mirror serves it: from its cache, rendered there if it is
    not yet (by this test, the build or the mirror, whichever asks first)."""

    def get(item: str, key: str) -> Path:
        return render.ensure(specs[(item, key)], mirror_state_dir / "assets")

    return get


def _read(path: Path) -> tuple[np.ndarray, Any]:
    with rasterio.open(path) as src:
        return src.read(1), src.profile


@pytest.mark.parametrize("key", ["coastal", "swir22", "scl", "aot"])
def test_cog_on_the_advertised_grid(
    rendered: Callable[[str, str], Path], specs: dict[tuple[str, str], Spec], key: str
) -> None:
    spec = specs[(CLEAR, key)]
    item = next(i for i in earth_search.earth_search_items() if i["id"] == CLEAR)
    advertised = item["assets"][key]["raster:bands"][0]
    path = rendered(CLEAR, key)
    valid, errors, _ = cog_validate(str(path), quiet=True)
    assert valid, errors
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32635
        assert tuple(src.transform)[:6] == pytest.approx(spec.transform)
        assert src.shape == tuple(spec.shape)
        assert src.dtypes[0] == advertised["data_type"]
        assert src.nodata == 0
        assert src.profile["blockxsize"] == 1024 and src.compression.value == "DEFLATE"
        assert src.overviews(1), "overviews"
        assert src.tags()["OVR_RESAMPLING_ALG"] == ("NEAREST" if key == "scl" else "AVERAGE")
        assert "TIFFTAG_DATETIME" not in src.tags()


def test_sea_is_dark_and_vegetation_bright_in_nir(rendered: Callable[[str, str], Path]) -> None:
    nir, _ = _read(rendered(CLEAR, "nir08"))  # B8A, 20 m, same grid as SCL
    scl, _ = _read(rendered(CLEAR, "scl"))
    reflectance = nir.astype(float) * 1e-4  # boa_offset_applied: no offset in the DN
    sea = np.median(reflectance[scl == 6])
    vegetation = np.median(reflectance[scl == 4])
    assert sea < 0.03 < 0.2 < vegetation
    assert (scl == 6).mean() > 0.4  # the tile is mostly Aegean


def test_no_data_west_of_the_swath_edge(rendered: Callable[[str, str], Path]) -> None:
    band, profile = _read(rendered(CLEAR, "coastal"))
    lon, lat = zip(*s2_footprint(s2_scene(CLEAR)), strict=True)  # the real item's footprint
    xs, ys = warp_transform("EPSG:4326", "EPSG:32635", list(lon), list(lat))
    # Along the edge's long segment, 2 pixels either side of it.
    for t in np.linspace(0.05, 0.95, 7):
        x = xs[1] + t * (xs[2] - xs[1])
        y = ys[1] + t * (ys[2] - ys[1])
        row, col = rasterio.transform.rowcol(profile["transform"], x, y)
        assert band[row, col - 2] == 0 and band[row, : col - 2].max() == 0
        assert band[row, col + 2] > 0
    assert band[:, -1].min() > 0  # the east edge has data


def test_cloudy_scene_has_much_more_cloud(rendered: Callable[[str, str], Path]) -> None:
    def cloud_fraction(item: str) -> float:
        scl, _ = _read(rendered(item, "scl"))
        valid = scl > 0
        return float(np.isin(scl[valid], (8, 9, 10)).mean())

    cloudy, clear = cloud_fraction(CLOUDY), cloud_fraction(CLEAR)
    assert 0.15 < cloudy < 0.4
    assert clear < 0.03
    assert cloudy > 10 * clear


def test_same_bytes_every_build(specs: dict[tuple[str, str], Spec], tmp_path: Path) -> None:
    for key in ("coastal", "coastal-jp2", "thumbnail", "granule_metadata", "tileinfo_metadata"):
        spec = specs[(CLEAR, key)]
        first, second = tmp_path / f"a-{key}", tmp_path / f"b-{key}"
        render.render(spec, first)
        render.render(spec, second)
        assert first.read_bytes() == second.read_bytes(), key
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    # ... and in another process, with another hash seed: what a second machine renders.
    code = ("import sys\nfrom pathlib import Path\nfrom satlesson.mirror.synthetic import render\n"
            "from satlesson.mirror.synthetic.advertised import advertised_files\n"
            "spec = next(s for s in advertised_files().values()\n"
            f"            if (s.item_id, s.asset_key) == ({CLEAR!r}, 'coastal'))\n"
            "render.render(spec, Path(sys.argv[1]))\n")
    there = tmp_path / "c-coastal"
    subprocess.run([sys.executable, "-c", code, str(there)], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "4321"})
    assert there.read_bytes() == (tmp_path / "a-coastal").read_bytes()


def test_base_fields_read_back_from_their_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "_fields_folder", tmp_path)
    (tmp_path / "18TWL-0123.npz").write_bytes(b"stale")  # made by other code: removed
    tile = dataclasses.replace(model.HLS_TILE, kept=True)  # a small region, fast to compute
    made = model.stored_base_fields(tile)  # computed, and saved
    assert len(list(tmp_path.glob("18TWL-*.npz"))) == 1
    read = model.stored_base_fields(tile)  # read from the file
    fresh = model._compute_base_fields(model.HLS_TILE)
    for field in dataclasses.fields(model.Base):
        want = getattr(fresh, field.name)
        for got in (getattr(made, field.name), getattr(read, field.name)):
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), field.name
    assert list(tmp_path.glob(".*.npz")) == []  # no temp file left
    # What they are made of names the file, so a stale one is never read.
    assert model._fields_key(dataclasses.replace(tile, veg_bias=0.5)) != model._fields_key(tile)
    assert model.stored_base_fields(model.HLS_TILE) is not None
    assert len(list(tmp_path.glob("18TWL-*.npz"))) == 1  # a tile not kept is computed only


def test_jp2_twin_is_jpeg2000(rendered: Callable[[str, str], Path],
                              specs: dict[tuple[str, str], Spec]) -> None:  # fmt: skip
    path = rendered(CLEAR, "coastal-jp2")
    assert path.read_bytes()[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n"
    with rasterio.open(path) as jp2, rasterio.open(rendered(CLEAR, "coastal")) as cog:
        assert jp2.driver == "JP2OpenJPEG"
        assert jp2.shape == cog.shape and jp2.crs == cog.crs
        assert np.array_equal(jp2.read(1), cog.read(1))  # lossless


def test_thumbnail_and_metadata(rendered: Callable[[str, str], Path]) -> None:
    with Image.open(rendered(CLEAR, "thumbnail")) as image:
        assert image.format == "JPEG" and image.size == (343, 343) and image.mode == "RGB"
    root = ET.parse(rendered(CLEAR, "granule_metadata")).getroot()
    assert root.find(".//HORIZONTAL_CS_CODE").text == "EPSG:32635"  # type: ignore[union-attr]
    info = json.loads(rendered(CLEAR, "tileinfo_metadata").read_text())
    assert info["utmZone"] == 35 and info["gridSquare"] == "NA"


def test_hls_band_browse_and_metadata(rendered: Callable[[str, str], Path],
                                      specs: dict[tuple[str, str], Spec]) -> None:  # fmt: skip
    path = rendered(HLS, "B05")
    assert cog_validate(str(path), quiet=True)[0]
    with rasterio.open(path) as src:
        assert src.shape == (3660, 3660) and src.crs.to_epsg() == 32618
        assert src.dtypes[0] == "int16" and src.nodata == -9999
        assert src.tags(1)["scale_factor"] == "0.0001"
        nir = src.read(1, out_shape=(366, 366))
    assert 1500 < np.median(nir) < 4000  # early-spring land around New York, reflectance x 1e4
    fmask, _ = _read(rendered(HLS, "Fmask"))
    assert fmask.dtype == np.uint8 and ((fmask & 32) > 0).mean() > 0.01  # some water
    with Image.open(rendered(HLS, "browse")) as image:
        assert image.format == "JPEG"
    ET.parse(rendered(HLS, "metadata"))


def test_concurrent_ensure_renders_once(specs: dict[tuple[str, str], Spec], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    spec = specs[(CLOUDY, "coastal")]
    calls: list[Path] = []
    real_render = render.render

    def counting_render(spec: Spec, dest: Path) -> None:
        calls.append(dest)
        real_render(spec, dest)

    monkeypatch.setattr(render, "render", counting_render)
    start = threading.Barrier(2)
    results: list[Path] = []

    def worker() -> None:
        start.wait()
        results.append(render.ensure(spec, tmp_path))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    assert len(calls) == 1
    assert cog_validate(str(results[0]), quiet=True)[0]
    leftovers = [p.name for p in results[0].parent.iterdir() if p != results[0]]
    assert leftovers == [f".{results[0].name}.lock"]


@pytest.mark.slow
def test_full_resolution_true_colour(rendered: Callable[[str, str], Path],
                                     specs: dict[tuple[str, str], Spec]) -> None:  # fmt: skip
    path = rendered(CLEAR, "visual")
    valid, errors, _ = cog_validate(str(path), quiet=True)
    assert valid, errors
    with rasterio.open(path) as src:
        assert src.count == 3 and src.dtypes == ("uint8",) * 3
        assert src.shape == tuple(specs[(CLEAR, "visual")].shape) == (10980, 10980)
        assert src.res == (10.0, 10.0) and src.nodata == 0
        rgb = src.read(out_shape=(3, 1098, 1098))
    assert rgb[:, 600, 5].max() == 0  # west of the swath edge
    assert rgb[:, 400, 600].min() > 0
