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
    @click.option("--county", "county_code", default=None,
                  help="the county's GB/T 2260 code (default: the install's county, COUNTY_CODE)")
    @click.option("--as", "username", default=None, help="the admin the versions are recorded as made by")
    def import_standards_command(path: Path, county_code: str | None, username: str | None) -> None:
        """Import a county's local standards from an .xlsx or .csv (the page's template): each row
        a new version of its year. A file with any error imports nothing and lists row, column and reason."""
        from ..adapters.tables.reading import UnreadableFile, read_table
        from ..domain.local_standards import SheetRejected
        from ..models import User
        from ..domain.vocabulary import AreaLevel
        from ..services.areas import area_by_code, home_county
        from ..services.audit import acting_as
        from ..services.standards import import_sheet

        county = area_by_code(county_code) if county_code else home_county()
        if county is None or county.level != AreaLevel.COUNTY:
            raise click.ClickException(f"“{county_code}”不是已登记的县（区）区划代码")
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
                    versions = import_sheet(county.id, headers, rows, user)
            else:
                versions = import_sheet(county.id, headers, rows, None)
        except SheetRejected as rejected:
            db.session.rollback()
            for error in rejected.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(f"文件有 {len(rejected.errors)} 处错误，未导入任何内容") from None
        db.session.commit()
        for version in versions:
            click.echo(f"已导入{county.name} {version.standard.year} 年地方标准第 {version.number} 版，"
                       f"自 {version.effective_from} 起执行")
