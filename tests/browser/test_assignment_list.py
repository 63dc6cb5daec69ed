from datetime import date

from playwright.sync_api import expect


def test_supervisor_logs_in_and_filters_the_assignment_list(log_in, live_server, factory, nav_to):
    contract = factory.contract(service_types=("household_survey", "care_visit"))
    in_meilin = factory.assignment(contract, factory.subject("household", township="梅林镇", name="钟桂兰"),
                                   due_date=date(2025, 6, 30))
    in_jiangkou = factory.assignment(contract, factory.subject("household", township="江口镇", name="曾凡荣"),
                                     due_date=date(2025, 6, 30))
    supervisor = factory.user("supervisor")

    page = log_in(supervisor)
    nav_to("任务")
    expect(page.locator("#assignment-table")).to_contain_text(in_meilin.number)
    expect(page.locator("#assignment-table")).to_contain_text(in_jiangkou.number)

    page.select_option("select[name=township]", "江口镇")
    page.click("#assignment-filters button[type=submit]")
    table = page.locator("#assignment-table")
    expect(table).to_contain_text("曾凡荣")
    expect(table).not_to_contain_text("钟桂兰")
    # The ID number is masked in the browser too.
    expect(table).not_to_contain_text(in_jiangkou.subject.id_number)

    page.click(f"text={in_jiangkou.number}")
    expect(page.locator("h1")).to_contain_text(in_jiangkou.number)
    expect(page.locator("main")).to_contain_text("江口镇")
