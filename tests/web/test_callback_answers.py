"""The callback page asks without leading: nothing preselected, every answer required, a script (issue 10.4)."""
import re

import pytest
from sqlalchemy import select

from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import Callback, Complaint
from oversight.services.draws import CALLBACK, make_draws

from tests.checks_support import AFTER_Q3, add_records

ANSWERS = {"answered_by": "family", "confirmed": "1", "satisfaction": "4", "attitude": "较好", "complaint": ""}


@pytest.fixture
def connected(factory, client_for):
    """A supervisor's client and a callback whose call just got through, with its page's URL."""
    contract = factory.contract(factory.contractor(workers=1), service_types=("care_visit",))
    add_records(contract, {0: 12}, service_type="care_visit")
    make_draws(CALLBACK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="answers")
    db.session.commit()
    callback = db.session.execute(select(Callback).order_by(Callback.id)).scalars().first()
    client = client_for(factory.user("supervisor"))
    url = f"/callbacks/{callback.id}"
    client.post(f"{url}/attempts", {"outcome": "接通"}, token_from=url)
    return client, callback, url


def _select(page: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select {name}"
    return match.group(1)


def _stored(callback_id: int) -> Callback:
    db.session.expire_all()
    return db.session.get(Callback, callback_id)


def test_the_answer_form_starts_empty_and_shows_the_call_script(connected):
    client, callback, url = connected
    page = client.get(url).get_data(as_text=True)
    for name in ("answered_by", "confirmed", "satisfaction"):
        options = _select(page, name)
        assert "selected" not in options, name
        assert re.match(r'\s*<option value="">请选择</option>', options), name
    assert [label for label in re.findall(r'<option value="\w+">([^<]+)</option>', _select(page, "answered_by"))] == [
        "本人", "家属", "其他"]
    script = page.split('id="call-script"')[1].split("</section>")[0]
    steps = re.findall(r"<li><strong>([^<]+)</strong>", script)
    assert steps == ["问候并说明身份：", "确认接听人：", "询问服务是否发生：", "对照记录判断真实性：", "询问满意度：",
                     "询问态度和意见：", "致谢结束："]
    assert f"请问您是{callback.subject.name}本人吗" in script
    # The question about the visit names neither its date nor its worker.
    question = script.split("询问服务是否发生：")[1].split("</li>")[0]
    assert str(callback.record.service_date) not in question and callback.record.worker.name not in question


@pytest.mark.parametrize("missing", ["answered_by", "confirmed", "satisfaction"])
def test_an_answer_left_unchosen_is_refused_in_chinese_and_nothing_is_stored(connected, missing):
    client, callback, url = connected
    response = client.post(f"{url}/answers", {**ANSWERS, missing: ""}, token_from=url)
    assert response.status_code == 303 and response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "回访结果未保存" in page and '<option selected value="较好">' in page  # as chosen
    assert {"answered_by": "请选择接听人", "confirmed": "请选择服务对象是否确认接受过该次服务",
            "satisfaction": "请选择服务对象所说的满意度"}[missing] in page
    stored = _stored(callback.id)
    assert (stored.status, stored.service_confirmed, stored.satisfaction, stored.answered_by) == (
        "pending", None, None, None)


def test_an_unknown_answerer_is_refused(connected):
    client, callback, url = connected
    client.post(f"{url}/answers", {**ANSWERS, "answered_by": "neighbour"}, token_from=url)
    assert _stored(callback.id).status == "pending"


def test_complete_answers_are_stored_with_the_answerer_and_shown(connected):
    client, callback, url = connected
    response = client.post(f"{url}/answers", ANSWERS, token_from=url)
    assert response.status_code == 302
    stored = _stored(callback.id)
    assert (stored.status, stored.answered_by, stored.service_confirmed, stored.satisfaction) == (
        "answered", "family", True, 4)
    page = client.get(url).get_data(as_text=True)
    assert '<dd id="answered-by">家属</dd>' in page and 'id="call-script"' not in page
    assert db.session.execute(select(Complaint)).first() is None


def test_a_callback_answered_before_the_answerer_was_asked_reads_not_recorded(connected):
    client, callback, url = connected
    stored = _stored(callback.id)
    stored.status, stored.service_confirmed, stored.satisfaction = "answered", True, 5
    db.session.commit()
    assert '<dd id="answered-by">未记录</dd>' in client.get(url).get_data(as_text=True)
