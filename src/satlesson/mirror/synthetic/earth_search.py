"""Earth Search v1 as the mirror serves it: the ``sentinel-2-l2a`` items (the lesson's scenes
and the archive's), the Copernicus DEM GLO-30 tiles over Rhodes, and the collections
``/collections`` lists; ``collection1.py`` adds ``sentinel-2-c1-l2a``.

Asset hrefs are the real upstream URLs; the mirror rewrites them when it answers a request.
Shapes follow Earth Search v1 (``sentinel2-to-stac`` 0.1.1) as it was when the lesson was
written; the one real item reproduced verbatim is S2A_35SNA_20230827_0_L2A.
"""

from __future__ import annotations

from satlesson.mirror.client.urls import COP_DEM_30, EARTH_SEARCH_API, SENTINEL_COGS
from satlesson.mirror.synthetic import dem
from satlesson.mirror.synthetic.archive import all_s2_scenes
from satlesson.mirror.synthetic.collection1 import c1_collection, c1_items
from satlesson.mirror.synthetic.filespec import FileSpec, Kind
from satlesson.mirror.synthetic.published import published_item
from satlesson.mirror.synthetic.scenes import S2_EPSG, S2Scene, s2_footprint
from satlesson.mirror.synthetic.sentinel2 import (
    S2_BANDS,
    S2Band,
    processing_baseline,
    s2_dir,
    s2_grid,
    s2_properties,
)
from satlesson.mirror.synthetic.stac import COG, GLOBAL_BBOX, JP2, Json, bbox, provider

__all__ = [
    "S2_COLLECTION",
    "S2_ASSET_KEYS",
    "DEM_COLLECTION",
    "earth_search_collections",
    "earth_search_items",
    "dem_items",
    "l2a_files",
    "dem_files",
]

S2_COLLECTION = "sentinel-2-l2a"

SENTINEL_LICENSE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"

# Earth Search v1 items written by sentinel2-to-stac 0.1.1 declare these extension versions.
S2_STAC_EXTENSIONS: tuple[str, ...] = tuple(
    f"https://stac-extensions.github.io/{name}/v{version}/schema.json"
    for name, version in (
        ("projection", "1.1.0"),
        ("eo", "1.1.0"),
        ("raster", "1.1.0"),
        ("processing", "1.1.0"),
        ("mgrs", "1.0.0"),
        ("view", "1.0.0"),
        ("grid", "1.0.0"),
    )
)

# The COG assets in the order Earth Search lists them (alphabetical), then the JPEG 2000 twins.
_S2_COG_KEYS: tuple[str, ...] = (
    "aot", "blue", "coastal", "granule_metadata", "green", "nir", "nir08", "nir09", "red",
    "rededge1", "rededge2", "rededge3", "scl", "swir16", "swir22", "thumbnail",
    "tileinfo_metadata", "visual", "wvp",
)  # fmt: skip
_S2_JP2_SOURCES: tuple[str, ...] = (
    "aot", "blue", "coastal", "green", "nir", "nir08", "nir09", "red", "rededge1", "rededge2",
    "rededge3", "scl", "swir16", "swir22", "visual", "wvp",
)  # fmt: skip
S2_ASSET_KEYS: tuple[str, ...] = _S2_COG_KEYS + tuple(f"{k}-jp2" for k in _S2_JP2_SOURCES)

# Non-band rasters: (file stem, title, resolution).
_S2_AUX: dict[str, tuple[str, str, int]] = {
    "aot": ("AOT", "Aerosol optical thickness (AOT)", 20),
    "scl": ("SCL", "Scene classification map (SCL)", 20),
    "wvp": ("WVP", "Water vapour (WVP)", 20),
    "visual": ("TCI", "True color image", 10),
}


def _s2_href(scene: S2Scene, file: str) -> str:
    return f"https://{SENTINEL_COGS}/sentinel-s2-l2a-cogs/{s2_dir(scene)}/{file}"


def _eo_band(band: S2Band) -> Json:
    return {
        "name": band.key,
        "common_name": band.common_name,
        "description": band.description,
        "center_wavelength": band.center_wavelength,
        "full_width_half_max": band.fwhm,
    }


def _s2_raster_asset(scene: S2Scene, key: str, offset: float = -0.1) -> Json:
    """Everything about a raster asset except href and type (shared by COG and JP2 twins)."""
    if key in S2_BANDS:
        band = S2_BANDS[key]
        shape, transform = s2_grid(scene, band.gsd)
        return {
            "title": band.title,
            "eo:bands": [_eo_band(band)],
            "gsd": band.gsd,
            "proj:shape": shape,
            "proj:transform": transform,
            "raster:bands": [
                {
                    "nodata": 0,
                    "data_type": "uint16",
                    "bits_per_sample": 15,
                    "spatial_resolution": band.gsd,
                    "scale": 0.0001,
                    "offset": offset,
                }
            ],
            "roles": ["data", "reflectance"],
        }
    _, title, resolution = _S2_AUX[key]
    shape, transform = s2_grid(scene, resolution)
    if key == "visual":
        # No raster:bands and no gsd on the true-colour image, as on Earth Search.
        return {
            "title": title,
            "eo:bands": [_eo_band(S2_BANDS[k]) for k in ("red", "green", "blue")],
            "proj:shape": shape,
            "proj:transform": transform,
            "roles": ["visual"],
        }
    raster: Json
    if key == "scl":
        raster = {"nodata": 0, "data_type": "uint8", "spatial_resolution": resolution}
    else:
        raster = {
            "nodata": 0,
            "data_type": "uint16",
            "bits_per_sample": 15,
            "spatial_resolution": resolution,
        }
        if key == "wvp":
            raster["unit"] = "cm"
        raster |= {"scale": 0.001, "offset": 0}
    # Earth Search tags AOT, WVP and SCL as reflectance too, although they are not.
    return {
        "title": title,
        "proj:shape": shape,
        "proj:transform": transform,
        "raster:bands": [raster],
        "roles": ["data", "reflectance"],
    }


def _s2_file(key: str) -> str:
    """The file an asset key points at, e.g. ``red`` -> ``B04.tif``, ``red-jp2`` -> ``B04.jp2``."""
    base, jp2 = (key[: -len("-jp2")], True) if key.endswith("-jp2") else (key, False)
    if base == "thumbnail":
        return "thumbnail.jpg"
    if base == "granule_metadata":
        return "granule_metadata.xml"
    if base == "tileinfo_metadata":
        return "tileinfo_metadata.json"
    stem = S2_BANDS[base].file if base in S2_BANDS else _S2_AUX[base][0]
    return f"{stem}.{'jp2' if jp2 else 'tif'}"


def _s2_asset(scene: S2Scene, key: str) -> Json:
    href = _s2_href(scene, _s2_file(key))
    if key == "thumbnail":
        return {
            "href": href,
            "type": "image/jpeg",
            "title": "Thumbnail image",
            "roles": ["thumbnail"],
        }
    if key == "granule_metadata":
        return {"href": href, "type": "application/xml", "roles": ["metadata"]}
    if key == "tileinfo_metadata":
        return {"href": href, "type": "application/json", "roles": ["metadata"]}
    # Real Earth Search points the -jp2 twins at s3://sentinel-s2-l2a (requester pays); the
    # mirror keeps them next to the COGs so that every advertised href can be fetched.
    is_jp2 = key.endswith("-jp2")
    base = key[: -len("-jp2")] if is_jp2 else key
    # Before baseline 04.00 the products had no +1000 and no offset to state (INVENTED: no
    # such item of Earth Search's was seen; ESA's metadata of those baselines has none).
    offset = -0.1 if processing_baseline(scene.day) >= "04.00" else 0
    return {"href": href, "type": JP2 if is_jp2 else COG, **_s2_raster_asset(scene, base, offset)}


def _s2_item(scene: S2Scene) -> Json:
    published = published_item(scene.id)
    ring = [[lon, lat] for lon, lat in s2_footprint(scene)]
    item_url = f"{EARTH_SEARCH_API}/collections/{S2_COLLECTION}/items/{scene.id}"
    collection_url = f"{EARTH_SEARCH_API}/collections/{S2_COLLECTION}"
    l1c_id = scene.id.removesuffix("_L2A") + "_L1C"
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        # Upstream lists the extensions in no fixed order; a real item keeps its own.
        "stac_extensions": published["stac_extensions"] if published else list(
            S2_STAC_EXTENSIONS),
        "id": scene.id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": published["bbox"] if published else bbox(ring),
        "properties": s2_properties(scene),
        "links": [
            {"rel": "self", "href": item_url, "type": "application/geo+json"},
            {
                "rel": "canonical",
                "href": f"s3://sentinel-cogs/sentinel-s2-l2a-cogs/{s2_dir(scene)}/{scene.id}.json",
                "type": "application/json",
            },
            {"rel": "license", "href": SENTINEL_LICENSE},
            {
                "rel": "derived_from",
                "href": f"{EARTH_SEARCH_API}/collections/sentinel-2-l1c/items/{l1c_id}",
                "type": "application/geo+json",
            },
            {"rel": "parent", "href": collection_url, "type": "application/json"},
            {"rel": "collection", "href": collection_url, "type": "application/json"},
            {
                "rel": "root",
                "href": EARTH_SEARCH_API,
                "type": "application/json",
                "title": "Earth Search by Element 84",
            },
            {"rel": "thumbnail", "href": f"{item_url}/thumbnail"},
        ],
        "assets": {key: _s2_asset(scene, key) for key in S2_ASSET_KEYS},
        "collection": S2_COLLECTION,
    }


def earth_search_items() -> list[Json]:
    """One ``sentinel-2-l2a`` item per scene of the lesson and of the archive, newest first,
    then the lesson's scenes in ``sentinel-2-c1-l2a``."""
    return [_s2_item(scene) for scene in all_s2_scenes()] + c1_items()


# ---------------------------------------------------------------------------------------------
# Earth Search: Copernicus DEM GLO-30 tiles over Rhodes
# ---------------------------------------------------------------------------------------------

DEM_COLLECTION = "cop-dem-glo-30"
_DEM_DATETIME = "2021-04-22T00:00:00Z"


def dem_href(lat: int, lon: int) -> str:
    name = dem.tile_id(lat, lon)
    return f"https://{COP_DEM_30}/{name}/{name}.tif"


def _dem_item(lat: int, lon: int) -> Json:
    """Shaped like Earth Search v1's cop-dem-glo-30 items (stactools-cop-dem)."""
    name = dem.tile_id(lat, lon)
    t = dem.tile_transform(lat, lon)
    west, north = t[2], t[5]
    east, south = west + 1.0, north - 1.0
    ring = [[east, south], [east, north], [west, north], [west, south], [east, south]]
    item_url = f"{EARTH_SEARCH_API}/collections/{DEM_COLLECTION}/items/{name}"
    collection_url = f"{EARTH_SEARCH_API}/collections/{DEM_COLLECTION}"
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": name,
        "properties": {
            "gsd": 30,
            "datetime": _DEM_DATETIME,
            "platform": "tandem-x",
            "proj:epsg": 4326,
            "proj:shape": [dem.SIZE, dem.SIZE],
            "proj:transform": list(t),
            "created": "2023-01-24T21:09:37.262Z",
            "updated": "2023-01-24T21:09:37.262Z",
        },
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "links": [
            {"rel": "self", "href": item_url, "type": "application/geo+json"},
            {"rel": "parent", "href": collection_url, "type": "application/json"},
            {"rel": "collection", "href": collection_url, "type": "application/json"},
            {"rel": "root", "href": EARTH_SEARCH_API, "type": "application/json",
             "title": "Earth Search by Element 84"},
        ],  # fmt: skip
        "assets": {
            "data": {
                "href": dem_href(lat, lon),
                "type": COG,
                "title": "Data",
                "raster:bands": [{"sampling": "point", "data_type": "float32",
                                  "spatial_resolution": 30, "unit": "meter"}],  # fmt: skip
                "roles": ["data"],
            }
        },
        "bbox": [west, south, east, north],
        "stac_extensions": [
            "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
        ],
        "collection": DEM_COLLECTION,
    }


def dem_items() -> list[Json]:
    """The ``cop-dem-glo-30`` tiles over Rhodes (synthetic heights, see ``dem.py``)."""
    return [_dem_item(lat, lon) for lat, lon in dem.TILES]

# ---------------------------------------------------------------------------------------------
# Earth Search collections
# ---------------------------------------------------------------------------------------------

_ESA = provider("ESA", ["producer"], "https://earth.esa.int/web/guest/home")
_E84 = provider("Element 84", ["processor"], "https://element84.com")


def _aws(url: str) -> Json:
    return provider("AWS", ["host"], url)


def _collection(
    cid: str,
    title: str,
    description: str,
    *,
    license: str,
    license_href: str,
    providers: list[Json],
    interval: list[str | None],
    keywords: list[str],
    bbox: list[float] | None = None,
    summaries: Json | None = None,
) -> Json:
    url = f"{EARTH_SEARCH_API}/collections/{cid}"
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": cid,
        "title": title,
        "description": description,
        "keywords": keywords,
        "license": license,
        "providers": providers,
        "extent": {
            "spatial": {"bbox": [bbox or GLOBAL_BBOX]},
            "temporal": {"interval": [interval]},
        },
        "summaries": summaries or {},
        "links": [
            {"rel": "self", "href": url, "type": "application/json"},
            {"rel": "parent", "href": EARTH_SEARCH_API, "type": "application/json"},
            {"rel": "root", "href": EARTH_SEARCH_API, "type": "application/json"},
            {"rel": "items", "href": f"{url}/items", "type": "application/geo+json"},
            {"rel": "license", "href": license_href},
        ],
    }


def _sentinel2_summaries(gsd: list[int]) -> Json:
    return {
        "platform": ["sentinel-2a", "sentinel-2b"],
        "constellation": ["sentinel-2"],
        "instruments": ["msi"],
        "gsd": gsd,
        "view:off_nadir": [0],
    }


_S2_START = "2015-06-27T10:25:31.456000Z"
_COP_DEM_LICENSE = (
    "https://spacedata.copernicus.eu/documents/20126/0/CSCDA_ESA_Mission-specific+Annex.pdf"
)


def earth_search_collections() -> list[Json]:
    """The eight collections Earth Search v1 lists, in the order its /collections gives them."""
    s2_providers = [_ESA, _aws("https://registry.opendata.aws/sentinel-2-l2a-cogs"), _E84]
    dem_providers = [
        provider("European Space Agency", ["licensor"], "https://spacedata.copernicus.eu"),
        provider(
            "Sinergise", ["producer", "processor"], "https://registry.opendata.aws/copernicus-dem/"
        ),
        _aws("https://registry.opendata.aws/copernicus-dem/"),
        _E84,
    ]

    def cop_dem(gsd: int) -> Json:
        """GLO-30 and GLO-90 differ only in their resolution."""
        return _collection(
            f"cop-dem-glo-{gsd}",
            f"Copernicus DEM GLO-{gsd}",
            "The Copernicus DEM is a Digital Surface Model (DSM) which represents the surface "
            f"of the Earth including buildings, infrastructure and vegetation. GLO-{gsd} "
            f"provides worldwide coverage at {gsd} meters.",
            license="proprietary",
            license_href=_COP_DEM_LICENSE,
            providers=dem_providers,
            interval=["2021-04-22T00:00:00Z", "2021-04-22T00:00:00Z"],
            keywords=["Copernicus", "DEM", "DSM", "Elevation"],
            summaries={"gsd": [gsd], "platform": ["tandem-x"]},
        )

    return [
        cop_dem(30),
        _collection(
            "naip",
            "NAIP: National Agriculture Imagery Program",
            "The National Agriculture Imagery Program (NAIP) acquires aerial imagery during the "
            "agricultural growing seasons in the continental U.S., at 1 meter ground sample "
            "distance or better, in four bands (red, green, blue and near-infrared).",
            license="proprietary",
            license_href="https://www.fsa.usda.gov/help/policies-and-links/",
            providers=[
                provider(
                    "USDA Farm Service Agency",
                    ["producer", "licensor"],
                    "https://www.fsa.usda.gov/programs-and-services/aerial-photography/imagery-programs/naip-imagery/",
                ),
                _aws("https://registry.opendata.aws/naip"),
                _E84,
            ],
            interval=["2010-01-01T00:00:00Z", "2022-12-31T00:00:00Z"],
            keywords=["NAIP", "Aerial", "Imagery", "USDA", "AFPO", "Agriculture", "United States"],
            bbox=[-160.0, 17.0, -67.0, 50.0],
            summaries={"gsd": [0.3, 0.6, 1.0], "platform": ["naip"]},
        ),
        _collection(
            "sentinel-2-l2a",
            "Sentinel-2 Level 2A",
            "Global Sentinel-2 data from the Multispectral Instrument (MSI) onboard Sentinel-2, "
            "processed to Level-2A (bottom-of-atmosphere reflectance) and distributed as "
            "Cloud-Optimized GeoTIFFs.",
            license="proprietary",
            license_href=SENTINEL_LICENSE,
            providers=s2_providers,
            interval=[_S2_START, None],
            keywords=["sentinel", "earth observation", "esa"],
            summaries=_sentinel2_summaries([10, 20, 60]),
        ),
        _collection(
            "sentinel-2-l1c",
            "Sentinel-2 Level 1C",
            "Global Sentinel-2 data from the Multispectral Instrument (MSI) onboard Sentinel-2, "
            "Level-1C top-of-atmosphere reflectance in JPEG 2000.",
            license="proprietary",
            license_href=SENTINEL_LICENSE,
            providers=[_ESA, _aws("https://registry.opendata.aws/sentinel-2"), _E84],
            interval=[_S2_START, None],
            keywords=["sentinel", "earth observation", "esa"],
            summaries=_sentinel2_summaries([10, 20, 60]),
        ),
        cop_dem(90),
        _collection(
            "landsat-c2-l2",
            "Landsat Collection 2 Level-2",
            "Atmospherically corrected global Landsat Collection 2 Level-2 data from the "
            "Thematic Mapper (TM), Enhanced Thematic Mapper Plus (ETM+) and Operational Land "
            "Imager / Thermal Infrared Sensor (OLI/TIRS): surface reflectance and surface "
            "temperature.",
            license="proprietary",
            license_href="https://www.usgs.gov/core-science-systems/hdds/data-policy",
            providers=[
                provider("NASA", ["producer"], "https://landsat.gsfc.nasa.gov/"),
                provider(
                    "USGS",
                    ["producer", "processor", "licensor"],
                    "https://www.usgs.gov/landsat-missions/landsat-collection-2-level-2-science-products",
                ),
                _aws("https://registry.opendata.aws/usgs-landsat/"),
                _E84,
            ],
            interval=["1982-08-22T00:00:00Z", None],
            keywords=["landsat", "earth observation", "usgs"],
            summaries={
                "platform": ["landsat-4", "landsat-5", "landsat-7", "landsat-8", "landsat-9"],
                "constellation": ["landsat"],
                "instruments": ["tm", "etm+", "oli", "tirs"],
                "gsd": [30, 60, 100, 120],
            },
        ),
        _collection(
            "sentinel-1-grd",
            "Sentinel-1 Level 1C Ground Range Detected (GRD)",
            "Sentinel-1 is a pair of Synthetic Aperture Radar (SAR) imaging satellites. Level-1 "
            "Ground Range Detected (GRD) products are detected, multi-looked and projected to "
            "ground range using an Earth ellipsoid model.",
            license="proprietary",
            license_href=SENTINEL_LICENSE,
            providers=[_ESA, _aws("https://registry.opendata.aws/sentinel-1"), _E84],
            interval=["2014-10-10T00:28:21Z", None],
            keywords=["sentinel", "copernicus", "esa", "sar"],
            summaries={
                "platform": ["sentinel-1a", "sentinel-1b"],
                "constellation": ["sentinel-1"],
                "instruments": ["c-sar"],
            },
        ),
        c1_collection(_collection(
            "sentinel-2-c1-l2a",
            "Sentinel-2 Collection 1 Level-2A",
            "",
            license="proprietary",
            license_href=SENTINEL_LICENSE,
            providers=[],
            interval=[_S2_START, None],
            keywords=["sentinel", "earth observation", "esa"],
            summaries=_sentinel2_summaries([10, 20, 60]),
        )),
    ]



# ---------------------------------------------------------------------------------------------
# Files behind the assets (see advertised.py)
# ---------------------------------------------------------------------------------------------


_S2_KINDS: dict[str, Kind] = {
    "visual": "s2-tci", "scl": "s2-scl", "thumbnail": "s2-thumbnail",
    "granule_metadata": "s2-granule-xml", "tileinfo_metadata": "s2-tileinfo-json",
}  # fmt: skip


def _s2_file_spec(scene: S2Scene, key: str, asset: Json) -> FileSpec:
    kind: Kind = "s2-jp2" if key.endswith("-jp2") else _S2_KINDS.get(key, "s2-band")
    raster = "proj:shape" in asset
    return FileSpec(kind, scene.id, key, scene,
                    shape=tuple(asset["proj:shape"]) if raster else None,
                    transform=tuple(asset["proj:transform"]) if raster else None,
                    epsg=S2_EPSG if raster else None, protected=False)  # fmt: skip


def l2a_files() -> dict[str, FileSpec]:
    """Every ``sentinel-2-l2a`` href, with what the generator needs."""
    files: dict[str, FileSpec] = {}
    for s2 in all_s2_scenes():  # the assets alone: an item's properties are not needed here
        for key in S2_ASSET_KEYS:
            asset = _s2_asset(s2, key)
            files[asset["href"]] = _s2_file_spec(s2, key, asset)
    return files


def dem_files() -> dict[str, FileSpec]:
    """Every ``cop-dem-glo-30`` href; a tile's ``scene`` is its (lat, lon) south-west corner."""
    return {
        dem_href(lat, lon): FileSpec("dem", dem.tile_id(lat, lon), "data", (lat, lon),
                                     shape=(dem.SIZE, dem.SIZE),
                                     transform=dem.tile_transform(lat, lon), epsg=4326,
                                     protected=False)  # fmt: skip
        for lat, lon in dem.TILES
    }
