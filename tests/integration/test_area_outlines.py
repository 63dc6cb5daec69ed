"""Township outlines from a GeoJSON file (issue 12): `flask load-area-outlines FILE` and the
admin's 行政区划 page store all features or none; a refused file changes nothing and says which
feature, which field and why; the change is audited."""
import json
from io import BytesIO

from sqlalchemy import select

from oversight.extensions import db
from oversight.models import Area, AuditEvent
from oversight.services.areas import home_county, load_areas, township_outlines

SQUARE = [[115.0, 25.8], [115.1, 25.8], [115.1, 25.9], [115.0, 25.9], [115.0, 25.8]]


def geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": properties, "geometry": geometry} for properties, geometry in features]},
        ensure_ascii=False).encode("utf-8")


def polygon(ring=SQUARE):
    return {"type": "Polygon", "coordinates": [ring]}


def boundaries() -> dict:
    return dict(db.session.execute(select(Area.code, Area.boundary).where(Area.boundary.is_not(None))).all())


def townships(app):
    county = home_county()
    load_areas("区划代码,名称\n360704100,梅林镇\n360704101,王母渡镇\n".encode(), "区划.csv")
    db.session.commit()
    return county


def test_load_area_outlines_stores_a_good_file_and_refuses_a_bad_one_whole(app, tmp_path):
    county = townships(app)
    path = tmp_path / "乡镇边界.geojson"
    path.write_bytes(geojson(({"code": "360704100", "name": "梅林镇"}, polygon()),
                             ({"区划代码": "360704101"}, {"type": "MultiPolygon", "coordinates": [[SQUARE]]})))
    result = app.test_cli_runner().invoke(args=["load-area-outlines", str(path)])
    assert result.exit_code == 0, result.output
    assert "已导入乡镇边界 2 个" in result.output
    db.session.expire_all()
    stored = boundaries()
    assert stored["360704100"] == polygon() and stored["360704101"]["type"] == "MultiPolygon"
    assert [o["name"] for o in township_outlines(county.id)] == ["梅林镇", "王母渡镇"]
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.object_type == "Area", AuditEvent.action == "import")).first() is not None
    updates = db.session.execute(select(AuditEvent.changes).where(
        AuditEvent.object_type == "Area", AuditEvent.action == "update")).scalars().all()
    assert sum("boundary" in changes for changes in updates) == 2

    # A good feature and a bad one: nothing changes, the bad one is named.
    moved = [[lon + 0.5, lat] for lon, lat in SQUARE]
    path.write_bytes(geojson(({"code": "360704100"}, polygon(moved)), ({"code": "360704101"}, polygon(SQUARE[:-1]))))
    result = app.test_cli_runner().invoke(args=["load-area-outlines", str(path)])
    assert result.exit_code != 0
    assert "未导入任何边界" in result.output and "第2个要素“geometry”：" in result.output
    db.session.expire_all()
    assert boundaries() == stored

    path.write_bytes(b"not json")
    result = app.test_cli_runner().invoke(args=["load-area-outlines", str(path)])
    assert result.exit_code != 0 and "GeoJSON" in result.output


def test_the_size_limit_refuses_a_large_file(app):
    townships(app)
    app.config["AREA_OUTLINE_MAX_BYTES"] = 100
    from oversight.services.areas import AreaFileRefused, load_outlines

    try:
        load_outlines(geojson(({"code": "360704100"}, polygon())))
    except AreaFileRefused as refused:
        assert "文件超过" in str(refused)
    else:
        raise AssertionError("a file over the limit was stored")
    assert boundaries() == {}


def test_the_admin_loads_outlines_on_the_areas_page(app, factory, client_for):
    townships(app)
    admin = client_for(factory.user("admin"))
    page = admin.get("/areas/").get_data(as_text=True)
    assert "导入乡镇边界" in page and 'action="/areas/outlines"' in page
    bad = admin.post("/areas/outlines", data={"file": (BytesIO(geojson(({"code": "360799100"}, polygon()))), "边界.geojson")},
                     token_from="/areas/", content_type="multipart/form-data")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "未导入任何边界" in html and "第1个" in html and "未登记" in html
    assert boundaries() == {}
    sent = admin.post("/areas/outlines", data={"file": (BytesIO(geojson(({"code": "360704100"}, polygon()))), "边界.geojson")},
                      token_from="/areas/", content_type="multipart/form-data", follow_redirects=True)
    assert sent.status_code == 200 and "已导入乡镇边界 1 个" in sent.get_data(as_text=True)
    db.session.expire_all()
    assert set(boundaries()) == {"360704100"}
    supervisor = client_for(factory.user("supervisor"))
    assert supervisor.post("/areas/outlines", data={}, token_from="/dashboard", content_type="multipart/form-data").status_code == 403
