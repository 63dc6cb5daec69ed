"""`flask load-areas FILE`: a county's townships and villages (区划代码, 名称) from a file;
`flask load-area-outlines FILE`: their outlines from a GeoJSON FeatureCollection."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from ..extensions import db


def register(app: Flask) -> None:
    @app.cli.command("load-areas")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def load_areas_command(file: Path) -> None:
        """Load townships and villages from an .xlsx or .csv with columns 区划代码, 名称 (all rows or none)."""
        from ..services.areas import AreaFileRefused, load_areas
        from ..services.audit import record_event

        try:
            added, renamed = load_areas(file.read_bytes(), file.name)
        except AreaFileRefused as refused:
            db.session.rollback()
            lines = [str(refused), *(str(error) for error in refused.errors)]
            raise click.ClickException("\n".join(lines)) from None
        record_event("import", "Area", None, {"filename": file.name, "added": added, "renamed": renamed})
        db.session.commit()
        click.echo(f"已导入区划：新增 {added} 个，更名 {renamed} 个")

    @app.cli.command("load-area-outlines")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def load_area_outlines_command(file: Path) -> None:
        """Load township (or county) outlines from a GeoJSON FeatureCollection, each feature's
        properties naming its area by `code` or `区划代码` (all features or none)."""
        from ..services.areas import AreaFileRefused, load_outlines
        from ..services.audit import record_event

        try:
            stored = load_outlines(file.read_bytes())
        except AreaFileRefused as refused:
            db.session.rollback()
            lines = [str(refused), *(str(error) for error in refused.errors)]
            raise click.ClickException("\n".join(lines)) from None
        record_event("import", "Area", None, {"filename": file.name, "outlined": stored})
        db.session.commit()
        click.echo(f"已导入乡镇边界 {stored} 个")
