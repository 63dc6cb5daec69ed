"""Demo data: a realistic, deterministic county (filled in below)."""
import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--scale", type=click.Choice(["small", "county", "city"]), default="county")
    @click.option("--seed", type=int, default=20240401)
    @click.option("--json", "as_json", is_flag=True)
    def seed_demo(scale, seed, as_json):
        """Build the demo county."""
        raise click.ClickException("not yet")
