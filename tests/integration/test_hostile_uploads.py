"""Hostile uploads through the real import path (`flask import-log`, default limits) in a
process whose address space is capped at IMPORT_ADDRESS_SPACE_BOUND: each ends with a refusal
in Chinese and nothing stored, never a crash."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from oversight.adapters.tables.reading import IMPORT_ADDRESS_SPACE_BOUND
from oversight.domain.completion_log import TEMPLATE_COLUMNS
from oversight.extensions import db
from oversight.models import CompletionRecord, UploadBatch
from tests import hostile_files
from tests.completion_support import SURVEY, world  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
HEADERS = [column.header for column in TEMPLATE_COLUMNS[SURVEY]]
BEYOND = "超出了可读取的范围"
TOO_LARGE = "文件解压后超过 200 MB 的上限"
ERRORS_PER_BAD_ROW = 19  # "?" in every cell: all but the two names (compared only once found) and 备注

HOSTILE = {
    # name: (the file, exit status, what the message says)
    "far_cell.xlsx": (lambda: hostile_files.far_cell_xlsx(HEADERS), 2, f"工作表在 XFD1048576 单元格还有内容，{BEYOND}"),
    "zip_bomb.xlsx": (lambda: hostile_files.zip_bomb_xlsx(HEADERS, 1 << 30), 2, TOO_LARGE),
    "lying_sizes.xlsx": (lambda: hostile_files.lying_sizes(hostile_files.zip_bomb_xlsx(HEADERS, 300 << 20),
                                                           "xl/worksheets/sheet1.xml"), 2, TOO_LARGE),
    "billion_laughs.xlsx": (lambda: hostile_files.billion_laughs_xlsx(HEADERS), 2, "文档类型声明（DTD）"),
    "positionless_row.xlsx": (lambda: hostile_files.positionless_wide_xlsx(HEADERS), 2, BEYOND),
    "shared_string_amplifier.xlsx": (lambda: hostile_files.shared_string_amplifier_xlsx(HEADERS), 2, TOO_LARGE),
    "nul_bytes.csv": (lambda: hostile_files.nul_csv(HEADERS), 2, "文件中含有空字符（NUL）"),
}


def database_url(app) -> str:
    """The test database as a URL another process can open (a PostgreSQL run's own schema too)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    schema = app.config.get("TEST_SCHEMA")
    return f"{url}?options=-csearch_path%3D{schema}%20-crole%3D{app.config['TEST_ROLE']}" if schema else url


def import_within_bound(app, folder: Path, path: Path, contract_code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url(app), "OVERSIGHT_INSTANCE_PATH": str(folder / "instance"),
           "SECRET_KEY": "hostile-upload-test"}
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "limited_cli.py"), str(IMPORT_ADDRESS_SPACE_BOUND), "import-log",
         str(path), "--contract", contract_code, "--service-type", SURVEY, "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def refused(app, world, folder: Path, name: str, data: bytes, status: int) -> dict:
    """Import the file within the bound; assert it ended as `status` with nothing stored."""
    path = folder / name
    path.write_bytes(data)
    db.session.commit()
    done = import_within_bound(app, folder, path, world.contract.code)
    assert done.returncode == status, done.stderr[-2000:]
    assert re.search(r"peaks: VmPeak=\d+", done.stderr)
    answer = json.loads(done.stdout)
    batch = db.session.execute(select(UploadBatch)).scalar_one()
    assert batch.status == answer["status"] == ("rejected" if status == 1 else "failed")
    assert db.session.execute(select(func.count()).select_from(CompletionRecord)).scalar_one() == 0
    return answer


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_in_chinese_within_the_memory_bound(app, world, tmp_path, name):
    build, status, said = HOSTILE[name]
    assert said in refused(app, world, tmp_path, name, build(), status)["message"]


def test_an_all_bad_file_lists_the_first_errors_and_counts_the_others_within_the_bound(app, world, tmp_path):
    answer = refused(app, world, tmp_path, "all_bad.csv", hostile_files.all_bad_csv(HEADERS, 100_000), 1)
    assert answer["message"] == "文件有 1,900,000 处错误，未保存任何数据"
    assert len(answer["errors"]) == app.config["UPLOAD_MAX_ERRORS"] == 10_000
    assert answer["unlisted_errors"] == 100_000 * ERRORS_PER_BAD_ROW - 10_000
    assert answer["errors"][0] == {"row": 2, "column": "任务编号", "value": "?", "reason": "本合同中没有该任务编号"}
    assert {error["row"] for error in answer["errors"]} == set(range(2, 2 + -(-10_000 // ERRORS_PER_BAD_ROW)))
    report = tmp_path / "instance" / "uploads" / "logs" / "errors" / f"{answer['batch_id']}.xlsx"
    title = next(load_workbook(report, read_only=True).active.iter_rows(max_row=1, values_only=True))[-1]
    assert title == "错误原因（另有 1,890,000 处错误未列出，请改正以上错误后重新上传再查看）"
