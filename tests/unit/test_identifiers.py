from datetime import date

import pytest

from oversight.domain.identifiers import (
    InvalidIdentifier,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
)
from oversight.domain.money import InvalidAmount, format_yuan, parse_yuan


def test_known_good_id_number_is_accepted_with_lower_case_x():
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


def test_full_width_digits_and_spaces_are_normalised():
    assert normalize_id_number(" １１０１０５１９４９１２３１００２Ｘ ") == "11010519491231002X"


def test_retired_area_code_is_still_valid():
    assert normalize_id_number("440524188001010014") == "440524188001010014"


@pytest.mark.parametrize("value, reason", [
    ("11010519491231002", "应为18位"),
    ("110105194912310021", "校验位错误"),
    ("11010519491331002X", "出生日期无效"),
    ("1101051949123100A1", "前17位应为数字"),
    ("", "不能为空"),
])
def test_bad_id_numbers_are_refused_with_a_reason(value, reason):
    with pytest.raises(InvalidIdentifier, match=reason):
        normalize_id_number(value)


def test_birth_date_in_the_future_is_refused():
    body = "36070420300101001"
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    with pytest.raises(InvalidIdentifier, match="出生日期"):
        normalize_id_number(number, today=date(2026, 11, 25))


def test_credit_codes():
    assert normalize_credit_code("91512081ma62k0260e") == "91512081MA62K0260E"
    with pytest.raises(InvalidIdentifier, match="无效字符"):
        normalize_credit_code("91350100M000100Y4Z")
    with pytest.raises(InvalidIdentifier, match="校验位"):
        normalize_credit_code("91512081MA62K0260F")
    with pytest.raises(InvalidIdentifier, match="18位"):
        normalize_credit_code("91512081MA62K0260")


@pytest.mark.parametrize("value, expected", [("13812345678", "13812345678"), ("+86 139-0797-0001", "13907970001"),
                                             ("１５８１２３４５６７８", "15812345678")])
def test_mobiles_accepted(value, expected):
    assert normalize_mobile(value) == expected


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "0797-8123456", "abc"])
def test_mobiles_refused(value):
    with pytest.raises(InvalidIdentifier, match="手机号"):
        normalize_mobile(value)


def test_masks_keep_only_what_identifies_the_record():
    assert mask_id_number("320102199001011234") == "320102********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number(None) == "" and mask_phone("") == ""


def test_money_is_parsed_to_exact_fen():
    assert parse_yuan("1,234.5") == 123450
    assert parse_yuan("１２３４.０５元") == 123405
    assert parse_yuan("0.1") == 10
    assert format_yuan(123456789) == "1,234,567.89"
    with pytest.raises(InvalidAmount, match="两位小数"):
        parse_yuan("1.234")
    with pytest.raises(InvalidAmount, match="负数"):
        parse_yuan("-5")
    assert parse_yuan("-5", allow_negative=True) == -500


def test_a_private_persons_name_keeps_only_its_first_character():
    assert mask_name("王秀英") == "王**" and mask_name("李四") == "李*"
    assert mask_name("欧阳") == "欧*" and mask_name("周") == "*"
    assert mask_name(None) == "" and mask_name("") == ""
