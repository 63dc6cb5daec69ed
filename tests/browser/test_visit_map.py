"""A supervisor opens a worker's day on the map: the visits are numbered markers in time order,
joined by a line, over the outline of the loaded township 梅林镇, a flag shows in a marker's popup; nothing is fetched from outside the site, no
script or style is blocked by the CSP, and at 390 px the page does not scroll sideways."""
from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlsplit

from playwright.sync_api import expect

DAY = date(2025, 5, 10)


def test_supervisor_sees_the_days_visits_as_numbered_markers(log_in, live_server, factory, page):
    contractor = factory.contractor()
    worker = contractor.workers[0]
    contract = factory.contract(contractor)
    # Entered out of order: the map numbers them by start time.
    for start, end, lng, lat, flags in (
        ("14:00", "14:40", 115.06, 25.64, [{"code": "far_from_township", "reason": "坐标距王母渡镇中心约22.1公里"}]),
        ("09:00", "09:45", 115.00, 25.86, []),
        ("10:30", "11:10", 115.01, 25.87, []),
    ):
        factory.record(factory.assignment(contract), worker, DAY, start, end, longitude=lng, latitude=lat,
                       anomaly_flags=flags, flagged=bool(flags))
    from oversight.extensions import db
    from oversight.services.areas import ensure_area, load_outlines

    ensure_area("360704100", "梅林镇")
    ring = [[114.98, 25.84], [115.04, 25.84], [115.04, 25.89], [114.98, 25.89], [114.98, 25.84]]
    load_outlines(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"区划代码": "360704100"},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]}).encode())
    db.session.commit()
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if urlsplit(request.url).hostname not in ("127.0.0.1", None) and not request.url.startswith("data:")
            else None)
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    log_in(factory.user("supervisor"))

    page.goto(f"{live_server.url}/workers/{worker.id}/visits?date={DAY.isoformat()}")
    expect(page.locator("h2")).to_contain_text("3 次服务")
    markers = page.locator("#visit-map .map-visit")
    expect(markers).to_have_count(3)
    assert markers.all_inner_texts() == ["1", "2", "3"]
    expect(page.locator("#visit-map path.map-route")).to_have_count(1)
    expect(page.locator("#visit-map .map-township-label").first).to_be_visible()
    assert page.locator("#visit-map .leaflet-tile").count() == 0
    outline = page.locator("#visit-map path.map-outline.leaflet-interactive")
    expect(outline).to_have_count(1)
    outline.hover(position={"x": 5, "y": 5}, force=True)
    expect(page.locator(".map-outline-label")).to_contain_text("梅林镇")

    page.locator("#visit-map .map-visit.flagged").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("3. 14:00–14:40")
    expect(popup).to_contain_text("坐标距王母渡镇中心约22.1公里")

    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    expect(page.locator("#visit-map .map-visit")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert outside == [] and blocked == []
