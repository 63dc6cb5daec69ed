"""Random but valid personal data: names, ID numbers, mobiles and credit codes, from one seeded Random."""
from __future__ import annotations

import random
from datetime import date, timedelta
from itertools import accumulate

from stdnum.cn import ric, uscc

from .reference import AREA_CODES, GIVEN_CHARS, MOBILE_PREFIXES, SURNAMES

_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class Weighted:
    """A weighted choice over (value, weight) pairs, precomputed for speed."""

    def __init__(self, pairs):
        pairs = list(pairs)
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))

    def pick(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


_SURNAMES = Weighted(SURNAMES)
_AREAS = Weighted(AREA_CODES)


def org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(int(ch, 36) * weight for ch, weight in zip(body, _ORG_CODE_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


class People:
    """Draws people from `rng`; never repeats an ID number or a mobile."""

    def __init__(self, rng: random.Random, area_codes=AREA_CODES, *, taken: People | None = None):
        """`area_codes` (code, weight) are those of the residents' ID numbers; `taken` shares the
        numbers already drawn by another People (a city's counties never repeat one)."""
        self.rng = rng
        self._areas = _AREAS if area_codes is AREA_CODES else Weighted(area_codes)
        self._id_numbers: set[str] = taken._id_numbers if taken else set()
        self._mobiles: set[str] = taken._mobiles if taken else set()

    def name(self, male: bool, young: bool = False) -> str:
        chars = GIVEN_CHARS[("male" if male else "female", "young" if young else "old")]
        length = 2 if self.rng.random() < (0.85 if young else 0.7) else 1
        return _SURNAMES.pick(self.rng) + "".join(self.rng.sample(chars, length))

    def birth_date(self, today: date, youngest: int, oldest: int, mode: float | None = None) -> date:
        """A birth date giving an age between `youngest` and `oldest` (triangular around `mode`)."""
        age = self.rng.triangular(youngest, oldest + 1, mode if mode is not None else (youngest + oldest) / 2)
        born = today - timedelta(days=int(age * 365.25))
        return born if born < today else today - timedelta(days=1)

    def id_number(self, birth: date, male: bool) -> str:
        """A valid GB 11643 number; the sequence's last digit is odd for men, even for women."""
        area = self._areas.pick(self.rng)
        while True:
            sequence = self.rng.randrange(100) * 10 + self.rng.randrange(1 if male else 0, 10, 2)
            body = f"{area}{birth:%Y%m%d}{sequence:03d}"
            number = body + ric.calc_check_digit(body + "0")  # it ignores the last character
            if number not in self._id_numbers:
                self._id_numbers.add(number)
                return number

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"
            if number not in self._mobiles:
                self._mobiles.add(number)
                return number

    def credit_code(self, region: str) -> str:
        """A valid GB 32100 code of a social-service organisation (民政登记, 类别 52)."""
        body = "MJ" + "".join(self.rng.choice(_ORG_CODE_BODY[:10]) for _ in range(6))
        first17 = f"52{region}{body}{org_code_check(body)}"
        return first17 + uscc.calc_check_digit(first17)
