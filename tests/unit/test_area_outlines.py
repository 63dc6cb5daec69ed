"""Township outlines from GeoJSON (issue 12): a file is checked whole, each refusal says which
feature, which field and why; the map's data carries the outlines and the tile layer when set."""
from oversight.domain.area_outlines import check_outlines, geometry_reason
from oversight.domain.visit_map import map_data
from oversight.domain.vocabulary import AreaLevel
from oversight.web.security import CONTENT_SECURITY_POLICY, content_security_policy, tile_origin

SQUARE = [[115.0, 25.8], [115.1, 25.8], [115.1, 25.9], [115.0, 25.9], [115.0, 25.8]]
LEVELS = {"360704": AreaLevel.COUNTY, "360704100": AreaLevel.TOWNSHIP, "360704101": AreaLevel.TOWNSHIP,
          "360704100201": AreaLevel.VILLAGE, **{f"36070410{n}": AreaLevel.TOWNSHIP for n in range(2, 7)}}


def feature(geometry, **properties):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def test_polygons_and_multipolygons_of_loaded_townships_and_counties_pass():
    outlines, errors = check_outlines(collection(
        feature({"type": "Polygon", "coordinates": [SQUARE]}, code="360704100", name="梅林镇"),
        feature({"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]}, 区划代码=360704101),
        feature({"type": "Polygon", "coordinates": [SQUARE]}, code="360704"),
    ), LEVELS)
    assert errors == []
    assert [(o.code, o.geometry["type"]) for o in outlines] == [
        ("360704100", "Polygon"), ("360704101", "MultiPolygon"), ("360704", "Polygon")]


def test_each_wrong_feature_is_named_with_its_field_and_reason_and_nothing_passes():
    europe = [[lon - 105, lat + 25] for lon, lat in SQUARE]  # lon 10, lat 51: in range, not in China
    open_ring = SQUARE[:-1] + [[115.0, 25.85]]
    outlines, errors = check_outlines(collection(
        feature({"type": "Polygon", "coordinates": [SQUARE]}, code="360704100"),
        feature({"type": "Point", "coordinates": [115.0, 25.8]}, code="360704101"),
        feature({"type": "Polygon", "coordinates": [open_ring]}, code="360704102"),
        feature({"type": "Polygon", "coordinates": [SQUARE[:3]]}, code="360704103"),
        feature({"type": "Polygon", "coordinates": [europe]}, code="360704104"),
        feature({"type": "Polygon", "coordinates": [[[200, 25.8]] + SQUARE[1:]]}, code="360704105"),
        feature({"type": "Polygon", "coordinates": [SQUARE]}, code="360799100"),
        feature({"type": "Polygon", "coordinates": [SQUARE]}, code="360704100201"),
        feature({"type": "Polygon", "coordinates": [SQUARE]}, name="无代码"),
        feature({"type": "Polygon", "coordinates": [SQUARE]}, code="360704100"),
    ), LEVELS)
    assert outlines == []
    assert [(e.feature, e.field) for e in errors] == [
        (2, "geometry"), (3, "geometry"), (4, "geometry"), (5, "geometry"), (6, "geometry"),
        (7, "区划代码"), (8, "区划代码"), (9, "区划代码"), (10, "区划代码")]
    reasons = [e.reason for e in errors]
    assert "Point" in reasons[0] and "闭合" in reasons[1] and "至少要有 4 个" in reasons[2]
    assert "不在中国境内" in reasons[3] and "超出经度" in reasons[4]
    assert "未登记" in reasons[5] and "是村（社区）" in reasons[6] and "缺少" in reasons[7]
    assert "与第1个要素重复" in reasons[8]
    assert str(errors[0]).startswith("第2个要素“geometry”：")


def test_a_file_that_is_not_a_feature_collection_is_refused_as_a_whole():
    assert [str(e) for e in check_outlines({"type": "Polygon"}, LEVELS)[1]] == ["“type”：文件应为 GeoJSON 要素集合（FeatureCollection）"]
    assert check_outlines(collection(), LEVELS)[1][0].field == "features"
    assert geometry_reason(None) == "缺少几何图形（geometry）"
    assert geometry_reason({"type": "Polygon", "coordinates": []}) is not None


def test_the_maps_data_carries_outlines_and_tiles_only_when_set():
    outline = {"name": "梅林镇", "code": "360704100", "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
    data = map_data([], {}, [outline], {"url": "/tiles/{z}/{x}/{y}.png", "attribution": "本局"})
    assert data["outlines"] == [outline] and data["tiles"] == {"url": "/tiles/{z}/{x}/{y}.png", "attribution": "本局"}
    assert map_data([], {}, (), {"url": "", "attribution": "x"})["tiles"] is None
    assert map_data([], {})["outlines"] == []


def test_the_csp_admits_an_absolute_tile_urls_origin_only():
    assert tile_origin("https://gis.example.gov.cn:8443/t/{z}/{x}/{y}.png") == "https://gis.example.gov.cn:8443"
    assert tile_origin("/tiles/{z}/{x}/{y}.png") is None and tile_origin("") is None
    assert tile_origin("javascript:alert(1)") is None
    assert content_security_policy("/tiles/{z}/{x}/{y}.png") == CONTENT_SECURITY_POLICY
    policy = content_security_policy("https://gis.example.gov.cn/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://gis.example.gov.cn;" in policy
    assert "script-src 'self';" in policy and "gis.example" not in policy.replace("img-src 'self' data: https://gis.example.gov.cn", "")
