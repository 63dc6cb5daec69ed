"""`flask template` and `flask import-log`: the completion-log template and import of the upload page."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from ..adapters.files import FileStoreError
from ..adapters.tables.marked import unlisted_note
from ..clock import county_today
from ..domain.vocabulary import ServiceType, label_of
from ..extensions import db
from ..models import CompletionRecord, Contract, User
from ..services.completion_import import ImportRefused, import_file, skipped_note
from ..services.completion_records import log_template

_SERVICE_OPTION = click.Choice(ServiceType.codes())


def _contract(code: str) -> Contract:
    contract = db.session.execute(select(Contract).where(Contract.code == code)).scalar_one_or_none()
    if contract is None:
        raise click.BadParameter(f"合同 {code} 不存在", param_hint="--contract")
    return contract


def _user(username: str | None) -> User | None:
    if username is None:
        return None
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.BadParameter(f"用户 {username} 不存在", param_hint="--user")
    return user


def register(app: Flask) -> None:
    @app.cli.command("template")
    @click.option("--contract", "contract_code", required=True, help="contract code")
    @click.option("--service-type", type=_SERVICE_OPTION, required=True)
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="the .xlsx to write")
    @click.option("--prefill", is_flag=True, help="one row per open assignment: number, name, full ID number (audited)")
    def template_command(contract_code, service_type, out, prefill):
        """Write the completion-log template of one service of a contract, with drop-down lists."""
        try:
            data = log_template(_contract(contract_code), service_type, None, prefill=prefill)
        except ImportRefused as error:
            raise click.BadParameter(str(error), param_hint="--service-type") from None
        db.session.commit()
        out.write_bytes(data)
        click.echo(f"已写出{label_of(ServiceType, service_type)}服务记录模板：{out}")

    @app.cli.command("import-log")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--contract", "contract_code", required=True, help="contract code")
    @click.option("--service-type", type=_SERVICE_OPTION, default=None,
                  help="the log's service (needed when the contract covers several)")
    @click.option("--user", "username", default=None, help="upload as this user (a contractor: its own contracts only)")
    @click.option("--json", "as_json", is_flag=True,
                  help='print {"status", "batch_id", "rows", "errors": [{"row", "column", "value", "reason"}], "message"}'
                       ' (and "skipped_rows" when rows held only the prefilled columns, "unlisted_errors"'
                       ' when more errors were found than listed)')
    def import_log_command(file, contract_code, service_type, username, as_json):
        """Import a completion log (.xlsx or .csv) whole or not at all, as the upload page does.

        Exit status: 0 accepted, 1 rejected (every bad cell listed), 2 the file cannot be read
        (or the import failed; nothing was saved).
        """
        contract = _contract(contract_code)
        if service_type is None:
            if len(contract.service_types) != 1:
                raise click.BadParameter("合同包含多项服务，请指定服务类型", param_hint="--service-type")
            service_type = contract.service_types[0]
        try:
            result = import_file(contract, service_type, file, _user(username), county_today())
        except ImportRefused as error:
            raise click.BadParameter(str(error)) from None
        except FileStoreError as error:
            click.echo(f"未导入：{error}", err=True)
            sys.exit(2)
        batch = result.batch
        if as_json:
            click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        elif batch.status == "accepted":
            flagged = db.session.execute(select(func.count()).select_from(CompletionRecord).where(
                CompletionRecord.batch_id == batch.id, CompletionRecord.flagged)).scalar_one()
            click.echo(f"已导入 {batch.rows_accepted} 条服务记录（批次 #{batch.id}，其中 {flagged} 条有异常标记）")
            if note := skipped_note(batch):
                click.echo(note)
        else:
            click.echo(f"未导入（批次 #{batch.id}）：{batch.message}", err=True)
            if note := skipped_note(batch):
                click.echo(note, err=True)
            for error in result.errors:
                click.echo(f"第{error.row}行 {error.column or '（整行）'}「{error.value}」：{error.reason}", err=True)
            if result.unlisted:
                click.echo(unlisted_note(result.unlisted), err=True)
        sys.exit({"accepted": 0, "rejected": 1}.get(batch.status, 2))
