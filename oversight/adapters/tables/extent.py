"""What an .xlsx would cost to read, checked before calamine reads it.

calamine unpacks the shared strings whole and turns the first sheet into a dense grid from its
first to its last cell with a value, 32 bytes a cell: one value at XFD1048576 asks for 512 GiB,
and one long shared string used by a million cells is copied a million times. So, streaming the
zip's parts from their own compressed data (the sizes its headers declare are not trusted),
before calamine sees the file:

- every part's unpacked size, plus each shared string once per cell that may use it, must stay
  within `ReadLimits.max_uncompressed_bytes`;
- no part may declare a DTD or an entity (billion laughs);
- the first sheet may hold no value beyond `ReadLimits.last_column` or `ReadLimits.last_row`,
  and the workbook no more shared strings than such a sheet has cells.

The sheet's `<dimension ref=…>` is not trusted either way: calamine does not size the grid by
it, and Excel widens it for formatted empty cells. Sheets as Excel, WPS and the usual libraries
write them are judged from their tags, found with numpy, at about the speed of unpacking
(0.7 s for a 100,000-row sheet of 131 MB). A sheet whose cells lack their `r` reference or are
written another way, or with a reference beyond the limits, is walked cell by cell with expat
as calamine walks it, and refused only for a value really beyond the limits.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from posixpath import normpath
from typing import TYPE_CHECKING
from xml.etree import ElementTree
from xml.parsers import expat

import numpy as np

if TYPE_CHECKING:
    from oversight.adapters.tables.reading import ReadLimits

CORRUPT = "文件已损坏或不是有效的 Excel（.xlsx）文件"
DTD_REFUSED = "文件中含有文档类型声明（DTD）或实体定义，不是 Excel 保存的工作簿；请在 Excel 中另存为 .xlsx 后重新上传"
ENCRYPTED = "工作簿已加密，请在 Excel 中取消密码后另存为 .xlsx 再上传"
PIECE = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_WORKBOOK, _WORKBOOK_RELATIONS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
_SHARED_STRINGS = "xl/sharedStrings.xml"
_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_STRING_START = re.compile(rb"<(?:[\w.-]+:)?si[\s>/]")
_PREFIXED = re.compile(rb":(?:c|v|si)[\s>/]")
_PAD = 16
_INDEX_DIGITS = 9
_ENDS_NAME = np.zeros(256, dtype=bool)
_ENDS_NAME[list(b" \t\r\n>/")] = True
_LETTER = np.zeros(256, dtype=bool)
_LETTER[list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[list(b"0123456789")] = True
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SMALL_PART = 16 << 20


class WorkbookRefused(ValueError):
    """The workbook is beyond a limit or unsafe to read; `str(error)` is the reason in Chinese."""


def column_letter(position: int) -> str:
    """The letters of a column counted from 0 (0 → A, 26 → AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """The column counted from 1 of its letters (A → 1, AA → 27)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def check_workbook(data: bytes, limits: ReadLimits) -> None:
    """Raise `WorkbookRefused` unless calamine can read the workbook within `limits`."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise WorkbookRefused(CORRUPT) from None
    by_name = {member.filename: member for member in members}
    if len(by_name) < len(members):
        raise WorkbookRefused(CORRUPT)
    budget = _Budget(limits.max_uncompressed_bytes)
    if sum(member.file_size for member in members) > budget.allowed:
        raise WorkbookRefused(budget.refusal())
    small = {name: _read_small(data, by_name[name], budget) for name in (_WORKBOOK, _WORKBOOK_RELATIONS)
             if name in by_name}
    sizes = _shared_string_sizes(data, by_name.get(_SHARED_STRINGS), budget)
    if len(sizes) > limits.last_row * limits.last_column:
        raise WorkbookRefused(f"工作簿中的文字条目有 {len(sizes):,} 条，多于 {limits.max_rows:,} 行、"
                              f"{limits.last_column} 列的表格所能容纳的；请只保留要上传的数据后重新上传")
    first = _first_sheet(small)
    for member in members:
        name = member.filename
        if name in small or name == _SHARED_STRINGS:
            continue
        if name == first or (first not in by_name and _SHEET_PART.match(name)):
            _check_sheet(data, member, limits, sizes, budget)
        else:
            for piece in _whole_tags(_unpacked(data, member, budget)):
                _refuse_dtd(piece)


class _Budget:
    """The unpacked bytes allowed, and those spent."""

    def __init__(self, allowed: int):
        self.allowed, self.spent = allowed, 0

    def take(self, count: int) -> None:
        self.spent += count
        if self.spent > self.allowed:
            raise WorkbookRefused(self.refusal())

    def refusal(self) -> str:
        return (f"文件解压后超过 {self.allowed // (1 << 20):,} MB 的上限；请删除多余的内容，"
                "或把数据分成几个文件后重新上传")


def _unpacked(data: bytes, member: zipfile.ZipInfo, budget: _Budget) -> Iterator[bytes]:
    """The member's bytes a piece at a time, inflated from its own data, counted as they come."""
    if member.flag_bits & 0x1:
        raise WorkbookRefused(ENCRYPTED)
    start = member.header_offset
    header = data[start : start + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or not header.startswith(b"PK\x03\x04"):
        raise WorkbookRefused(CORRUPT)
    *_, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    begin = start + _LOCAL_HEADER.size + name_length + extra_length
    raw = memoryview(data)[begin : begin + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        for offset in range(0, len(raw), PIECE):
            budget.take(min(PIECE, len(raw) - offset))
            yield raw[offset : offset + PIECE].tobytes()
        return
    if member.compress_type != zipfile.ZIP_DEFLATED:
        raise WorkbookRefused(CORRUPT)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for offset in range(0, len(raw), PIECE):
            pending = raw[offset : offset + PIECE]
            while pending and not inflater.eof:
                piece = inflater.decompress(pending, PIECE)
                pending = inflater.unconsumed_tail
                budget.take(len(piece))
                yield piece
    except zlib.error:
        raise WorkbookRefused(CORRUPT) from None
    if not inflater.eof:
        raise WorkbookRefused(CORRUPT)


def _whole_tags(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The same bytes cut only before a `<` or after a `>`, so that no mark searched for (none
    holds either inside) is split between two pieces."""
    carry = b""
    for piece in pieces:
        text = carry + piece
        cut = max(text.rfind(b"<"), text.rfind(b">") + 1)
        if cut <= 0 or len(text) - cut > PIECE:
            cut = len(text)
        carry = text[cut:]
        if cut:
            yield text[:cut]
    if carry:
        yield carry


def _refuse_dtd(text: bytes) -> None:
    if any(mark in text for mark in _DTD_MARKS):
        raise WorkbookRefused(DTD_REFUSED)


def _read_small(data: bytes, member: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """A part that is parsed whole (the workbook and its relations), checked first."""
    pieces = []
    for piece in _whole_tags(_unpacked(data, member, budget)):
        _refuse_dtd(piece)
        pieces.append(piece)
        if sum(map(len, pieces)) > _SMALL_PART:
            raise WorkbookRefused(CORRUPT)
    return b"".join(pieces)


class _Tags:
    """The tag starts of one piece of XML (cut by `_whole_tags`), found with numpy: every `<`
    and the two bytes after it. Every tag the XML reader sees starts at one of them (some
    inside comments or CDATA are seen too, which only makes the checks stricter)."""

    def __init__(self, piece: bytes):
        self.bytes = np.frombuffer(piece + bytes(_PAD), dtype=np.uint8)
        self.starts = np.flatnonzero(self.bytes[: len(piece)] == ord("<"))
        self.second = self.bytes[self.starts + 1]
        self.third = self.bytes[self.starts + 2]
        if (self.second == ord("!")).any():
            _refuse_dtd(piece)

    def named(self, name: bytes) -> np.ndarray:
        """Where the elements `name` (one or two letters, unprefixed) start."""
        found = (self.second == name[0]) & (_ENDS_NAME[self.third] if len(name) == 1 else (
            (self.third == name[1]) & _ENDS_NAME[self.bytes[self.starts + 3]]))
        return self.starts[found]

    def at(self, starts: np.ndarray, offset: int) -> np.ndarray:
        return self.bytes[starts + offset]


def _shared_string_sizes(data: bytes, member: zipfile.ZipInfo | None, budget: _Budget) -> np.ndarray:
    """An upper bound of each shared string's size: its XML, from its start to the next one's."""
    if member is None:
        return np.empty(0, dtype=np.int64)
    starts, length = [], 0
    for piece in _whole_tags(_unpacked(data, member, budget)):
        found = _Tags(piece).named(b"si")
        if _PREFIXED.search(piece):
            found = np.fromiter((match.start() for match in _STRING_START.finditer(piece)), dtype=np.int64)
        starts.append(found + length)
        length += len(piece)
    return np.diff(np.append(np.concatenate(starts) if starts else np.empty(0, dtype=np.int64), length))


@lru_cache(maxsize=16)
def _far_reference(last_column: int, last_row: int) -> re.Pattern:
    """A cell reference (`<c r="AG12"`) beyond the last column or the last row, in either case."""
    letters = _after(column_letter(last_column - 1), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "[A-Z]", "[A-Z]")
    digits = _after(str(last_row), "0123456789", r"\d", "[1-9]")
    return re.compile(rb'<c r="(?:(?:' + letters.encode() + rb')\d|[A-Z]*0*(?:' + digits.encode() + rb')")',
                      re.IGNORECASE)


def _after(last: str, symbols: str, any_symbol: str, leading: str) -> str:
    """A pattern of the names after `last` in the order of `symbols` (a longer name, or one as
    long and later at some place); `leading` is what a longer name may start with."""
    options = [f"{leading}{any_symbol}{{{len(last)},}}"]
    for place, symbol in enumerate(last):
        if symbol != symbols[-1]:
            following = symbols[symbols.index(symbol) + 1]
            options.append(f"{last[:place]}[{following}-{symbols[-1]}]{any_symbol}{{{len(last) - place - 1}}}")
    return "|".join(options)


def _check_sheet(data: bytes, member: zipfile.ZipInfo, limits: ReadLimits, sizes: np.ndarray,
                 budget: _Budget) -> None:
    """Judge the sheet by its tags; walk it with expat where they cannot tell.

    A cell is positioned by its own `r`, so the tags are enough while every `<c` is written
    `<c r="…"` (as Excel, WPS and the usual libraries write it), none is prefixed, no reference
    reaches beyond the limits and every value is a plain `<v>`.
    """
    far = _far_reference(limits.last_column, limits.last_row)
    shared_bytes, walk = 0, False
    for piece in _whole_tags(_unpacked(data, member, budget)):
        if walk:
            _refuse_dtd(piece)
            continue
        tags = _Tags(piece)
        cells = tags.named(b"c")
        walk = bool(_PREFIXED.search(piece)) or not all(
            (tags.at(cells, 2 + offset) == byte).all() for offset, byte in enumerate(b' r="'))
        references = cells + 6
        # Only a reference of two letters (or one, when the limit is within A–Z) or of as many
        # digits as the last row can be beyond: the exact search runs where there is one.
        wide = _LETTER[tags.at(references, 1)] if limits.last_column >= 26 else np.ones(len(cells), dtype=bool)
        tall = _DIGIT[tags.at(references, len(str(limits.last_row)))]
        walk = walk or ((wide | tall).any() and far.search(piece) is not None)
        if len(sizes) and not walk:
            values = tags.named(b"v")
            walk = bool((tags.at(values, 2) != ord(">")).any())
            shared_bytes += _shared_bytes(tags, values + 3, sizes)
    if walk:
        beyond, shared_bytes = _walk_sheet(data, member, limits, sizes)
        if beyond is not None:
            raise WorkbookRefused(
                f"工作表在 {beyond} 单元格还有内容，超出了可读取的范围（最多 {limits.last_column} 列、"
                f"{limits.max_rows:,} 行数据）；请删除多余的行和列，或只把要上传的数据复制到新工作簿后重新上传")
    budget.take(shared_bytes)


def _shared_bytes(tags: _Tags, starts: np.ndarray, sizes: np.ndarray) -> int:
    """The shared-string bytes of the values at `starts`, taken as string indexes: every whole
    number counts, as any `<v>` may belong to a cell of type "s"."""
    window = tags.bytes[starts[:, None] + np.arange(_INDEX_DIGITS + 1)]
    digits = _DIGIT[window]
    length = np.argmin(digits, axis=1)
    whole = (window[np.arange(len(starts)), length] == ord("<")) & (length > 0)
    window, length = window[whole].astype(np.int64) - ord("0"), length[whole]
    index = np.zeros(len(length), dtype=np.int64)
    for place in range(_INDEX_DIGITS):
        index = np.where(place < length, index * 10 + window[:, place], index)
    return int(sizes[index[index < len(sizes)]].sum())


def _walk_sheet(data: bytes, member: zipfile.ZipInfo, limits: ReadLimits,
                sizes: np.ndarray) -> tuple[str | None, int]:
    """(the first value beyond the limits or None, the shared-string bytes its cells use), the
    sheet walked as calamine walks it: a cell without `r` follows the one before it, a row
    without `r` the row before, and only a cell with a value extends the grid."""
    walker = _Walker(limits, sizes)
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = _Walker.refuse_dtd
    parser.StartElementHandler, parser.EndElementHandler = walker.start, walker.end
    parser.CharacterDataHandler = walker.text
    try:
        for piece in _unpacked(data, member, _Budget(limits.max_uncompressed_bytes)):
            parser.Parse(piece, False)
            if walker.beyond is not None:
                break
        else:
            parser.Parse(b"", True)
    except expat.ExpatError:
        raise WorkbookRefused(CORRUPT) from None
    return walker.beyond, walker.shared_bytes


class _Walker:
    """expat handlers following calamine's reading of `<row>` and `<c>`."""

    def __init__(self, limits: ReadLimits, sizes: np.ndarray):
        self.limits, self.sizes = limits, sizes
        self.row = self.column = 0
        self.cell: tuple[int, int] | None = None
        self.shared = False
        self.index: list[str] | None = None
        self.beyond: str | None = None
        self.shared_bytes = 0

    @staticmethod
    def refuse_dtd(*_arguments) -> None:
        raise WorkbookRefused(DTD_REFUSED)

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        name = tag.rpartition(":")[2]
        if name == "row" and attributes.get("r", "").isdigit():
            self.row = int(attributes["r"]) - 1
        elif name == "c":
            found = re.fullmatch(r"([A-Za-z]+)(\d+)", attributes.get("r", ""))
            self.cell = (int(found[2]) - 1, column_number(found[1]) - 1) if found else (self.row, self.column)
            self.column = self.cell[1]
            self.shared = attributes.get("t") == "s"
        elif name in ("v", "is") and self.cell is not None:
            row, column = self.cell
            if self.beyond is None and (row >= self.limits.last_row or column >= self.limits.last_column):
                self.beyond = f"{column_letter(column)}{row + 1}"
            if name == "v" and self.shared:
                self.index = []

    def text(self, text: str) -> None:
        if self.index is not None:
            self.index.append(text)

    def end(self, tag: str) -> None:
        name = tag.rpartition(":")[2]
        if name == "row":
            self.row, self.column = self.row + 1, 0
        elif name == "c":
            self.column, self.cell = self.column + 1, None
        elif name == "v" and self.index is not None:
            index = "".join(self.index).strip()
            if index.isdigit() and int(index) < len(self.sizes):
                self.shared_bytes += int(self.sizes[int(index)])
            self.index = None


def _first_sheet(parts: dict[str, bytes]) -> str | None:
    """The part of the workbook's first sheet, the one calamine reads; None when not found."""
    try:
        workbook = ElementTree.fromstring(parts[_WORKBOOK])
        relations = ElementTree.fromstring(parts[_WORKBOOK_RELATIONS])
    except (KeyError, ElementTree.ParseError):
        return None
    sheet = workbook.find(f"{_MAIN_NS}sheets/{_MAIN_NS}sheet")
    wanted = sheet.get(f"{_REL_NS}id") if sheet is not None else None
    for relation in relations.iter(f"{_PACKAGE_REL_NS}Relationship"):
        if wanted is not None and relation.get("Id") == wanted:
            target = relation.get("Target", "")
            path = target[1:] if target.startswith("/") else target if target.startswith("xl/") else f"xl/{target}"
            return normpath(path)
    return None
