"""Attachments are told by their content: the signature must match the extension; limits hold."""
import pytest

from oversight.domain.attachments import (
    HEIC,
    JPEG,
    PDF,
    PNG,
    TIFF,
    AttachmentRefused,
    check_count,
    check_file,
    display_name,
    megabytes,
    sniff,
)
from tests import attachment_support as files

LIMIT = 1024 * 1024


@pytest.mark.parametrize(("data", "kind"), [
    (files.JPEG, JPEG), (files.PNG, PNG), (files.PDF, PDF), (files.TIFF, TIFF), (b"MM\x00*" + b"\x00" * 8, TIFF),
    (files.HEIC, HEIC),
    # HEIF whose major brand is the structural mif1, HEVC-coded (heic among its compatible brands)
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + b"\x00" * 8, HEIC),
])
def test_each_accepted_kind_is_recognised_by_its_signature(data, kind):
    assert sniff(data) is kind


@pytest.mark.parametrize("data", [
    files.HTML, b"GIF89a\x01\x00", b"MZ\x90\x00", b"PK\x03\x04", b"",
    # AVIF shares HEIF's box structure but is not HEIC
    b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 8,
    # a box size pointing past the data
    b"\x00\x00\x01\x00ftypheic\x00\x00\x00\x00mif1heic",
])
def test_other_content_is_no_accepted_kind(data):
    assert sniff(data) is None


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("入户照片.JPG", files.JPEG, JPEG), ("photo.jpeg", files.JPEG, JPEG), ("scan.TIFF", files.TIFF, TIFF),
    ("扫描件.pdf", files.PDF, PDF), ("IMG_0001.HEIC", files.HEIC, HEIC), ("x.heif", files.HEIC, HEIC),
])
def test_a_file_whose_content_matches_its_extension_is_accepted(name, data, kind):
    assert check_file(name, data, LIMIT) is kind


@pytest.mark.parametrize(("name", "data", "message"), [
    ("photo.jpg", files.HTML, "“photo.jpg”的内容不是 JPG 文件"),
    ("photo.png", files.JPEG, "的内容不是 PNG 文件，而像是 JPG 文件，请改正文件扩展名"),
    ("report.pdf", files.PNG, "不是 PDF 文件"),
    ("page.html", files.HTML, "类型不支持，只接受 JPG、PNG、HEIC、TIFF、PDF"),
    ("setup.exe", b"MZ\x90\x00", "类型不支持"),
    ("noextension", files.PDF, "类型不支持"),
    ("empty.pdf", b"", "是空文件"),
])
def test_a_file_is_refused_with_the_reason_in_chinese(name, data, message):
    with pytest.raises(AttachmentRefused, match=message):
        check_file(name, data, LIMIT)


def test_the_size_limit_refuses_one_byte_more_and_takes_the_limit_itself():
    exact = files.PNG + b"\x00" * (LIMIT - len(files.PNG))
    assert check_file("big.png", exact, LIMIT) is PNG
    with pytest.raises(AttachmentRefused, match="超过 1 MB"):
        check_file("big.png", exact + b"\x00", LIMIT)
    assert megabytes(10 * 1024 * 1024) == "10 MB" and megabytes(512 * 1024) == "512 KB"


def test_the_count_limit_counts_what_the_owner_already_has():
    check_count(8, 2, 10)
    with pytest.raises(AttachmentRefused, match=r"每项最多 10 个附件（已有 9 个，还可上传 1 个）"):
        check_count(9, 2, 10)


def test_a_kept_name_loses_any_path_and_is_never_empty():
    assert display_name("C:\\Users\\王\\照片.jpg") == "照片.jpg"
    assert display_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert display_name("") == "附件"
    assert len(display_name("长" * 300 + ".pdf")) == 255
