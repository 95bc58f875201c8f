"""The synthetic imagery behaves like Sentinel-2 L2A where the lesson looks: NDVI and NBR per
land cover, an SCL that agrees with the bands, and a burn scar whose measured area matches the
snapshot's exposed truth.

Bands are rendered through the generator's own strip code on a 60 m grid (the 20 m check
covers the upsampling too); no COG is encoded here except through the mirror. Cost: ~60 s,
most of it the 20 m burned-area check and the mirror's truth document.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import requests

from satlesson.mirror.synthetic import model, pixels, sentinel2, truth
from satlesson.mirror.synthetic.advertised import advertised_files
from satlesson.mirror.synthetic.filespec import FileSpec
from satlesson.mirror.synthetic.scenes import S2_SCENES

BEFORE, AFTER = truth.BEFORE, truth.AFTER
CLOUDY = "S2B_35SNA_20230703_0_L2A"  # 23 % cloud
SCENES = {s.id: s for s in S2_SCENES}
MASKED = (0, 3, 6, 8, 9, 10)  # no data, shadow, water, clouds, cirrus: what a learner drops


@functools.cache
def _specs() -> dict[tuple[str, str], FileSpec]:
    return {(s.item_id, s.asset_key): s for s in advertised_files().values()}


def _grid_spec(item: str, key: str, res: int) -> FileSpec:
    spec = _specs()[(item, key)]
    x0, y1 = spec.transform[2], spec.transform[5]
    return replace(spec, shape=(109800 // res, 109800 // res),
                   transform=(res, 0, x0, 0, -res, y1))


def _strips(item: str, key: str, res: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """Rendered DN strips of one asset on a ``res`` metre grid."""
    return pixels.s2_strips(_grid_spec(item, key, res))


@functools.cache
def band60(item: str, key: str) -> np.ndarray:
    """Reflectance (or SCL class) of one asset at 60 m, as a learner reads it from the file."""
    out = np.concatenate([a[0] for _, _, a in _strips(item, key, 60)])
    # sentinel-2-l2a with boa_offset_applied: DN = 10000 x reflectance, no offset.
    return out if key == "scl" else out.astype(np.float32) * 1e-4


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - b) / (a + b)


def ndvi(item: str) -> np.ndarray:
    return _ratio(band60(item, "nir"), band60(item, "red"))


def nbr(item: str) -> np.ndarray:
    return _ratio(band60(item, "nir"), band60(item, "swir22"))


@pytest.fixture(scope="module")
def covers() -> dict[str, np.ndarray]:
    """60 m cells of one land cover, clear in both scenes (by their SCL)."""
    _, b, _ = model.fields(SCENES[AFTER])
    w = model.window(SCENES[AFTER])  # 35SNA's cells of the region's fields
    clear = ~np.isin(band60(BEFORE, "scl"), MASKED) & ~np.isin(band60(AFTER, "scl"), MASKED)
    land = (w.of(b.land) > 0.99) & clear
    scar = w.of(b.scar_order) <= 1
    veg = land & ~scar & (w.of(b.veg) > 0.8)
    dense = w.of(b.dense)
    return {
        "forest": veg & (dense > 0.8),
        "maquis": veg & (np.abs(dense - 0.5) < 0.1),
        "phrygana": veg & (dense < 0.15),
        "crop": land & (w.of(b.crop) > 0.8),
        "bare": land & (w.of(b.bare) > 0.8),
        "scar": land & scar,
        "high severity": land & scar & (w.of(b.severity) > 0.7),
        "unburnt": land & ~scar,
    }


@pytest.mark.parametrize(("cover", "low", "high"), [
    ("forest", 0.55, 0.80), ("maquis", 0.40, 0.70), ("phrygana", 0.25, 0.45),
    ("crop", 0.40, 0.65), ("bare", 0.05, 0.22), ("scar", 0.45, 0.80),
])  # fmt: skip
def test_ndvi_before_the_fire(covers: dict[str, np.ndarray], cover: str, low: float,
                              high: float) -> None:  # fmt: skip
    assert covers[cover].sum() > 1000
    assert low < np.median(ndvi(BEFORE)[covers[cover]]) < high


def test_nbr_and_dnbr_of_the_burn(covers: dict[str, np.ndarray]) -> None:
    before, after = nbr(BEFORE), nbr(AFTER)
    assert 0.2 < np.median(before[covers["maquis"]]) < 0.5
    assert 0.3 < np.median(before[covers["scar"]]) < 0.6
    assert -0.4 < np.median(after[covers["high severity"]]) < -0.1  # fresh char
    dnbr = (before - after)[covers["scar"]]
    assert np.percentile(dnbr, 5) < 0.27 < np.median(dnbr) < 0.6 < np.percentile(dnbr, 95) < 0.9
    unburnt = (before - after)[covers["unburnt"]]
    assert abs(np.median(unburnt)) < 0.05 and np.percentile(np.abs(unburnt), 95) < 0.05
    # Burnt ground is no longer vegetation, for NDVI and for the scene classification.
    assert np.median(ndvi(AFTER)[covers["high severity"]]) < 0.2
    assert np.median(ndvi(AFTER)[covers["scar"]]) < 0.4
    assert (band60(AFTER, "scl")[covers["high severity"]] == 5).mean() > 0.95
    assert (band60(AFTER, "scl")[covers["scar"]] == 5).mean() > 0.6  # low severity stays green
    assert (band60(BEFORE, "scl")[covers["scar"]] == 4).mean() > 0.9


@pytest.mark.parametrize("item", [BEFORE, AFTER, CLOUDY])
def test_scl_agrees_with_the_bands(item: str) -> None:
    scl = band60(item, "scl")
    red, nir, index = band60(item, "red"), band60(item, "nir"), ndvi(item)
    water, vegetation = scl == 6, scl == 4
    assert water.mean() > 0.3 and vegetation.mean() > 0.03
    # Open sea that the files clip to 0 (no data, as in the real ones) has no ratio to test.
    # Under the cloudy scene's haze, water near cloud edges is grey in red and NIR alike.
    water = water & (red > 0)
    share = 0.95 if item == CLOUDY else 0.99
    assert (nir[water] < red[water]).mean() > share and (index[water] < 0).mean() > share
    assert (index[vegetation] > 0.3).mean() > 0.99
    # Sen2Cor's vegetation test wants an NDVI above about 0.4, so the land it calls not
    # vegetated (dry phrygana, rock, the scar) lies mostly below that.
    assert np.median(index[scl == 5]) < 0.35
    # Cloud classes cover about what the item's eo:cloud_cover says.
    cloudy = np.isin(scl, (8, 9)).sum() / (scl > 0).sum() * 100
    cover = SCENES[item].cloud_cover
    assert abs(cloudy - cover) < max(0.3, 0.25 * cover), (cloudy, cover)


def test_shadows_fall_away_from_the_sun() -> None:
    _, _, sf = model.fields(SCENES[CLOUDY])
    azimuth = sentinel2.s2_properties(SCENES[CLOUDY])["view:sun_azimuth"]
    # The shift that best lays the clouds on their shadows points away from the sun.
    best = max(((dr, dc) for dr in range(-30, 31, 3) for dc in range(-30, 31, 3)),
               key=lambda s: float((np.roll(sf.cloud, s, (0, 1)) * sf.shadow).sum()))  # fmt: skip
    direction = np.degrees(np.arctan2(best[1], -best[0]))  # east of north
    off = (direction - azimuth) % 360 - 180  # 0 when straight away from the sun
    assert abs(off) < 20, (direction, azimuth)


def test_the_scar_reaches_into_35snv() -> None:
    # A few km² of the outline lie south of 35SNA's edge: only 35SNV's files hold them.
    scar = model.base_fields(model.S2_REGION).scar_order <= 1
    south = scar[1830:].sum() * truth.CELL_KM2  # region rows below 35SNA's last
    assert 2 < south < 0.1 * truth.burn_scar_truth()["scar_km2"]


def test_burned_area_at_20_m_matches_the_truth() -> None:
    """The lesson's analysis at 20 m on the two tiles the scar spans (35SNV below 35SNA's
    edge only): dNBR with the SCL mask, per USGS class, against truth."""
    bounds = dict(truth.burn_scar_truth()["usgs_class_bounds"])
    counts = dict.fromkeys(bounds, 0)
    for tile, first_row in (("35SNA", 0), ("35SNV", (1830 - 1667) * 3)):
        before, after = (item.replace("35SNA", tile) for item in (BEFORE, AFTER))
        parts = [_strips(item, key, 20) for item in (before, after)
                 for key in ("nir08", "swir22")]  # fmt: skip
        scl = [np.repeat(np.repeat(band60(item, "scl"), 3, 0), 3, 1) for item in (before, after)]
        for strips in zip(*parts, strict=True):
            r0, r1 = strips[0][0], strips[0][1]
            if r1 <= first_row:
                continue
            n0, s0, n1, s1 = (s[2][0].astype(np.float32) * 1e-4 for s in strips)
            dnbr = _ratio(n0, s0) - _ratio(n1, s1)
            ok = ~np.isin(scl[0][r0:r1], MASKED) & ~np.isin(scl[1][r0:r1], MASKED)
            ok[: max(first_row - r0, 0)] = False
            for name, (lo, hi) in bounds.items():
                counts[name] += int((ok & (dnbr >= lo) & (dnbr < hi)).sum())
    measured = {k: v * 400 / 1e6 for k, v in counts.items()}
    expected = truth.burn_scar_truth()
    above = sum(v for k, v in measured.items() if k != "low")
    assert above == pytest.approx(expected["burned_km2"]["dnbr_gt_0.27"], rel=0.10)
    assert sum(measured.values()) == pytest.approx(expected["burned_km2"]["dnbr_gt_0.10"],
                                                   rel=0.10)  # fmt: skip
    for name in ("moderate-low", "moderate-high", "high"):
        assert measured[name] == pytest.approx(expected["usgs_classes_km2"][name], rel=0.2)


def test_truth_follows_the_account() -> None:
    doc = truth.burn_scar_truth()
    # The whole outline, the part south of 35SNA's edge (about 5 km² in 35SNV) included;
    # only the land mask and the ragged edge move it a little.
    assert 0.99 * doc["account_km2"] < doc["scar_km2"] <= doc["account_km2"]
    assert doc["account_km2"] == pytest.approx(176.287)
    assert truth.burn_scar_area_km2() == doc["burned_km2"]["dnbr_gt_0.10"]
    assert truth.burn_scar_area_km2(0.27) == doc["burned_km2"]["dnbr_gt_0.27"]
    shares = {k: v / doc["scar_km2"] for k, v in doc["usgs_classes_km2"].items()}
    assert shares["low"] == pytest.approx(3016.4 / 17628.7, abs=0.03)  # slightly damaged
    assert shares["high"] == pytest.approx(1457.2 / 17628.7, abs=0.03)  # highly + destroyed
    assert "EMSR675" in doc["provenance"]


def test_truth_document_is_served_by_the_mirror(mirror_base: str) -> None:
    # The routing hook sends the URL to the mirror; a check needs no import of the mirror.
    response = requests.get(truth.TRUTH_URL, timeout=300)
    assert response.status_code == 200
    assert response.json() == truth.burn_scar_truth()
    direct = requests.get(f"{mirror_base}/satlesson.invalid/truth/rhodes-2023-burn-scar.json",
                          timeout=60)  # fmt: skip
    assert direct.json() == response.json()
