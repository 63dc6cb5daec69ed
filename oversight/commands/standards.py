"""Local standards from a sheet: `flask import-standards FILE`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from ..extensions import db


def register(app: Flask) -> None:
    @app.cli.command("import-standards")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--as", "username", default=None, help="the admin the versions are recorded as made by")
    def import_standards_command(path: Path, username: str | None) -> None:
        """Import local standards from an .xlsx or .csv (the page's template): each row a new
        version of its year. A file with any error imports nothing and lists row, column and reason."""
        from ..adapters.tables.reading import UnreadableFile, read_table
        from ..domain.local_standards import SheetRejected
        from ..models import User
        from ..services.audit import acting_as
        from ..services.standards import import_sheet

        user = None
        if username:
            user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if user is None or user.role != "admin":
                raise click.ClickException(f"“{username}”不是系统管理员账号")
        try:
            table = read_table(path.read_bytes(), path.name)
        except UnreadableFile as error:
            raise click.ClickException(f"无法读取文件：{error}") from None
        headers = [str(header) for header in table.columns]
        rows = [(int(number), {header: str(value) for header, value in zip(headers, values)})
                for number, values in zip(table.index, table.itertuples(index=False))]
        try:
            if user is not None:
                with acting_as(user.id, user.username):
                    versions = import_sheet(headers, rows, user)
            else:
                versions = import_sheet(headers, rows, None)
        except SheetRejected as rejected:
            db.session.rollback()
            for error in rejected.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(f"文件有 {len(rejected.errors)} 处错误，未导入任何内容") from None
        db.session.commit()
        for version in versions:
            click.echo(f"已导入 {version.standard.year} 年地方标准第 {version.number} 版，自 {version.effective_from} 起执行")
