"""Export commands: the annual audit bundle, its verification, the OCDS release package."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from ..clock import county_today, format_county_time
from ..extensions import db
from ..models import User
from ..services.audit import Actor, record_event, reset_actor, set_actor


def _exporting_user(username: str | None) -> User | None:
    if username is None:
        return None
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active:
        raise click.ClickException(f"用户“{username}”不存在或已停用")
    return user


def _atomic_target(out: str) -> Path:
    """A temporary file beside `out`, renamed onto it once complete (no half-written file at `out`)."""
    target = Path(out).resolve()
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    return Path(temporary)


def register(app: Flask) -> None:
    @app.cli.command("export-audit")
    @click.option("--year", type=int, required=True, help="the year to export, e.g. 2025")
    @click.option("--out", type=click.Path(dir_okay=False), required=True, help="the .zip file to write")
    @click.option("--full", is_flag=True, help="unmasked ID numbers and phones (an admin only: give --as-user)")
    @click.option("--as-user", "username", default=None, help="who exports (recorded in the audit log)")
    @click.option("--county", "county_codes", multiple=True,
                  help="a county's bundle: its area code (e.g. 360704), repeatable; default every county and the city chain")
    def export_audit(year: int, out: str, full: bool, username: str | None, county_codes: tuple[str, ...]) -> None:
        """Write the year's audit bundle: records (.xlsx, .csv), charts, reports, audit log, SHA-256 manifest."""
        from ..exports.bundle import BundleRefused, build_audit_bundle, consistent_snapshot, record_export
        from ..services.areas import area_by_code

        user = _exporting_user(username)
        if full and user is None:
            raise click.ClickException("导出含完整个人信息的审计包须用 --as-user 指明一名系统管理员")
        county_ids = None
        if county_codes:
            areas = [area_by_code(code.strip()) for code in county_codes]
            unknown = [code for code, area in zip(county_codes, areas, strict=True) if area is None]
            if unknown:
                raise click.ClickException(f"没有代码为 {'、'.join(unknown)} 的区县")
            county_ids = [area.id for area in areas]
        token = set_actor(Actor(user.id, user.username) if user else Actor(None, "cli"))
        temporary = _atomic_target(out)
        try:
            with consistent_snapshot():
                result = build_audit_bundle(year, temporary, full=full, exported_by=user, county_ids=county_ids)
            os.replace(temporary, out)
            result.path = out
            record_export(result)
            db.session.commit()
        except BundleRefused as error:
            raise click.ClickException(str(error)) from None
        finally:
            temporary.unlink(missing_ok=True)
            reset_actor(token)
        rows = sum(entry.rows or 0 for entry in result.files if entry.path.endswith(".csv"))
        click.echo(f"已写入 {out}：{len(result.files)} 个文件，{rows} 行记录，审计日志 {result.audit_events} 条，"
                   f"个人信息{'未脱敏' if full else '已脱敏'}")
        if result.county_ids is not None:
            click.echo(f"范围：{result.counties} 的记录和审计链（市级审计链不在包中）")
        click.echo(f"整包摘要 bundle_sha256：{result.bundle_sha256}")
        click.echo(f"zip 文件 SHA-256：{result.zip_sha256}（已记入审计日志）")

    @app.cli.command("verify-bundle")
    @click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
    def verify_bundle_command(bundle: str) -> None:
        """Check an audit bundle (the whole database's or a county's): every file's SHA-256, none
        missing or extra, the audit log's hash chains, its anchor and root."""
        from ..adapters.files import uploads_store
        from ..exports.bundle import registration, stored_attachment_problems, stored_media_problems, verify_bundle

        found = verify_bundle(bundle)
        event, problem = registration(found) if found.ok else (None, None)
        if problem:
            found.problems.append(problem)
        if found.ok and found.legacy_format and event is None:
            found.problems.append("旧格式的审计包没有锚点，须在本系统的审计日志中有导出登记才能确认未被改动，但没有找到")
        if event is not None:  # exported here: the files it lists must still be in the store
            found.problems += stored_attachment_problems(found.attachments, uploads_store())
            found.problems += stored_media_problems(found.media, uploads_store())
        if not found.ok:
            for problem in found.problems:
                click.echo(f"校验失败：{problem}", err=True)
            sys.exit(1)
        click.echo(f"审计包完整：{found.files_checked} 个文件的 SHA-256 与清单一致，"
                   f"审计日志 {found.events_checked} 条事件的哈希链完整，清单所列附件 {len(found.attachments)} 个、"
                   f"APP照片与签名 {len(found.media)} 个")
        if found.county_ids is not None:
            click.echo(f"范围：{found.counties} 的记录和审计链，各链自起点完整，链头与锚点所列一致；"
                       "锚点列出全部审计链的链头，根哈希由其算出（市级审计链不在包中）")
        if found.anchor is not None:
            click.echo(f"锚点：{found.anchor.describe()}，签名有效（密钥 {found.anchor.key_id}）；"
                       f"与本系统此前的 {found.instance_anchors} 个锚点一致")
        if event is None:
            click.echo("注意：本系统审计日志中没有该包的导出登记（包可能由其他系统导出）")
        else:
            click.echo(f"导出登记：审计日志事件 #{event.id}，{event.actor}，{format_county_time(event.occurred_at, '%Y-%m-%d %H:%M:%S', labelled=True)}，"
                       "zip 文件与导出时一致")

    @app.cli.command("export-ocds")
    @click.option("--year", type=int, required=True, help="the year to publish, e.g. 2025")
    @click.option("--out", type=click.Path(dir_okay=False), required=True, help="the .json file to write")
    def export_ocds(year: int, out: str) -> None:
        """Write the year's OCDS 1.1 release package (validated against the schema, no personal data)."""
        from ..exports.ocds import InvalidPackage, NothingToPublish, build_package, package_json

        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        try:
            package = build_package(year, f"{base}/exports/ocds/{year}.json", today=county_today())
        except NothingToPublish as error:
            raise click.ClickException(str(error)) from None
        except InvalidPackage as error:
            for problem in error.errors:
                click.echo(f"模式校验失败：{problem}", err=True)
            sys.exit(1)
        Path(out).write_text(package_json(package), encoding="utf-8")
        record_event("export", "OcdsPackage", year, {"releases": len(package["releases"])})
        db.session.commit()
        click.echo(f"已写入 {out}：{len(package['releases'])} 个合同的 OCDS 1.1 发布包，已通过模式校验")
