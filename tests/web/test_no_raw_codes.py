"""No stored code and no Python repr reaches a person: every page of the demo, as every role, and
the files its pages offer (review sheets, annual reports, the audit bundle's tables, templates).

Two crawls. One starts at the dashboard and follows every same-site link breadth-first, at most
`URLS_PER_ENDPOINT` distinct URLs per endpoint. The other takes every GET route of the url_map and
fills its path arguments from demo rows the role may see (a contractor: its own contracts' rows),
so that a page no link leads to is read too. What is checked is what a person reads: text
nodes and the title, placeholder and alt attributes of a page (not scripts, URLs or option
values), every cell of a CSV or xlsx file, every paragraph and table cell of a docx. A page's
`<code>` elements show identifiers on purpose (a command, a job's name, an audit event's field
and its JSON detail), and the audit bundle's "(JSON)" columns hold the machine-readable detail a
draw or a score is re-computed from: there codes may stand, Python reprs still may not.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter, deque
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import docx
import openpyxl
import pytest
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing.converters import AnyConverter

from oversight.domain.vocabulary import ImportKind, ServiceType, VerificationKind, vocabularies
from oversight.exports.bundle import JSON_COLUMN
from oversight.extensions import db
from oversight.models import (
    AnnualEvaluation,
    Appeal,
    Assignment,
    Attachment,
    Callback,
    CompletionRecord,
    ConditionReport,
    Contract,
    Contractor,
    ContractAcceptance,
    CorrectionRequest,
    DrawItem,
    EvidenceFlag,
    ExportJob,
    FieldWorker,
    ProcurementProject,
    QuarterlyReview,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
    Subject,
    TenderEvaluator,
    UploadBatch,
    User,
    VerificationImport,
)
from oversight.adapters.files import uploads_store
from oversight.clock import local_day
from oversight.services.accounts import create_user
from oversight.services.areas import ensure_area
from oversight.services.appeals import appealable_checks, file_appeal
from oversight.services.attachments import Upload
from oversight.services.draws import SPOT_CHECK
from oversight.services.kpi_evidence import RECORD_KINDS
from oversight.services.spot_checks import add_attachments
from tests.attachment_support import JPEG
from seeds.demo import build_demo
from tests.conftest import Client
from tests.exports_support import ask_for_bundle
from tests.demo_support import Databases

# Late enough in May that the past year has its annual evaluation and the first quarter its review.
TODAY = date(2026, 5, 20)
URLS_PER_ENDPOINT = 3
ROLES = {"admin": "admin", "supervisor": "supervisor", "auditor": "auditor", "contractor": "renhe",
         "field_worker": "renhe-w1"}
CITY_SUPERVISOR = "city-supervisor"  # only the route test logs it in
SKIPPED_ENDPOINTS = {"auth.logout", "static"}
# The REST API answers bearer tokens, not sessions (401 here): tests/web/test_api*.py read it.
SKIPPED_BLUEPRINTS = ("api.",)
# Formats meant for machines, by design: the OCDS standard's own codes, charts, the progress poll.
NOT_READ = ("application/json", "image/")

# A hyphen joins words too: "seed-demo" (the demo actor) is not the code "seed".
_CODE_CHARACTERS = "A-Za-z0-9_-"
# A path or address shown as text (a notice's link in the audit log, "链接：/spot-checks/…" in its
# export, a stored file's key) is not a code.
URL = re.compile(r"https?://\S+|(?<![^\s：])/[\w\-./?=&%]*|(?<![\w/])[\w-]+(?:/[\w.-]+){2,}")
PYTHON_REPR = re.compile(r"\{'|\['|\b(?:None|True|False)\b|Decimal\(|datetime\.|<oversight\.|object at 0x")


def known_codes() -> set[str]:
    """Every code of the vocabularies that is not already the Chinese word it stands for."""
    return {member.value for vocabulary in vocabularies() for member in vocabulary if member.value != member.label}


class VisibleText(HTMLParser):
    """The text a person sees on a page, and the same-site links it offers."""

    SKIPPED = {"script", "style"}
    READ_ATTRIBUTES = ("title", "placeholder", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.code_texts: list[str] = []
        self.links: list[str] = []
        self._skipping = 0
        self._in_code = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.SKIPPED:
            self._skipping += 1
        if tag == "code":
            self._in_code += 1
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        self.texts.extend(attributes[name] for name in self.READ_ATTRIBUTES if attributes.get(name))
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.texts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self._skipping:
            self._skipping -= 1
        if tag == "code" and self._in_code:
            self._in_code -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            (self.code_texts if self._in_code else self.texts).append(data)


class Finder:
    """Raw codes and Python reprs in pieces of visible text, as "where: what «context»" lines."""

    def __init__(self, codes: set[str], names: set[str]):
        alternatives = "|".join(sorted((re.escape(code) for code in codes), key=len, reverse=True))
        self._codes = re.compile(rf"(?<![{_CODE_CHARACTERS}])(?:{alternatives})(?![{_CODE_CHARACTERS}])")
        # Log-in names are what people chose, shown as such (the audit log's 操作人, the user list).
        self._names = re.compile(rf"(?<![{_CODE_CHARACTERS}])(?:{'|'.join(map(re.escape, names))})"
                                 rf"(?![{_CODE_CHARACTERS}])")
        self.problems: list[str] = []

    def check(self, where: str, texts, *, codes: bool = True) -> None:
        for text in texts:
            text = URL.sub("", self._names.sub("", str(text)))
            for pattern, kind in ((self._codes, "code"), (PYTHON_REPR, "repr"))[0 if codes else 1:]:
                for match in pattern.finditer(text):
                    context = text[max(0, match.start() - 30):match.end() + 30].replace("\n", " ")
                    self.problems.append(f"{where}: {kind} {match.group(0)!r} in «{context}»")


def readable_cells(rows) -> list[str]:
    """The cells of a table but those of the columns the audit bundle marks as JSON detail."""
    rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
    if not rows:
        return []
    shown = [index for index, header in enumerate(rows[0]) if not header.endswith(JSON_COLUMN)]
    return [row[index] for row in rows for index in shown if index < len(row)]


def csv_cells(data: bytes) -> list[str]:
    return readable_cells(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_cells(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [cell for sheet in book.worksheets for cell in readable_cells(sheet.iter_rows(values_only=True))]


def docx_texts(data: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(data))
    return [p.text for p in document.paragraphs] + [cell.text for table in document.tables
                                                    for row in table.rows for cell in row.cells]


def file_texts(name: str, content_type: str, data: bytes) -> list[tuple[str, list[str]]]:
    """(part, its texts) for each part of a downloaded file a person reads."""
    if content_type.startswith("text/csv"):
        return [(name, csv_cells(data))]
    if "spreadsheetml" in content_type:
        return [(name, xlsx_cells(data))]
    if "wordprocessingml" in content_type:
        return [(name, docx_texts(data))]
    if content_type == "application/zip":
        parts = []
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                if member.endswith(".csv"):
                    parts.append((f"{name}!{member}", csv_cells(archive.read(member))))
                elif member.endswith(".xlsx"):
                    parts.append((f"{name}!{member}", xlsx_cells(archive.read(member))))
        return parts
    return []


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    databases = Databases(tmp_path_factory.mktemp("crawl"))
    folder = tmp_path_factory.mktemp("crawl-files")
    app = databases.app("crawl", REPORTS_DIR=str(folder / "reports"))
    with app.app_context():
        summary = build_demo("small", 7, TODAY)
        add_an_appeal_and_photos()
        # A supervisor scoped to the county's city, who reads the city dashboard (issue 14).
        create_user(CITY_SUPERVISOR, f"demo-{CITY_SUPERVISOR}", "supervisor", "市级监管",
                    area_id=ensure_area("360700").id)
        db.session.commit()
        db.engine.dispose()
    admin = Client(app)
    assert admin.login("admin", "demo-admin").status_code == 302
    # A job's run, so that the jobs page shows a run's summary; an audit bundle to list and download.
    assert admin.post("/admin/jobs/mark_overdue/run", token_from="/admin/jobs").status_code == 302
    assert ask_for_bundle(admin, TODAY.year - 1).status_code == 302
    yield app, summary
    databases.drop()


def add_an_appeal_and_photos() -> None:
    """What the demo does not make and some pages show: a contractor's appeal with its evidence,
    and a photo on a spot check."""
    contractor = db.session.execute(select(User).where(User.username == ROLES["contractor"])).scalar_one()
    supervisor = db.session.execute(select(User).where(User.username == ROLES["supervisor"])).scalar_one()
    failed = db.session.execute(appealable_checks(select(Contract.id).where(
        Contract.contractor_id == contractor.contractor_id))).scalars()
    first, second = next(failed), next(failed)
    file_appeal(first, contractor, "复检当日服务对象外出，由邻居代答", local_day(first.created_at),
                uploads=[Upload("情况说明.jpg", JPEG)])
    add_attachments(second, [Upload("入户照片.jpg", JPEG)], uploads_store(), supervisor)
    db.session.commit()


def crawl(app, client: Client, finder: Finder, role: str) -> Counter:
    """Visit every page reachable from the dashboard; returns the number of URLs per endpoint."""
    adapter = app.url_map.bind("localhost")
    seen_urls, per_endpoint = set(), Counter()
    queue = deque(["/dashboard"])
    while queue:
        url = queue.popleft()
        if url in seen_urls:
            continue
        seen_urls.add(url)
        parts = urlsplit(url)
        try:
            endpoint, _ = adapter.match(parts.path, method="GET")
        except (NotFound, MethodNotAllowed):
            finder.problems.append(f"{role} {url}: a link to no page")
            continue
        if endpoint in SKIPPED_ENDPOINTS or per_endpoint[endpoint] >= URLS_PER_ENDPOINT:
            continue
        per_endpoint[endpoint] += 1
        response = client.get(url)
        where = f"{role} {url}"
        if response.status_code in (301, 302, 303):
            queue.append(_same_site(response.headers["Location"]) or "/dashboard")
            continue
        if response.status_code != 200:
            finder.problems.append(f"{where}: status {response.status_code}")
            continue
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("text/html"):
            page = VisibleText()
            page.feed(response.get_data(as_text=True))
            finder.check(where, page.texts)
            finder.check(where, page.code_texts, codes=False)
            queue.extend(link for link in map(_same_site, page.links) if link)
        elif not content_type.startswith(NOT_READ):
            for part, texts in file_texts(where, content_type, response.get_data()):
                finder.check(part, texts)
    return per_endpoint


def _same_site(href: str) -> str | None:
    href = urldefrag(href)[0]
    parts = urlsplit(href)
    if parts.scheme and parts.netloc != "localhost" or href.startswith("//") or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_no_page_or_download_shows_a_raw_code_or_a_python_repr(demo_app):
    app, summary = demo_app
    finder = Finder(known_codes(), {user.username for user in summary.users})
    visited = {}
    for role, username in ROLES.items():
        client = Client(app)
        assert client.login(username, f"demo-{username}").status_code == 302
        visited[role] = crawl(app, client, finder, role)
    # The crawl reached the pages it is meant to read, downloads included.
    assert {"reviews.detail", "draws.detail", "callbacks.detail", "spot_checks.notice_detail", "audit_log.index",
            "operations.jobs", "contracts.detail", "exports.review_sheet",
            "exports.evaluation_report", "exports.bundles", "exports.bundle_download"} <= set(visited["admin"])
    assert {"reviews.detail", "spot_checks.notice_detail", "exports.review_sheet"} <= set(visited["contractor"])
    assert "operations.jobs" in visited["admin"] and "notifications.index" in visited["contractor"]
    assert not finder.problems, f"{len(finder.problems)} problems:\n" + "\n".join(finder.problems[:20000])


def test_the_finder_catches_codes_and_reprs_but_not_words_or_names():
    finder = Finder({"answered", "open", "spot_check"}, {"admin"})
    finder.check("page", ["已回访", "openly", "reopen", "admin 登录", "OCDS", "Wilson 区间", "链接 /draws/?purpose=open",
                          "文件 attachments/appeal/1/e14f02c6"])
    assert finder.problems == []
    finder.check("code", ['{"status": "answered"}'], codes=False)
    assert finder.problems == []
    finder.check("page", ["状态 answered", "{'kind': 'iso2859'}", "None", "用途：spot_check", "是 True"])
    finder.check("code", ["{'status': 'answered'}"], codes=False)
    assert [problem.split(": ", 1)[1].split(" in ")[0] for problem in finder.problems] == [
        "code 'answered'", "repr \"{'\"", "repr 'None'", "code 'spot_check'", "repr 'True'", "repr \"{'\""]


def test_visible_text_leaves_out_scripts_urls_and_option_values():
    page = VisibleText()
    page.feed('<a href="/draws/?purpose=callback" title="回访">名单</a><script>var s = "answered";</script>'
              '<select><option value="open">待整改</option></select><input placeholder="如 2.5">'
              '<input type="hidden" value="draft"><code>{"kind": "share"}</code>')
    assert page.texts == ["回访", "名单", "待整改", "如 2.5"]
    assert page.code_texts == ['{"kind": "share"}']
    assert page.links == ["/draws/?purpose=callback"]


# The url_map crawl: which rows fill a path argument (`*_id`), tried in turn until one renders.
ROWS_FOR = {
    "appeal_id": Appeal, "assignment_id": Assignment, "attachment_id": Attachment, "callback_id": Callback,
    "check_id": SpotCheck, "contract_id": Contract, "contractor_id": Contractor, "draw_id": SamplingDraw,
    "evaluation_id": AnnualEvaluation, "flag_id": EvidenceFlag, "job_id": ExportJob, "import_id": VerificationImport,
    "item_id": DrawItem, "notice_id": RectificationNotice, "batch_id": UploadBatch, "record_id": CompletionRecord,
    "request_id": CorrectionRequest, "review_id": QuarterlyReview, "subject_id": Subject, "worker_id": FieldWorker,
    "project_id": ProcurementProject, "evaluator_id": TenderEvaluator,
    "acceptance_id": ContractAcceptance, "report_id": ConditionReport,
}
TRIES_PER_ROUTE = 4
# Routes no demo row fills: error reports of failed imports (every demo import succeeds); the
# root and a notification's link, which only redirect; an app visit's photos (the demo has no app
# visits: tests/web/test_field_accounts.py shows them) and so the media audit's page
# (tests/web/test_media_audit.py renders it).
UNFILLABLE = {"imports.error_report", "uploads.error_report", "verification.error_report", "dashboard.root",
              "notifications.open_link", "corrections.record_media", "draws.media"}


def _rows(model, contractor_id: int | None, limit: int) -> list:
    """Newest first, a contractor's own only (its contracts', workers', subjects' rows); first the
    rows more pages act on: assignments given to a worker, failed spot checks, drawn records not
    yet re-checked."""
    spot_check_draws = select(SamplingDraw.id).where(SamplingDraw.purpose == SPOT_CHECK)
    # Assignments given to a field worker first: the field worker's pages show only those.
    first = {Assignment: [Assignment.worker_id.is_(None)], SpotCheck: [SpotCheck.passed], DrawItem: [DrawItem.draw_id.not_in(spot_check_draws),
                                                       DrawItem.id.in_(select(SpotCheck.draw_item_id))]}
    stmt = select(model).order_by(*first.get(model, []), model.id.desc()).limit(limit)
    if contractor_id is not None:
        own = select(Contract.id).where(Contract.contractor_id == contractor_id)
        if model is Contractor:
            stmt = stmt.where(Contractor.id == contractor_id)
        elif model is FieldWorker:
            stmt = stmt.where(FieldWorker.contractor_id == contractor_id)
        elif model is Contract:
            stmt = stmt.where(Contract.contractor_id == contractor_id)
        elif model is Subject:
            stmt = stmt.where(Subject.id.in_(select(Assignment.subject_id).where(Assignment.contract_id.in_(own))))
        elif model is DrawItem:
            stmt = stmt.where(DrawItem.draw_id.in_(select(SamplingDraw.id).where(SamplingDraw.contract_id.in_(own))))
        elif hasattr(model, "contract_id"):
            stmt = stmt.where(model.contract_id.in_(own))
    return list(db.session.execute(stmt).scalars())


def _fillings(rule, contractor_id: int | None) -> list[dict]:
    """Up to TRIES_PER_ROUTE sets of values for the rule's arguments, from demo rows."""
    arguments = set(rule.arguments)
    if arguments >= {"contract_id", "quarter"}:
        base = [{"contract_id": r.contract_id, "quarter": r.quarter} for r in _rows(QuarterlyReview, contractor_id, 20)]
    elif arguments >= {"contractor_id", "worker_id"}:
        base = [{"contractor_id": w.contractor_id, "worker_id": w.id} for w in _rows(FieldWorker, contractor_id, 20)]
    elif arguments >= {"contract_id", "service_type"}:
        base = [{"contract_id": c.id, "service_type": t} for c in _rows(Contract, contractor_id, 20) for t in c.service_types]
    else:
        ids = [name for name in arguments if name in ROWS_FOR]
        base = [{}]
        for name in ids:
            base = [{**filled, name: row.id} for filled in base for row in _rows(ROWS_FOR[name], contractor_id, 20)]
    fillings = []
    for filled in base:
        for name in arguments - set(filled):
            converter = rule._converters.get(name)
            if isinstance(converter, AnyConverter):
                filled[name] = sorted(converter.items)[0]
            elif name == "key":
                filled[name] = next(iter(RECORD_KINDS))
            elif name == "kind":
                filled[name] = (ImportKind if rule.endpoint.startswith("imports.") else VerificationKind).codes()[0]
            elif name == "service_type":
                filled[name] = ServiceType.codes()[0]
            elif name == "year":
                filled[name] = TODAY.year - 1
            elif name == "county_code":  # the public notice's county: a GB/T 2260 code, not a row id
                filled[name] = "360704"
        fillings.append(filled)
    # The first two rows, then spread over the rest.
    step = max(len(fillings) // TRIES_PER_ROUTE, 1)
    return fillings[:2] + fillings[2::step][:TRIES_PER_ROUTE - 2]


def read_response(finder: Finder, where: str, response) -> None:
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("text/html"):
        page = VisibleText()
        page.feed(response.get_data(as_text=True))
        finder.check(where, page.texts)
        finder.check(where, page.code_texts, codes=False)
    elif not content_type.startswith(NOT_READ):
        for part, texts in file_texts(where, content_type, response.get_data()):
            finder.check(part, texts)


def test_every_get_route_renders_for_some_role_from_demo_rows_without_a_raw_code(demo_app):
    app, summary = demo_app
    finder = Finder(known_codes(), {user.username for user in summary.users} | {CITY_SUPERVISOR})
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint not in UNFILLABLE
             and rule.endpoint not in SKIPPED_ENDPOINTS and not rule.endpoint.startswith(SKIPPED_BLUEPRINTS)]
    rendered: dict[str, set[str]] = {}
    for role, username in {"anonymous": None, **ROLES, "city_supervisor": CITY_SUPERVISOR}.items():
        client = Client(app)
        if username is not None:
            assert client.login(username, f"demo-{username}").status_code == 302
        with app.app_context():
            contractor_id = db.session.execute(select(User.contractor_id).where(User.username == username)).scalar()
            plans = [(rule, [rule.build(filled, append_unknown=False)[1] for filled in _fillings(rule, contractor_id)])
                     for rule in rules]
        for rule, urls in plans:
            for url in urls:
                response = client.get(url)
                if response.status_code == 200:
                    read_response(finder, f"{role} {url}", response)
                    rendered.setdefault(rule.endpoint, set()).add(role)
                    break
                if response.status_code not in (302, 403, 404):
                    finder.problems.append(f"{role} {url}: status {response.status_code}")
    never = sorted(rule.endpoint for rule in rules if rule.endpoint not in rendered)
    assert not never, f"no role rendered: {never}"
    # A contractor reaches its own work through these pages.
    assert {"assignments.detail", "uploads.detail", "spot_checks.notice_detail", "reviews.detail", "corrections.history",
            "subjects.detail", "appeals.index"} <= {endpoint for endpoint, roles in rendered.items() if "contractor" in roles}
    # A field worker reaches the visits given to it, and nothing of the contractor's pages.
    assert {endpoint for endpoint, roles in rendered.items() if "field_worker" in roles} == {
        "field.index", "field.assignment", "field.manifest", "field.service_worker", "devices.index", "notifications.index", "notifications.preferences",
        "auth.change_password", "api-docs.openapi_json", "public.index", "public.year", "public.year_pdf",
        "public.county", "public.county_pdf"}
    # The public notice (公示) is read without log-in; a contractor reads its own profile.
    assert {"public.index", "public.year", "public.year_pdf", "public.county", "public.county_pdf"} <= {
        endpoint for endpoint, roles in rendered.items() if "anonymous" in roles}
    assert "contractors.profile" in {endpoint for endpoint, roles in rendered.items() if "contractor" in roles}
    assert not finder.problems, f"{len(finder.problems)} problems:\n" + "\n".join(finder.problems[:200])
