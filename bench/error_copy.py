"""The marked error copy of a 100,000-row log: our OOXML writer against XlsxWriter's
`constant_memory` mode, on the same file and the same errors.

    .venv/bin/python bench/error_copy.py [--rows 100000] [--repeat 3]

Builds a household-survey log (the template's 22 columns, distinct text) as CSV with a bad
cell in every tenth row, and its errors; then, each in a fresh process (so that the peak is the
writer's own), `marked.error_workbook` (our writer: the cells as inline strings, column by
column) and the same copy written cell by cell with XlsxWriter in `constant_memory` mode
(reading, marks and neutralising shared). Prints the best seconds of --repeat runs and the peak
resident memory of each process, and checks that both copies read back to the same cells.
"""
from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(folder: Path, rows: int) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    from oversight.domain.completion_log import TEMPLATE_COLUMNS

    headers = [column.header for column in TEMPLATE_COLUMNS["household_survey"]]
    index = np.arange(rows)
    log = pd.DataFrame({header: pd.Series(index * 7 + position).astype(str).radd(f"{header[:2]}-")
                        for position, header in enumerate(headers)})
    path = folder / "log.csv"
    log.to_csv(path, index=False)
    bad = index[index % 10 == 0]
    errors = [{"row": int(row) + 2, "column": headers[int(row) % len(headers)], "value": "x", "reason": "应为数字"}
              for row in bad]
    errors += [{"row": int(row) + 2, "column": headers[3], "value": "x", "reason": "日期格式无法识别"} for row in bad]
    listed = folder / "errors.json"
    listed.write_text(json.dumps(errors, ensure_ascii=False))
    return path, listed


def xlsxwriter_copy(data: bytes, filename: str, errors) -> bytes:
    """The same copy as `write_marked_copy`, written cell by cell by XlsxWriter."""
    import xlsxwriter

    from oversight.adapters.tables.formulas import neutralize_cell
    from oversight.adapters.tables.marked import HIGHLIGHT_RGB, cell_marks
    from oversight.adapters.tables.reading import open_grid

    grid = open_grid(data, filename)
    marks = cell_marks(grid, errors)
    notes = {**marks.texts, marks.header_row: marks.title}
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet("Sheet1")
    red, bold = book.add_format({"bg_color": f"#{HIGHLIGHT_RGB[2:]}"}), book.add_format({"bold": True})
    sheet.set_column(marks.reason_column, marks.reason_column, 60)
    for chunk in grid.chunks:
        for row, values in zip(chunk.index.tolist(), chunk.itertuples(index=False, name=None)):
            bad = marks.cells.get(row, ())
            for position, value in enumerate(values):
                if value != "" or position in bad:
                    sheet.write_string(row - 1, position, neutralize_cell(value), red if position in bad else None)
            if row in notes:
                sheet.write_string(row - 1, marks.reason_column, neutralize_cell(notes[row]),
                                   bold if row == marks.header_row else None)
    book.close()
    return out.getvalue()


def measure(writer: str, path: str, listed: str, out: str) -> dict:
    from oversight.adapters.tables.cells import CellError
    from oversight.adapters.tables.marked import error_workbook

    data = Path(path).read_bytes()
    errors = [CellError(**error) for error in json.loads(Path(listed).read_text())]
    began = time.perf_counter()
    copy = (error_workbook(data, "log.csv", errors) if writer == "ours"
            else xlsxwriter_copy(data, "log.csv", errors))
    seconds = time.perf_counter() - began
    Path(out).write_bytes(copy)
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "size_mb": len(copy) / 2**20}


def same_cells(first: str, second: str) -> bool:
    import python_calamine

    def cells(path: str) -> list:
        return python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()

    return cells(first) == cells(second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--step", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(measure(*args.step)))
        return
    with tempfile.TemporaryDirectory(prefix="oversight-error-copy-") as work:
        folder = Path(work)
        path, listed = build(folder, args.rows)
        print(f"{args.rows:,} rows × 22 columns CSV ({path.stat().st_size / 2**20:.1f} MB), "
              f"{len(json.loads(listed.read_text())):,} errors; best of {args.repeat}, each run in a fresh process")
        outputs = {}
        for writer in ("ours", "xlsxwriter"):
            outputs[writer] = str(folder / f"{writer}.xlsx")
            runs = [json.loads(subprocess.run([sys.executable, __file__, "--step", writer, str(path), str(listed),
                                               outputs[writer]], check=True, capture_output=True,
                                              text=True).stdout) for _ in range(args.repeat)]
            best = min(runs, key=lambda run: run["seconds"])
            print(f"  {writer:11} {best['seconds']:6.2f} s   peak memory {max(r['peak_mb'] for r in runs):5.0f} MB   "
                  f"copy {best['size_mb']:.1f} MB")
        print("  both copies hold the same cells:", same_cells(outputs["ours"], outputs["xlsxwriter"]))


if __name__ == "__main__":
    main()
