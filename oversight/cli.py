"""Command-line interface, registered on the app: `flask --app app <command>`."""
from __future__ import annotations

import click
from flask import Flask

from .commands import areas as area_commands
from .commands import audit as audit_commands
from .commands import checks as check_commands
from .commands import exports as export_commands
from .commands import logs as log_commands
from .commands import notifications as notification_commands
from .commands import ops as ops_commands
from .commands import performance as performance_commands
from .commands import standards as standard_commands
from .extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db() -> None:
        """Bring the database to the newest schema (runs the Alembic migrations)."""
        from flask_migrate import upgrade

        upgrade()
        click.echo("数据库已升级到最新结构")

    @app.cli.command("create-user")
    @click.option("--username", required=True)
    @click.option("--password", required=True, help="at least 8 characters")
    @click.option("--role", type=click.Choice(["admin", "supervisor", "contractor", "auditor", "field_worker"]),
                  required=True)
    @click.option("--name", "display_name", default=None, help="display name (defaults to the username)")
    @click.option("--contractor-id", type=int, default=None)
    @click.option("--field-worker-id", type=int, default=None, help="the registered worker of a field_worker account")
    @click.option("--area", "area_code", default=None,
                  help="code of the county, city or province a bureau user is scoped to (default: COUNTY_CODE)")
    def create_user_command(username, password, role, display_name, contractor_id, field_worker_id,
                            area_code) -> None:
        """Create a user account."""
        from .services.accounts import AccountError, create_user
        from .services.areas import area_by_code

        area = area_by_code(area_code) if area_code else None
        if area_code and area is None:
            raise click.ClickException(f"没有区划代码为 {area_code} 的区域")
        try:
            create_user(username, password, role, display_name or username, contractor_id, field_worker_id,
                        area.id if area else None)
        except AccountError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(f"已创建用户 {username}")

    area_commands.register(app)
    audit_commands.register(app)
    check_commands.register(app)
    ops_commands.register(app)
    performance_commands.register(app)
    export_commands.register(app)
    log_commands.register(app)
    notification_commands.register(app)
    standard_commands.register(app)
    from seeds.demo import register as register_seed_commands

    register_seed_commands(app)
