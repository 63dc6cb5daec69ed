"""Draws asked for on the 抽样 page run on the queue (a page job): the page shows 排队中 / 生成中 /
已完成 / 失败 and refreshes itself, only to the supervisor who asked; the draws a worker makes are
reproducible from their recorded seed and carry their audit entry, as the ones drawn inline did."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from oversight.extensions import db
from oversight.models import AuditEvent, ExportJob, SamplingDraw
from oversight.services.draws import verify_stored_draw
from oversight.tasks import queue_of
from tests.web.test_checks import text, world  # noqa: F401  (fixture)

JOBS_PAGE = "/draws/jobs/"
REFRESH = '<meta http-equiv="refresh" content="5">'


@pytest.fixture
def queued(app, tmp_path):
    """A real (SQLite) queue, not run at once: tasks wait until the test runs them."""
    app.config.update(QUEUE_IMMEDIATE=False, QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite'}")
    huey = queue_of(app).huey
    yield huey
    huey.flush()


def run_queued(huey) -> int:
    """Run every waiting task here, as a worker would; how many ran."""
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    db.session.rollback()
    return ran


def ask(client, contract_id: int = 0, seed: str = ""):
    return client.post("/draws/new", {"purpose": "spot_check", "quarter": "2025Q3", "contract_id": contract_id,
                                      "service_type": "", "seed": seed}, token_from="/draws/new")


def test_a_draw_over_every_contract_is_queued_then_listed_with_its_draws(client_for, world, queued):
    supervisor = world["supervisor"]
    client = client_for(supervisor)
    response = ask(client)
    assert response.status_code == 302 and response.headers["Location"].endswith(JOBS_PAGE)
    assert db.session.execute(select(SamplingDraw)).first() is None  # nothing drawn in the request
    page = text(client.get(JOBS_PAGE))
    assert "排队中" in page and REFRESH in page and "抽样正在后台进行" in page and "全部合同" in page

    job = db.session.execute(select(ExportJob)).scalar_one()
    job.status = "running"
    db.session.commit()
    assert "生成中" in text(client.get(JOBS_PAGE))
    job.status = "pending"
    db.session.commit()

    assert run_queued(queued) == 1
    job = db.session.get(ExportJob, job.id, populate_existing=True)
    assert (job.kind, job.status, job.attempts, job.error) == ("draw", "done", 1, None)
    draws = db.session.execute(select(SamplingDraw).order_by(SamplingDraw.id)).scalars().all()
    assert {draw.contract_id for draw in draws} == {world["contract"].id, world["other"].id}
    assert job.result["draws"] == [draw.id for draw in draws]
    page = text(client.get(JOBS_PAGE))
    assert "已完成" in page and REFRESH not in page
    for draw in draws:
        assert f'href="/draws/{draw.id}"' in page
        assert draw.created_by_id == supervisor.id
        assert verify_stored_draw(draw).matches  # the stored sample follows from its recorded seed
        created = db.session.execute(select(AuditEvent).where(
            AuditEvent.object_type == "SamplingDraw", AuditEvent.object_id == str(draw.id),
            AuditEvent.action == "create")).scalar_one()
        assert created.user_id == supervisor.id and created.changes["seed"] == draw.seed

    # Asked again: every scope is drawn already; the job says so, scope by scope.
    ask(client)
    run_queued(queued)
    page = text(client.get(JOBS_PAGE))
    assert "未产生新的抽样" in page and "同一季度同一服务只抽一次" in page
    assert len(db.session.execute(select(SamplingDraw)).all()) == len(draws)


def test_a_given_seed_is_kept_and_the_job_shows_only_to_who_asked(client_for, world, factory, queued):
    ask(client_for(world["supervisor"]), world["contract"].id, seed="队列种子")
    run_queued(queued)
    draw = db.session.execute(select(SamplingDraw)).scalar_one()
    assert draw.seed == "队列种子" and verify_stored_draw(draw).matches
    page = text(client_for(world["supervisor"]).get(JOBS_PAGE))
    assert "队列种子" in page and f'href="/draws/{draw.id}"' in page
    colleague = text(client_for(factory.user("supervisor")).get(JOBS_PAGE))
    assert "还没有提交过抽样" in colleague and f'href="/draws/{draw.id}"' not in colleague
    for role in ("auditor", "contractor_user"):
        assert client_for(world[role]).get(JOBS_PAGE).status_code in (403, 404)


def test_a_refused_request_is_told_on_the_form_and_queues_nothing(client_for, world, queued):
    client = client_for(world["supervisor"])
    response = client.post("/draws/new", {"purpose": "spot_check", "quarter": "2999Q1", "contract_id": 0,
                                          "service_type": ""}, token_from="/draws/new")
    assert response.status_code == 200 and "尚未结束" in text(response)
    assert db.session.execute(select(ExportJob)).first() is None and run_queued(queued) == 0


def test_under_immediate_tasks_the_page_answers_as_when_it_drew_inline(client_for, world):
    response = ask(client_for(world["supervisor"]), world["contract"].id, seed="立即")
    draw = db.session.execute(select(SamplingDraw)).scalar_one()
    assert response.headers["Location"].endswith(f"/draws/{draw.id}")
    job = db.session.execute(select(ExportJob)).scalar_one()
    assert (job.status, job.result["draws"]) == ("done", [draw.id])
