"""The map of a field worker's day: the visits in time order, flags for the bureau only, a
contractor its own workers only (another's is a 404), linked from the worker and record pages."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import CompletionRecord, FieldWorker, User
from seeds.demo import build_demo
from tests.conftest import Client

TODAY = date(2026, 5, 20)


@pytest.fixture
def demo(app):
    build_demo("small", 7, TODAY)
    db.session.commit()
    return app


def busiest_day(contractor_id: int) -> tuple[FieldWorker, date, int]:
    row = db.session.execute(
        select(CompletionRecord.worker_id, CompletionRecord.service_date, func.count())
        .join(FieldWorker, FieldWorker.id == CompletionRecord.worker_id)
        .where(FieldWorker.contractor_id == contractor_id, CompletionRecord.longitude.is_not(None))
        .group_by(CompletionRecord.worker_id, CompletionRecord.service_date)
        .order_by(func.count().desc(), CompletionRecord.worker_id)).first()
    return db.session.get(FieldWorker, row[0]), row[1], row[2]


def map_json(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="visit-map-data">(.*?)</script>', html, re.S)
    assert found, "no map data on the page"
    return json.loads(found.group(1))


def contractor_of(username: str) -> int:
    return db.session.execute(select(User.contractor_id).where(User.username == username)).scalar_one()


def test_supervisor_sees_the_days_visits_in_time_order_with_their_flags(demo):
    worker, day, count = busiest_day(contractor_of("renhe"))
    client = Client(demo)
    assert client.login("supervisor", "demo-supervisor").status_code == 302
    response = client.get(f"/workers/{worker.id}/visits?date={day.isoformat()}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"{count} 次服务" in html and "北京时间" in html and "异常标记" in html
    data = map_json(html)
    visits = data["visits"]
    assert [v["number"] for v in visits] == list(range(1, count + 1))
    assert [v["start_time"] for v in visits] == sorted(v["start_time"] for v in visits)
    records = db.session.execute(select(CompletionRecord).where(
        CompletionRecord.worker_id == worker.id, CompletionRecord.service_date == day)).scalars().all()
    flags = {r.id: [f["reason"] for f in r.anomaly_flags] for r in records}
    assert {v["record_id"]: v["flags"] for v in visits} == flags
    south_west, north_east = data["bounds"]
    for v in visits:
        assert south_west[0] <= v["latitude"] <= north_east[0] and south_west[1] <= v["longitude"] <= north_east[1]
    assert data["townships"] and data["grid"]["longitudes"]


def test_without_a_date_the_page_shows_the_workers_last_day(demo):
    worker, _, _ = busiest_day(contractor_of("renhe"))
    last = db.session.execute(select(func.max(CompletionRecord.service_date))
                              .where(CompletionRecord.worker_id == worker.id)).scalar()
    client = Client(demo)
    assert client.login("supervisor", "demo-supervisor").status_code == 302
    html = client.get(f"/workers/{worker.id}/visits").get_data(as_text=True)
    assert last.strftime("%Y年%m月%d日") in html
    assert "日期格式" in client.get(f"/workers/{worker.id}/visits?date=20-5").get_data(as_text=True)


def test_contractor_sees_its_own_workers_map_without_flags_and_not_anothers(demo):
    own = contractor_of("renhe")
    worker, day, _ = busiest_day(own)
    client = Client(demo)
    assert client.login("renhe", "demo-renhe").status_code == 302
    response = client.get(f"/workers/{worker.id}/visits?date={day.isoformat()}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "异常标记" not in html
    assert all(v["flags"] == [] for v in map_json(html)["visits"])
    other = db.session.execute(select(FieldWorker).where(FieldWorker.contractor_id != own)).scalars().first()
    assert client.get(f"/workers/{other.id}/visits").status_code == 404
    assert client.get("/workers/999999/visits").status_code == 404


def test_the_worker_and_record_pages_link_to_the_map(demo):
    worker, day, _ = busiest_day(contractor_of("renhe"))
    client = Client(demo)
    assert client.login("supervisor", "demo-supervisor").status_code == 302
    assert f"/workers/{worker.id}/visits" in client.get(f"/contractors/{worker.contractor_id}").get_data(as_text=True)
    records = client.get("/records/").get_data(as_text=True)
    assert re.search(r"/workers/\d+/visits\?date=\d{4}-\d\d-\d\d", records)


SQUARE = [[115.0, 25.8], [115.1, 25.8], [115.1, 25.9], [115.0, 25.9], [115.0, 25.8]]


def outlined_day(app, factory):
    """A worker's day in 梅林镇, whose outline is loaded; 王母渡镇 is loaded without one."""
    from oversight.services.areas import ensure_area, load_outlines

    ensure_area("360704100", "梅林镇")
    ensure_area("360704101", "王母渡镇")
    load_outlines(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "360704100"},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}]}).encode())
    contractor = factory.contractor()
    worker = contractor.workers[0]
    factory.record(factory.assignment(factory.contract(contractor)), worker, date(2025, 5, 10), "09:00", "09:40",
                   longitude=115.05, latitude=25.85)
    db.session.commit()
    return worker


def test_the_maps_json_has_the_countys_township_outlines_and_no_tiles_by_default(app, factory, client_for):
    worker = outlined_day(app, factory)
    response = client_for(factory.user("supervisor")).get(f"/workers/{worker.id}/visits?date=2025-05-10")
    data = map_json(response.get_data(as_text=True))
    assert data["outlines"] == [{"name": "梅林镇", "code": "360704100",
                                 "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}]
    assert data["tiles"] is None
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]


def test_a_tile_url_adds_the_tile_layer_and_its_origin_alone_to_the_csp(app, factory, client_for):
    worker = outlined_day(app, factory)
    client = client_for(factory.user("supervisor"))
    app.config.update(MAP_TILE_URL="https://gis.example.gov.cn/tiles/{z}/{x}/{y}.png", MAP_TILE_ATTRIBUTION="赣县区自然资源局")
    response = client.get(f"/workers/{worker.id}/visits?date=2025-05-10")
    assert map_json(response.get_data(as_text=True))["tiles"] == {
        "url": "https://gis.example.gov.cn/tiles/{z}/{x}/{y}.png", "attribution": "赣县区自然资源局"}
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://gis.example.gov.cn;" in policy
    assert policy.count("gis.example.gov.cn") == 1 and "script-src 'self';" in policy
    # A same-site path: the tile layer, and the CSP as strict as ever.
    app.config["MAP_TILE_URL"] = "/tiles/{z}/{x}/{y}.png"
    response = client.get(f"/workers/{worker.id}/visits?date=2025-05-10")
    assert map_json(response.get_data(as_text=True))["tiles"]["url"] == "/tiles/{z}/{x}/{y}.png"
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]
