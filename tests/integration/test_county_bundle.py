"""A county's audit bundle (issue 14): asked for by a county's auditor, it holds that county's rows
and audit chain and nothing of the other county's, in any file; it verifies on its own (its chain
from the genesis, its head among the anchor's heads, the root recomputed from them); a user whose
area covers every county still gets the whole database, as before."""
from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from oversight.domain.audit_chain import to_json_value
from oversight.domain.audit_anchors import anchor_from_json, root_hash
from oversight.domain.vocabulary import AttachmentOwner
from oversight.exports import bundle
from oversight.extensions import db
from oversight.models import Area, AuditEvent, CompletionRecord, ExportJob, SpotCheck
from oversight.services.accounts import create_user
from oversight.services.areas import area_by_code
from oversight.services.attachments import Upload, attach_all
from tests.attachment_support import JPEG
from tests.exports_support import BUNDLES_PAGE, bundle_texts, download_bundle, make_review
from tests.factories import Factory
from tests.web.test_county_scope import B_CONTRACT, B_PROJECT, MARKERS, add_second_county

A_CONTRACT = "GXMZ-2026-901"
A_CONTRACTOR = "赣县区甲方社工服务中心"
A_PERSON = "甲县对象甲"
B_PHOTO = "章贡复核照片.jpg"


@pytest.fixture
def counties(factory):
    """The install's county (赣县区) with a contract, a record and a review of 2026, then the second
    county (章贡区) through the services; an auditor of each, and one of the city above both."""
    contractor = factory.contractor(A_CONTRACTOR)
    contract = factory.contract(contractor, code=A_CONTRACT, term_start=date(2026, 1, 1), term_end=date(2027, 12, 31))
    subject = factory.subject(name=A_PERSON)
    record = factory.record(factory.assignment(contract, subject, due_date=date(2026, 3, 31)),
                            service_date=date(2026, 3, 2))
    make_review(contract, "2026Q1", record_ids=(record.id,))
    b_ids = add_second_county()
    b_check = db.session.get(SpotCheck, b_ids["check_id"][0])
    [photo] = attach_all(b_check, [Upload(B_PHOTO, JPEG)], None)
    photo.uploaded_at = datetime(2026, 4, 10, 2, 0)
    db.session.commit()
    home, other = area_by_code("360704"), area_by_code("360703")
    users = {name: create_user(name, Factory.PASSWORD, "auditor", name, area_id=area.id)
             for name, area in (("gx-auditor", home), ("zg-auditor", other), ("city-auditor", db.session.get(
                 Area, home.parent_id)))}
    db.session.commit()
    return {"users": users, "b_ids": b_ids, "home": home, "other": other, "record": record}


def _download(client, year, tmp_path):
    response = download_bundle(client, year)
    assert response.status_code == 200, response.get_data(as_text=True)
    path = tmp_path / f"bundle-{year}-{len(list(tmp_path.iterdir()))}.zip"
    path.write_bytes(response.data)
    response.close()
    return path, response.headers["Content-Disposition"]


def _others(texts: dict[str, str], markers) -> list[str]:
    return [f"{name}: {marker}" for name, text in texts.items() for marker in markers
            if marker in text or marker in name]


def _chains(path) -> set:
    with zipfile.ZipFile(path) as archive:
        return {json.loads(line)["county_id"] for line in archive.read(bundle.AUDIT_JSONL).decode().splitlines()}


@pytest.mark.parametrize("year", [2026, 2027])
def test_a_countys_auditor_gets_that_countys_bundle_with_nothing_of_the_other(client_for, counties, tmp_path, year):
    home, other = counties["home"], counties["other"]
    path, disposition = _download(client_for(counties["users"]["gx-auditor"]), year, tmp_path)
    texts = bundle_texts(path, binaries=True)
    assert _others(texts, (*MARKERS, B_PHOTO, other.name)) == []
    assert bundle.SCOPE in texts and quote(f"审计包_{year}_赣县区.zip") in disposition
    assert json.loads(texts[bundle.SCOPE])["counties"] == [{"id": home.id, "code": home.code, "name": home.name}]
    assert f"{year}年度履约监管审计包（赣县区（360704））" in texts[bundle.NOTE]
    assert "市级审计链（不属于任何区县的事件）不在本包中" in texts[bundle.NOTE]
    manifest = json.loads(texts[bundle.MANIFEST])
    assert manifest["scope"]["counties"] == json.loads(texts[bundle.SCOPE])["counties"]
    if year == 2026:  # its own rows are there
        assert A_CONTRACT in texts["records/contracts.csv"] and A_PERSON in texts["records/assignments.csv"]
        assert str(counties["record"].id) in texts["records/completion_records.csv"]
        assert any(name.startswith(f"reports/reviews/{A_CONTRACT}_2026Q1") for name in texts)
    b_records = {str(record_id) for record_id in counties["b_ids"]["record_id"]}
    assert not b_records & {row.split(",")[0] for row in texts["records/completion_records.csv"].splitlines()}
    assert _chains(path) == {home.id}  # its own chain only: no other county's, no city chain
    found = bundle.verify_bundle(path)
    assert found.ok, found.problems
    assert (found.county_ids, found.counties) == ([home.id], "赣县区（360704）")
    assert found.events_checked == db.session.execute(
        select(func.count(AuditEvent.id)).where(AuditEvent.county_id == home.id,
                                                   AuditEvent.id <= manifest["audit_log"]["last_id"])).scalar()


def test_the_anchor_lists_every_chains_head_and_the_root_recomputes_from_them(client_for, counties, tmp_path):
    home, other = counties["home"], counties["other"]
    path, _ = _download(client_for(counties["users"]["gx-auditor"]), 2026, tmp_path)
    with zipfile.ZipFile(path) as archive:
        anchor = anchor_from_json(json.loads(archive.read(bundle.AUDIT_ANCHOR)))
        manifest = json.loads(archive.read(bundle.MANIFEST))
    assert {head.county_id for head in anchor.heads} == {None, home.id, other.id}
    assert anchor.root_hash == root_hash(anchor.heads)
    mine = anchor.head_of(home.id)
    assert [manifest["audit_log"]["chains"][0][key] for key in ("county_id", "last_id", "last_hash", "events")] == [
        mine.county_id, mine.last_id, mine.last_hash, mine.events]
    last = db.session.execute(select(AuditEvent).where(AuditEvent.county_id == other.id,
                                                       AuditEvent.id <= manifest["audit_log"]["last_id"])
                              .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert anchor.head_of(other.id).last_hash == last.hash  # as published: its head, not its events
    export = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).scalar_one()
    assert export.changes["counties"] == "赣县区（360704）"


def test_the_other_countys_auditor_gets_theirs_and_the_city_gets_the_whole_database(client_for, counties, tmp_path):
    other = counties["other"]
    path, disposition = _download(client_for(counties["users"]["zg-auditor"]), 2027, tmp_path)
    assert quote("审计包_2027_章贡区.zip") in disposition
    texts = bundle_texts(path, binaries=True)
    assert B_PROJECT in texts["records/procurement_projects.csv"] and A_CONTRACT not in "".join(texts.values())
    assert _chains(path) == {other.id} and bundle.verify_bundle(path).ok
    path, _ = _download(client_for(counties["users"]["zg-auditor"]), 2026, tmp_path)
    texts = bundle_texts(path, binaries=True)
    assert B_CONTRACT in texts["records/contracts.csv"] and B_PHOTO in texts["records/attachments.csv"]
    assert [item["filename"] for item in json.loads(texts[bundle.MANIFEST])["attachments"]["items"]] == [B_PHOTO]
    assert A_CONTRACT not in "".join(texts.values()) and A_PERSON not in "".join(texts.values())
    assert bundle.verify_bundle(path).ok
    whole, disposition = _download(client_for(counties["users"]["city-auditor"]), 2026, tmp_path)
    texts = bundle_texts(whole, binaries=True)
    assert quote("审计包_2026.zip") in disposition
    assert bundle.SCOPE not in texts and "scope" not in json.loads(texts[bundle.MANIFEST])
    assert B_CONTRACT in texts["records/contracts.csv"] and A_CONTRACT in texts["records/contracts.csv"]
    assert _chains(whole) == {None, counties["home"].id, other.id}
    found = bundle.verify_bundle(whole)
    assert found.ok and found.county_ids is None, found.problems
    jobs = db.session.execute(select(ExportJob).order_by(ExportJob.id)).scalars().all()
    assert [job.params for job in jobs] == [{"county_ids": [other.id]}] * 2 + [None]


def test_the_bundles_page_names_each_bundles_counties_and_only_the_asker_downloads(client_for, counties, tmp_path):
    users = counties["users"]
    client = client_for(users["gx-auditor"])
    download_bundle(client, 2026).close()
    assert "赣县区（360704）" in client.get(BUNDLES_PAGE).get_data(as_text=True)
    job = db.session.execute(select(ExportJob)).scalar_one()
    url = f"/exports/audit-bundles/{job.id}.zip"
    for other in ("zg-auditor", "city-auditor"):
        assert client_for(users[other]).get(url).status_code == 404
    users["gx-auditor"].area_id = counties["other"].id  # moved to the other county: no longer theirs
    db.session.commit()
    assert client_for(users["gx-auditor"]).get(url).status_code == 404


def test_a_county_bundle_cut_or_widened_does_not_verify(client_for, counties, tmp_path):
    home = counties["home"]
    path, _ = _download(client_for(counties["users"]["gx-auditor"]), 2026, tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members[bundle.MANIFEST])

    def rezip(target, **changed):
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
            for name, raw in {**members, **changed}.items():
                if raw is not None:
                    new.writestr(name, raw)
        return bundle.verify_bundle(target).problems

    def rehashed(files, **fields):
        files = [bundle.BundleFile(**entry) for entry in files]
        return json.dumps({**manifest, **fields, "files": [entry.__dict__ for entry in files],
                           "bundle_sha256": bundle.bundle_digest(files)}).encode()

    # Its scope dropped, file and manifest section: it reads as the whole log, whose other chains
    # (the anchor's) are missing, and the files are no longer those the anchor signed.
    unscoped = rehashed([entry for entry in manifest["files"] if entry["path"] != bundle.SCOPE], scope=None)
    problems = rezip(tmp_path / "no-scope.zip", **{bundle.SCOPE: None, bundle.MANIFEST: unscoped})
    assert "审计包的文件与其锚点所签名的摘要不符（文件或清单被改动）" in problems
    assert any("审计包的锚点中市级审计链" in problem for problem in problems), problems
    # Only the file dropped: the manifest still says the bundle is a county's.
    problems = rezip(tmp_path / "no-scope-file.zip", **{bundle.SCOPE: None})
    assert problems == [f"缺少文件：{bundle.SCOPE}", f"清单写明本包只含部分区县，但包中没有范围文件 {bundle.SCOPE}"]
    # A scope widened to the other county: its file no longer matches the manifest or the anchor.
    widened = json.loads(members[bundle.SCOPE])
    widened["counties"].append({"id": counties["other"].id, "code": "360703", "name": "章贡区"})
    problems = rezip(tmp_path / "widened.zip", **{bundle.SCOPE: json.dumps(widened).encode()})
    assert f"文件内容与清单中的 SHA-256 不符：{bundle.SCOPE}" in problems
    # The county's chain cut short (the manifest re-hashed to match): its head is not the anchor's.
    lines = members[bundle.AUDIT_JSONL].decode().splitlines()
    cut = ("\n".join(lines[:-1]) + "\n").encode()
    files = [{**entry, "sha256": hashlib.sha256(cut).hexdigest()} if entry["path"] == bundle.AUDIT_JSONL else entry
             for entry in manifest["files"]]
    log = {**manifest["audit_log"], "events": manifest["audit_log"]["events"] - 1}
    problems = rezip(tmp_path / "cut.zip", **{bundle.AUDIT_JSONL: cut, bundle.MANIFEST: rehashed(files, audit_log=log)})
    assert any("赣县区（360704）审计链" in problem and "被截断或改动" in problem for problem in problems), problems
    # Another county's event slipped in.
    theirs = db.session.execute(select(AuditEvent).where(AuditEvent.county_id == counties["other"].id)
                                .limit(1)).scalar_one()
    extra = json.dumps({"id": theirs.id, "county_id": theirs.county_id, "prev_hash": theirs.prev_hash,
                        "hash": theirs.hash, "key_id": theirs.key_id,
                        **{key: to_json_value(getattr(theirs, key)) for key in bundle._EVENT_FIELDS}})
    problems = rezip(tmp_path / "widened-log.zip", **{bundle.AUDIT_JSONL: members[bundle.AUDIT_JSONL] + extra.encode()})
    assert any(f"事件 #{theirs.id} 属于章贡区（360703）审计链，不在本包的范围" in problem for problem in problems), problems
    assert home.id != counties["other"].id


def test_export_audit_makes_a_countys_bundle_that_verify_bundle_accepts(app, counties, tmp_path):
    out = tmp_path / "zg-2026.zip"
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["export-audit", "--year", "2026", "--out", str(out), "--county", "360703"])
    assert exported.exit_code == 0, exported.output
    assert "范围：章贡区（360703） 的记录和审计链" in exported.output
    verified = runner.invoke(args=["verify-bundle", str(out)])
    assert verified.exit_code == 0, verified.output
    assert "审计包完整" in verified.output and "范围：章贡区（360703） 的记录和审计链" in verified.output
    refused = runner.invoke(args=["export-audit", "--year", "2026", "--out", str(out), "--county", "360700"])
    assert refused.exit_code != 0 and "审计包的范围须是一个或几个区县" in refused.output


def test_every_kind_of_attachment_owner_has_a_county():
    assert set(bundle.ATTACHMENT_OWNERS) == set(AttachmentOwner.codes())


def test_a_record_of_each_county_is_in_its_own_bundle_only(counties, tmp_path):
    b_record = counties["b_ids"]["record_id"][0]
    for county, mine, theirs in ((counties["home"], counties["record"].id, b_record),
                                 (counties["other"], b_record, counties["record"].id)):
        path = tmp_path / f"{county.code}.zip"
        result = bundle.build_audit_bundle(2026, path, full=False, exported_by=None, county_ids=[county.id])
        assert result.county_ids == [county.id]
        with zipfile.ZipFile(path) as archive:
            ids = {line.split(",")[0] for line in archive.read("records/completion_records.csv").decode("utf-8-sig")
                   .splitlines()[1:]}
        assert str(mine) in ids and str(theirs) not in ids
        assert db.session.get(CompletionRecord, mine).county_id == county.id
        assert bundle.verify_bundle(path).ok
