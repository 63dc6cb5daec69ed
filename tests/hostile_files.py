"""Hostile uploads, generated on demand: each is small or quick to build and would exhaust a
worker's memory (or hang it) if read naively."""
from __future__ import annotations

import io
import struct
import zipfile

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PACKAGE = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
        '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
        'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships"><sheets><sheet name="服务记录" sheetId="1" r:id="rId1"/></sheets>'
        '</workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}


def inline_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row(headers: list[str]) -> str:
    from oversight.adapters.tables.extent import column_letter

    return '<row r="1">' + "".join(inline_cell(f"{column_letter(i)}1", h) for i, h in enumerate(headers)) + "</row>"


def workbook(sheet_data: str | bytes, *, shared_strings: str | None = None, dimension: str = "A1") -> bytes:
    """A minimal .xlsx whose first sheet holds `sheet_data` (the inside of `<sheetData>`)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, xml in _PACKAGE.items():
            package.writestr(name, xml)
        if shared_strings is not None:
            package.writestr("xl/sharedStrings.xml", shared_strings)
        body = sheet_data if isinstance(sheet_data, bytes) else sheet_data.encode()
        package.writestr("xl/worksheets/sheet1.xml", b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="'
                         + _MAIN.encode() + b'"><dimension ref="' + dimension.encode() + b'"/><sheetData>'
                         + body + b"</sheetData></worksheet>")
    return out.getvalue()


def far_cell_xlsx(headers: list[str]) -> bytes:
    """About 5 KB: the headers and one number at XFD1048576 (a 512 GiB dense grid for calamine)."""
    return workbook(header_row(headers) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
                    dimension="A1:XFD1048576")


def zip_bomb_xlsx(headers: list[str], unpacked: int = 1 << 30) -> bytes:
    """A sheet of `unpacked` bytes of identical rows, deflated about 150:1."""
    row = ('<row r="2">' + inline_cell("A2", "x" * 40) + "</row>").encode()
    block = row * (1 << 20 // len(row))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, xml in _PACKAGE.items():
            package.writestr(name, xml)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=unpacked >= 1 << 31) as sheet:
            sheet.write(f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData>{header_row(headers)}'.encode())
            for _ in range(unpacked // len(block)):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def lying_sizes(data: bytes, member: str, declared: int = 1000) -> bytes:
    """`data` with `member`'s uncompressed size declared as `declared` in both of its headers
    (a member up to 4 GiB, without ZIP64 sizes)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    patched = bytearray(data)
    struct.pack_into("<L", patched, info.header_offset + 22, declared)
    entry = struct.unpack_from("<L", data, data.rindex(b"PK\x05\x06") + 16)[0]
    while struct.unpack_from("<L", data, entry + 42)[0] != info.header_offset:
        entry += 46 + sum(struct.unpack_from("<3H", data, entry + 28))
    struct.pack_into("<L", patched, entry + 24, declared)
    return bytes(patched)


def billion_laughs_xlsx(headers: list[str]) -> bytes:
    """Shared strings declaring nested entities: 10 levels of 10 make a billion "lol"s."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10))
    strings = (f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]><sst xmlns="{_MAIN}" count="1" uniqueCount="1">'
               "<si><t>&lol9;</t></si></sst>")
    return workbook(header_row(headers) + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>', shared_strings=strings)


def positionless_wide_xlsx(headers: list[str], width: int = 16_384, height: int = 1_000_000) -> bytes:
    """One row of `width` cells without references, and a value at row `height`."""
    wide = "<row>" + "<c><v>1</v></c>" * width + "</row>"
    return workbook(header_row(headers) + wide + f'<row r="{height}"><c r="A{height}"><v>1</v></c></row>')


def shared_string_amplifier_xlsx(headers: list[str], cells: int = 200_000) -> bytes:
    """One 32,000-character shared string used by `cells` cells: 6 GB of text from a few MB."""
    strings = f'<sst xmlns="{_MAIN}"><si><t>{"长" * 32_000}</t></si></sst>'
    rows = "".join(f'<row r="{row}"><c r="A{row}" t="s"><v>0</v></c><c r="B{row}" t="s"><v>0</v></c></row>'
                   for row in range(2, cells // 2 + 2))
    return workbook(header_row(headers) + rows, shared_strings=strings)


def nul_csv(headers: list[str]) -> bytes:
    """A CSV with NUL bytes past its first 4 KB (what a binary file renamed .csv looks like)."""
    return (",".join(headers) + "\n" + "a,b\n" * 2000).encode() + b"\x00\x00binary\x00" * 100


def all_bad_csv(headers: list[str], rows: int) -> bytes:
    """Every cell of every row refused: `rows` × len(headers) errors."""
    return (",".join(headers) + "\n" + ("?," * (len(headers) - 1) + "?\n") * rows).encode()
