"""A county's townships and villages loaded from a file (issue 14): all rows or none, each refusal
saying which row, which column and why; on the page (admin) and by `flask load-areas FILE`."""
from sqlalchemy import func, select

from oversight.domain.areas import check_area_rows
from oversight.extensions import db
from oversight.models import Area, AuditEvent
from oversight.services.areas import AreaFileRefused, home_county, load_areas, township_names

GOOD = "区划代码,名称\n360704100,梅林镇\n360704100201,梅林村\n360704101,王母渡镇\n"


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def test_a_file_of_townships_and_villages_is_stored_under_its_county(app):
    county = home_county()
    assert load_areas(_csv(GOOD), "区划.csv") == (3, 0)
    db.session.commit()
    village = db.session.execute(select(Area).where(Area.code == "360704100201")).scalar_one()
    assert (village.level, village.parent.code, village.parent.parent_id) == ("village", "360704100", county.id)
    assert township_names(county.id) == {"梅林镇", "王母渡镇"}
    # Again, with a new name: renamed, nothing added twice.
    assert load_areas(_csv(GOOD.replace("王母渡镇", "王母渡镇（新）")), "区划.csv") == (0, 1)


def test_a_wrong_file_changes_nothing_and_says_where_and_why(app):
    home_county()
    db.session.commit()
    before = db.session.execute(select(func.count()).select_from(Area)).scalar_one()
    bad = _csv("区划代码,名称\n360704100,梅林镇\n360799100,外县镇\n360704100,梅林镇\n3607041002,\n360704,赣县区\n")
    try:
        load_areas(bad, "区划.csv")
    except AreaFileRefused as refused:
        found = [(error.row, error.column, error.reason) for error in refused.errors]
    else:
        raise AssertionError("refused file stored")
    db.session.rollback()
    assert found == [
        (3, "区划代码", "上级区划“360799”既不在文件中，也未登记"),
        (4, "区划代码", "区划代码“360704100”与第2行重复"),
        (5, "区划代码", "区划代码“3607041002”应为 6 位（省、市、县）、9 位（乡镇）或 12 位（村）数字"),
        (6, "区划代码", "只能导入乡镇（街道）和村（社区），“360704”是县（区）"),
    ]
    assert db.session.execute(select(func.count()).select_from(Area)).scalar_one() == before


def test_a_village_may_come_before_its_township_and_a_name_is_required():
    rows = [(2, "360704100201", "梅林村"), (3, "360704100", "梅林镇"), (4, "360704101", " ")]
    assert [(e.row, e.column, e.reason) for e in check_area_rows(rows, {"360704"})] == [(4, "名称", "名称不能为空")]


def test_load_areas_command_and_page(app, factory, client_for, tmp_path):
    home_county()
    db.session.commit()
    path = tmp_path / "区划.csv"
    path.write_bytes(_csv(GOOD))
    result = app.test_cli_runner().invoke(args=["load-areas", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 3 个" in result.output
    path.write_bytes(_csv("区划代码,名称\n360799100,外县镇\n"))
    result = app.test_cli_runner().invoke(args=["load-areas", str(path)])
    assert result.exit_code != 0 and "第2行“区划代码”：上级区划“360799”既不在文件中，也未登记" in result.output

    admin = client_for(factory.user("admin"))
    page = admin.get("/areas/")
    assert page.status_code == 200 and "赣县区" in page.get_data(as_text=True)
    from io import BytesIO

    sent = admin.post("/areas/", data={"file": (BytesIO(_csv("区划代码,名称\n360704102,田村镇\n")), "乡镇.csv")},
                      token_from="/areas/", content_type="multipart/form-data")
    assert sent.status_code == 200 and "新增 1 个" in sent.get_data(as_text=True)
    assert db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "Area",
                                                        AuditEvent.action == "import")).first() is not None
    assert client_for(factory.user("supervisor")).get("/areas/").status_code == 403


def test_a_subjects_township_is_shown_matching_a_loaded_township_or_not(app, factory, client_for):
    inside, outside = factory.subject(township="梅林镇"), factory.subject(township="梅林")
    supervisor = client_for(factory.user("supervisor"))
    assert "区划" not in supervisor.get(f"/subjects/{inside.id}").get_data(as_text=True).split("地址")[1][:200]
    load_areas(_csv(GOOD), "区划.csv")
    db.session.commit()
    assert "乡镇与区划一致" in supervisor.get(f"/subjects/{inside.id}").get_data(as_text=True)
    assert "乡镇不在已登记区划中" in supervisor.get(f"/subjects/{outside.id}").get_data(as_text=True)
