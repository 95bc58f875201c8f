"""satlesson.items: saved search results round-trip, saves are atomic, bad files say why."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pystac
import pytest

from satlesson.items import ItemsFileError, load_items, save_items


def make_item(item_id: str, cloud: float = 0.5) -> pystac.Item:
    item = pystac.Item(
        item_id,
        {"type": "Point", "coordinates": [27.95, 36.2]},
        [27.95, 36.2, 27.95, 36.2],
        datetime(2023, 8, 27, 9, 0, 21, tzinfo=UTC),
        {"eo:cloud_cover": cloud, "platform": "sentinel-2a"},
    )
    item.add_asset(
        "red",
        pystac.Asset(f"https://example.com/{item_id}/B04.tif", media_type=pystac.MediaType.COG),
    )
    item.add_link(pystac.Link("self", f"https://example.com/items/{item_id}"))
    return item


@pytest.fixture
def items() -> pystac.ItemCollection:
    return pystac.ItemCollection([make_item("S2A_1", 0.1), make_item("S2B_2", 0.9)])


def leftovers(folder: Path) -> list[str]:
    """Anything in ``folder`` besides the files a test wrote on purpose."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_round_trip(tmp_path: Path, items: pystac.ItemCollection) -> None:
    path = save_items(items, tmp_path / "deep" / "er" / "rhodes_sentinel-2.json")
    assert path == tmp_path / "deep" / "er" / "rhodes_sentinel-2.json"
    assert isinstance(path, Path)
    doc = json.loads(path.read_text())
    assert doc["type"] == "FeatureCollection"
    assert [f["id"] for f in doc["features"]] == ["S2A_1", "S2B_2"]
    loaded = load_items(path)
    assert isinstance(loaded, pystac.ItemCollection)
    assert [i.to_dict() for i in loaded] == [i.to_dict() for i in items]
    assert loaded[1].assets["red"].href == "https://example.com/S2B_2/B04.tif"
    assert leftovers(path.parent) == []


def test_save_accepts_a_list_and_a_str_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = save_items([make_item("only")], "one.json")
    assert path == Path("one.json")
    assert [i.id for i in load_items("one.json")] == ["only"]


def test_saved_file_mode_follows_the_umask(tmp_path: Path, items: pystac.ItemCollection) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    try:
        path = save_items(items, tmp_path / "a.json")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # not the 0600 of a typical temp file


def test_failed_save_keeps_the_old_file(tmp_path: Path, items: pystac.ItemCollection) -> None:
    path = save_items(items, tmp_path / "results.json")
    before = path.read_bytes()
    # The second item cannot be encoded, so json.dump fails after writing the first one.
    broken = pystac.ItemCollection([make_item("fine"), make_item("bad")])
    broken[1].properties["oops"] = object()
    with pytest.raises(TypeError, match="not JSON serializable"):
        save_items(broken, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_failed_save_to_a_new_path_leaves_nothing(tmp_path: Path) -> None:
    broken = make_item("bad")
    broken.properties["oops"] = {1, 2}
    with pytest.raises(TypeError):
        save_items([broken], tmp_path / "new.json")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_save_keeps_the_old_file(
    tmp_path: Path, items: pystac.ItemCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_items(items, tmp_path / "results.json")
    before = path.read_bytes()

    def ctrl_c(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", ctrl_c)  # interrupted just before the rename
    with pytest.raises(KeyboardInterrupt):
        save_items([make_item("new")], path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("  \n", "is empty"),
        ('{"type": "FeatureCollection", "features": [', "is not valid JSON \\(line 1"),
        ("[1, 2]", "holds a JSON list"),
        ('{"type": "Catalog", "id": "x"}', "holds a 'Catalog' object"),
        ('{"features": []}', "without a GeoJSON type"),
        ('{"type": "FeatureCollection", "features": [1]}', "feature 0 is not a GeoJSON Feature"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "f1", '
            '"geometry": null, "properties": {}}]}',
            "feature 'f1' is plain GeoJSON, not a STAC item",
        ),
    ],
)
def test_bad_files_are_items_file_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(ItemsFileError, match=message) as caught:
        load_items(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ItemsFileError, match="^No saved search results at .*nothing.json"):
        load_items(tmp_path / "nothing.json")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ItemsFileError, match="is a folder"):
        load_items(tmp_path)


def test_single_item_file_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "item.json"
    path.write_text(json.dumps(make_item("one").to_dict()))
    with pytest.raises(ItemsFileError, match="single STAC Item.*pystac.Item.from_file"):
        load_items(path)


def test_byte_order_mark_is_accepted(tmp_path: Path, items: pystac.ItemCollection) -> None:
    path = save_items(items, tmp_path / "results.json")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as some Windows editors save
    assert len(load_items(path)) == 2


def test_feature_collection_written_by_pystac_loads(tmp_path: Path) -> None:
    path = tmp_path / "pystac.json"
    pystac.ItemCollection([make_item("x")]).save_object(dest_href=str(path))
    assert [i.id for i in load_items(path)] == ["x"]


def test_utf16_file_is_an_items_file_error(tmp_path: Path, items: pystac.ItemCollection) -> None:
    # What PowerShell's `>` writes: the same JSON, in UTF-16.
    path = tmp_path / "results.json"
    path.write_text(json.dumps(items.to_dict()), encoding="utf-16")
    with pytest.raises(ItemsFileError, match="not UTF-8 text"):
        load_items(path)
