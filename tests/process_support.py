"""Running the app's commands in processes of their own against the test run's database."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def subprocess_env(app, tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a command that uses `app`'s database (its PostgreSQL schema too);
    `settings` are extra OVERSIGHT_<NAME> values."""
    env = {**os.environ, "OVERSIGHT_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x"}
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    schema = app.config.get("TEST_SCHEMA")
    env["DATABASE_URL"] = f"{url}?options=-csearch_path%3D{schema}%20-crole%3D{app.config['TEST_ROLE']}" if schema else url
    env.update({f"OVERSIGHT_{name}": value for name, value in settings.items()})
    return env


def flask(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    """`flask --app app ARGS…` started, its output (stdout and stderr) piped unless `kwargs` say otherwise."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True, **kwargs}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, **options)
