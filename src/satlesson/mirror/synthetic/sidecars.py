"""The files beside the rasters: previews and thumbnails (JPEG), the granule metadata XML,
``tileinfo_metadata`` JSON, Collection 1's product XML and HLS's CMR metadata XML.

They repeat the item's own numbers (``sentinel2.s2_properties``), so file and item agree.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
from PIL import Image
from rasterio.warp import transform as warp_transform

from satlesson.mirror.synthetic.model import (
    HLS_ANGLES,
    HLS_REFLECTIVE,
    HLS_THERMAL,
    coarse_reflectance,
    coarse_xy,
    data_footprint,
    fields,
    west_edge,
    window,
)
from satlesson.mirror.synthetic.scenes import (
    HLS_EPSG,
    HLS_ORIGIN,
    S2_EPSG,
    HLSScene,
    S2Scene,
    s2_footprint,
    s2_tile,
)
from satlesson.mirror.synthetic.sentinel2 import s2_properties


def preview_image(scene: S2Scene | HLSScene, size: int, bands: tuple[str, str, str],
                  stretch: float) -> Image.Image:  # fmt: skip
    """True-colour preview straight from the 60 m fields."""
    tile, b, _ = fields(scene)
    w = window(scene)
    land = w.of(b.land) > 0.5
    rgb = np.stack([np.where(land, *map(w.of, coarse_reflectance(scene, band)))
                    for band in bands], -1)  # fmt: skip
    rgb = np.clip(rgb * stretch * 255 + 0.5, 0, 255).astype(np.uint8)
    footprint = data_footprint(scene)
    if footprint is not None:
        xs, ys = coarse_xy(w)
        rgb[xs[None, :] < west_edge(tile, footprint, ys)[:, None]] = 0
    return Image.fromarray(rgb, "RGB").resize((size, size), Image.Resampling.BOX)


def product_xml(scene: S2Scene) -> str:
    """A short product metadata document (INVENTED content, ESA's element names)."""
    p = s2_properties(scene)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<n1:Level-2A_User_Product>\n'
            f"  <PRODUCT_URI>{p['s2:product_uri']}</PRODUCT_URI>\n"
            f"  <PROCESSING_BASELINE>{p['s2:processing_baseline']}</PROCESSING_BASELINE>\n"
            f"  <BOA_ADD_OFFSET>-1000</BOA_ADD_OFFSET>\n"
            f"  <BOA_QUANTIFICATION_VALUE>10000</BOA_QUANTIFICATION_VALUE>\n"
            f"</n1:Level-2A_User_Product>\n")


def write_jpeg(image: Image.Image, dest: Path) -> None:
    # Plain baseline JPEG, no EXIF/JFIF timestamps: PIL writes none unless asked.
    image.save(dest, "JPEG", quality=85, optimize=False, progressive=False)


def granule_xml(scene: S2Scene) -> str:
    p = s2_properties(scene)  # the item's own numbers, so the two agree
    x0, y1 = s2_tile(scene).origin
    sizes = "".join(
        f'\n        <Size resolution="{r}">\n          <NROWS>{109800 // r}</NROWS>\n'
        f"          <NCOLS>{109800 // r}</NCOLS>\n        </Size>"
        for r in (10, 20, 60)
    )
    geopos = "".join(
        f'\n        <Geoposition resolution="{r}">\n          <ULX>{int(x0)}</ULX>\n'
        f"          <ULY>{int(y1)}</ULY>\n          <XDIM>{r}</XDIM>\n"
        f"          <YDIM>-{r}</YDIM>\n        </Geoposition>"
        for r in (10, 20, 60)
    )
    zenith = 90 - p["view:sun_elevation"]
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:Level-2A_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-2A_Tile_Metadata.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <n1:General_Info>
    <L1C_TILE_ID metadataLevel="Brief">{p["s2:granule_id"].replace("L2A", "L1C")}</L1C_TILE_ID>
    <TILE_ID metadataLevel="Brief">{p["s2:granule_id"]}</TILE_ID>
    <DATASTRIP_ID metadataLevel="Standard">{p["s2:datastrip_id"]}</DATASTRIP_ID>
    <DOWNLINK_PRIORITY metadataLevel="Standard">NOMINAL</DOWNLINK_PRIORITY>
    <SENSING_TIME metadataLevel="Standard">{scene.datetime}</SENSING_TIME>
    <Archiving_Info metadataLevel="Expertise">
      <ARCHIVING_CENTRE>{p["s2:granule_id"].split("_")[6][:4]}</ARCHIVING_CENTRE>
      <ARCHIVING_TIME>{p["s2:generation_time"]}</ARCHIVING_TIME>
    </Archiving_Info>
  </n1:General_Info>
  <n1:Geometric_Info>
    <Tile_Geocoding metadataLevel="Brief">
      <HORIZONTAL_CS_NAME>WGS84 / UTM zone 35N</HORIZONTAL_CS_NAME>
      <HORIZONTAL_CS_CODE>EPSG:{S2_EPSG}</HORIZONTAL_CS_CODE>{sizes}{geopos}
    </Tile_Geocoding>
    <Tile_Angles metadataLevel="Standard">
      <Mean_Sun_Angle>
        <ZENITH_ANGLE unit="deg">{zenith:.10f}</ZENITH_ANGLE>
        <AZIMUTH_ANGLE unit="deg">{p["view:sun_azimuth"]:.10f}</AZIMUTH_ANGLE>
      </Mean_Sun_Angle>
    </Tile_Angles>
  </n1:Geometric_Info>
  <n1:Quality_Indicators_Info metadataLevel="Standard">
    <Image_Content_QI>
      <NODATA_PIXEL_PERCENTAGE>{p["s2:nodata_pixel_percentage"]}</NODATA_PIXEL_PERCENTAGE>
      <SATURATED_DEFECTIVE_PIXEL_PERCENTAGE>{p["s2:saturated_defective_pixel_percentage"]}</SATURATED_DEFECTIVE_PIXEL_PERCENTAGE>
      <DARK_FEATURES_PERCENTAGE>{p["s2:dark_features_percentage"]}</DARK_FEATURES_PERCENTAGE>
      <CLOUD_SHADOW_PERCENTAGE>{p["s2:cloud_shadow_percentage"]}</CLOUD_SHADOW_PERCENTAGE>
      <VEGETATION_PERCENTAGE>{p["s2:vegetation_percentage"]}</VEGETATION_PERCENTAGE>
      <NOT_VEGETATED_PERCENTAGE>{p["s2:not_vegetated_percentage"]}</NOT_VEGETATED_PERCENTAGE>
      <WATER_PERCENTAGE>{p["s2:water_percentage"]}</WATER_PERCENTAGE>
      <UNCLASSIFIED_PERCENTAGE>{p["s2:unclassified_percentage"]}</UNCLASSIFIED_PERCENTAGE>
      <MEDIUM_PROBA_CLOUDS_PERCENTAGE>{p["s2:medium_proba_clouds_percentage"]}</MEDIUM_PROBA_CLOUDS_PERCENTAGE>
      <HIGH_PROBA_CLOUDS_PERCENTAGE>{p["s2:high_proba_clouds_percentage"]}</HIGH_PROBA_CLOUDS_PERCENTAGE>
      <THIN_CIRRUS_PERCENTAGE>{p["s2:thin_cirrus_percentage"]}</THIN_CIRRUS_PERCENTAGE>
      <SNOW_ICE_PERCENTAGE>{p["s2:snow_ice_percentage"]}</SNOW_ICE_PERCENTAGE>
    </Image_Content_QI>
  </n1:Quality_Indicators_Info>
</n1:Level-2A_Tile_ID>
"""  # noqa: E501


def tileinfo_json(scene: S2Scene) -> str:
    p = s2_properties(scene)
    day = scene.day
    x0, y1 = s2_tile(scene).origin
    square = scene.tile[3:]
    x1, y0 = x0 + 109800, y1 - 109800
    crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG:8.8.1:{S2_EPSG}"}}
    lon, lat = zip(*s2_footprint(scene), strict=True)
    fx, fy = warp_transform("EPSG:4326", f"EPSG:{S2_EPSG}", list(lon), list(lat))
    data_ring = [[round(x, 1), round(y, 1)] for x, y in zip(fx, fy, strict=True)]
    ds = p["s2:datastrip_id"]
    doc = {
        "path": f"tiles/35/S/{square}/{day.year}/{day.month}/{day.day}/0",
        "timestamp": scene.datetime.replace("000Z", "Z"),
        "utmZone": 35,
        "latitudeBand": "S",
        "gridSquare": square,
        "datastrip": {"id": ds, "path": f"products/{day.year}/{day.month}/{day.day}/{ds}"},
        "tileGeometry": {
            "type": "Polygon",
            "crs": crs,
            "coordinates": [[[x0, y1], [x1, y1], [x1, y0], [x0, y0], [x0, y1]]],
        },  # fmt: skip
        "tileDataGeometry": {"type": "Polygon", "crs": crs, "coordinates": [data_ring]},
        "tileOrigin": {"type": "Point", "crs": crs, "coordinates": [x0, y1]},
        "dataCoveragePercentage": round(100 - p["s2:nodata_pixel_percentage"], 2),
        "cloudyPixelPercentage": round(scene.cloud_cover, 2),
        "productName": p["s2:product_uri"].removesuffix(".SAFE"),
        "productPath": f"products/{day.year}/{day.month}/{day.day}/"
        + p["s2:product_uri"].removesuffix(".SAFE"),
    }
    return json.dumps(doc, indent=2) + "\n"


def hls_metadata_xml(scene: HLSScene) -> str:
    when = scene.when
    produced = (when + timedelta(days=2, hours=7, minutes=13)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    begin = (when - timedelta(seconds=12)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    end = (when + timedelta(seconds=12)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lon, lat = warp_transform(f"EPSG:{HLS_EPSG}", "EPSG:4326",
                              [HLS_ORIGIN[0], HLS_ORIGIN[0] + 109800],
                              [HLS_ORIGIN[1] - 109800, HLS_ORIGIN[1]])  # fmt: skip
    files = "".join(
        f"\n      <OnlineAccessURL>\n        <URL>https://data.lpdaac.earthdatacloud.nasa.gov/"
        f"lp-prod-protected/HLSL30.020/{scene.id}/{scene.id}.{k}.tif</URL>\n"
        f"        <URLDescription>Download {scene.id}.{k}.tif</URLDescription>\n"
        f"      </OnlineAccessURL>"
        for k in (*HLS_REFLECTIVE, *HLS_THERMAL, "Fmask", *HLS_ANGLES)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Granule>
  <GranuleUR>{scene.id}</GranuleUR>
  <InsertTime>{produced}</InsertTime>
  <LastUpdate>{produced}</LastUpdate>
  <Collection>
    <ShortName>HLSL30</ShortName>
    <VersionId>2.0</VersionId>
  </Collection>
  <DataGranule>
    <DayNightFlag>DAY</DayNightFlag>
    <ProductionDateTime>{produced}</ProductionDateTime>
  </DataGranule>
  <Temporal>
    <RangeDateTime>
      <BeginningDateTime>{begin}</BeginningDateTime>
      <EndingDateTime>{end}</EndingDateTime>
    </RangeDateTime>
  </Temporal>
  <Spatial>
    <HorizontalSpatialDomain>
      <Geometry>
        <BoundingRectangle>
          <WestBoundingCoordinate>{lon[0]:.6f}</WestBoundingCoordinate>
          <NorthBoundingCoordinate>{lat[1]:.6f}</NorthBoundingCoordinate>
          <EastBoundingCoordinate>{lon[1]:.6f}</EastBoundingCoordinate>
          <SouthBoundingCoordinate>{lat[0]:.6f}</SouthBoundingCoordinate>
        </BoundingRectangle>
      </Geometry>
    </HorizontalSpatialDomain>
  </Spatial>
  <AdditionalAttributes>
    <AdditionalAttribute>
      <Name>CLOUD_COVERAGE</Name>
      <Values><Value>{scene.cloud_cover}</Value></Values>
    </AdditionalAttribute>
    <AdditionalAttribute>
      <Name>MGRS_TILE_ID</Name>
      <Values><Value>18TWL</Value></Values>
    </AdditionalAttribute>
    <AdditionalAttribute>
      <Name>SPATIAL_RESOLUTION</Name>
      <Values><Value>30.0</Value></Values>
    </AdditionalAttribute>
  </AdditionalAttributes>
  <OnlineAccessURLs>{files}
  </OnlineAccessURLs>
</Granule>
"""
