from oversight.domain.visit_map import MAX_GRID_LINES, grid_step, map_data, number_visits


def visit(record_id, start, end="23:59", lng=115.0, lat=25.8, flags=()):
    return {"record_id": record_id, "start_time": start, "end_time": end, "longitude": lng, "latitude": lat,
            "subject": "对象", "place": "梅林镇梅林村", "assignment": "RW1", "flags": list(flags)}


def test_visits_are_numbered_in_time_order_whatever_order_they_come_in():
    visits = number_visits([visit(3, "14:00"), visit(1, "09:00", "09:30"), visit(2, "09:00", "09:20")])
    assert [(v.number, v.record_id) for v in visits] == [(1, 2), (2, 1), (3, 3)]


def test_the_extent_holds_every_visit_and_township_and_a_visit_without_coordinates_is_listed_unplaced():
    visits = number_visits([visit(1, "09:00", lng=114.93, lat=26.05), visit(2, "10:00", lng=None, lat=None)])
    data = map_data(visits, {"韩坊镇": (115.20, 25.53)})
    (south, west), (north, east) = data["bounds"]
    assert west < 114.93 < 115.20 < east and south < 25.53 < 26.05 < north
    assert [v["located"] for v in data["visits"]] == [True, False]
    assert data["townships"] == [{"name": "韩坊镇", "longitude": 115.20, "latitude": 25.53}]
    step = data["grid"]["step"]
    (grid_south, grid_west), (grid_north, grid_east) = data["grid"]["extent"]
    assert grid_west < west and grid_east > east and grid_south < south and grid_north > north
    assert all(grid_west <= lng <= grid_east for lng in data["grid"]["longitudes"])
    inside = [lng for lng in data["grid"]["longitudes"] if west <= lng <= east]
    assert 2 <= len(inside) <= MAX_GRID_LINES + 1 and step == grid_step(east - west)


def test_a_lone_visit_still_gets_a_map_with_a_fine_grid():
    data = map_data(number_visits([visit(1, "09:00")]), {})
    (south, west), (north, east) = data["bounds"]
    assert north - south > 0.04 and data["grid"]["step"] <= 0.01
    assert map_data([], {})["visits"] == []
