"""履约验收: a contract's year accepted against its targets by a team that includes the people served.

Pure: the service gathers the year's delivery (assignments) and the checks' and callbacks' rates
(`domain/statistics.Rate`, Wilson intervals, as the check-results and review pages show them).

The team rule follows 财政部《关于推进和完善服务项目政府采购有关问题的通知》(财库〔2014〕37号)
and《关于进一步加强政府采购需求和履约验收管理的指导意见》(财库〔2016〕205号): a public service
for the people is accepted with its recipients taking part, so a team without a 服务对象代表 is
refused.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .scoring import round_half_up
from .statistics import Rate
from .vocabulary import AcceptanceConclusion, AcceptanceRole, ServiceType, label_of

NO_RECIPIENT = ("验收小组中没有服务对象代表：向社会公众提供的公共服务项目，验收时应当邀请服务对象参与"
                "并出具意见（财库〔2016〕205号），请先添加服务对象代表")


class AcceptanceError(ValueError):
    """An acceptance step is refused; `str(error)` is the reason in Chinese."""


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    organisation: str | None = None


def check_member(member: Member) -> Member:
    """A member as stored, or AcceptanceError naming the field."""
    name = (member.name or "").strip()
    if not name:
        raise AcceptanceError("姓名：请填写成员姓名")
    if len(name) > 64:
        raise AcceptanceError("姓名：最多64个字")
    if member.role not in AcceptanceRole.codes():
        raise AcceptanceError("角色：请选择成员在验收小组中的角色")
    organisation = (member.organisation or "").strip() or None
    if organisation is not None and len(organisation) > 100:
        raise AcceptanceError("单位：最多100个字")
    return Member(name, member.role, organisation)


def check_team(members: Sequence[Member]) -> None:
    """A team that may conclude: at least one 服务对象代表 and at least one member who is not one."""
    roles = [member.role for member in members]
    if AcceptanceRole.RECIPIENT not in roles:
        raise AcceptanceError(NO_RECIPIENT)
    if all(role == AcceptanceRole.RECIPIENT for role in roles):
        raise AcceptanceError("验收小组须有采购人代表或专家等其他成员，不能只有服务对象代表")


def check_conclusion(conclusion: str | None, opinion: str | None) -> tuple[str, str]:
    """The conclusion and the team's written opinion (an opinion is always asked for)."""
    if conclusion not in AcceptanceConclusion.codes():
        raise AcceptanceError("验收结论：请选择合格、基本合格或不合格")
    opinion = (opinion or "").strip()
    if not opinion:
        raise AcceptanceError("验收意见：请写明验收小组的意见")
    return conclusion, opinion


@dataclass(frozen=True)
class LineDelivery:
    """One service line's yearly target against what was issued and completed."""

    service_type: str
    target: int
    issued: int
    completed: int

    @property
    def label(self) -> str:
        return label_of(ServiceType, self.service_type)

    @property
    def completion(self) -> Decimal | None:
        """Completed over target, a percentage to two decimals (None without a target)."""
        if self.target <= 0:
            return None
        return round_half_up(Fraction(self.completed * 100, self.target))

    @property
    def met(self) -> bool:
        return self.completed >= self.target


@dataclass(frozen=True)
class RateFigures:
    """A Rate as stored with the acceptance: k/n and its 95 % Wilson interval."""

    numerator: int
    denominator: int
    value: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, rate: Rate) -> RateFigures:
        return cls(rate.numerator, rate.denominator, rate.value, rate.low, rate.high)

    def text(self) -> str:
        """"92.00%（95%置信区间 85.10%–96.10%，样本 46/50）" or "无数据"."""
        if not self.denominator or self.value is None:
            return "无数据"
        return (f"{self.value * 100:.2f}%（95%置信区间 {self.low * 100:.2f}%–{self.high * 100:.2f}%，"
                f"样本 {self.numerator}/{self.denominator}）")

    def to_json(self) -> dict:
        return {"numerator": self.numerator, "denominator": self.denominator, "value": self.value,
                "low": self.low, "high": self.high}

    @classmethod
    def from_json(cls, data: dict) -> RateFigures:
        return cls(data["numerator"], data["denominator"], data["value"], data["low"], data["high"])


@dataclass(frozen=True)
class ServiceChecks:
    """A service line's (or, with `service_type` None, the whole contract's) check rates."""

    service_type: str | None
    spot_checks: RateFigures
    satisfaction: RateFigures

    @property
    def label(self) -> str:
        return label_of(ServiceType, self.service_type) if self.service_type else "合计"


@dataclass(frozen=True)
class AcceptanceFigures:
    """What the team accepts against: per line delivery, and the year's check and callback rates."""

    year: int
    lines: tuple[LineDelivery, ...]
    checks: tuple[ServiceChecks, ...]

    @property
    def overall(self) -> ServiceChecks | None:
        return next((row for row in self.checks if row.service_type is None), None)

    def to_json(self) -> dict:
        return {
            "year": self.year,
            "lines": [{"service_type": line.service_type, "target": line.target, "issued": line.issued,
                       "completed": line.completed} for line in self.lines],
            "checks": [{"service_type": row.service_type, "spot_checks": row.spot_checks.to_json(),
                        "satisfaction": row.satisfaction.to_json()} for row in self.checks],
        }

    @classmethod
    def from_json(cls, data: dict) -> AcceptanceFigures:
        return cls(
            year=data["year"],
            lines=tuple(LineDelivery(**line) for line in data["lines"]),
            checks=tuple(ServiceChecks(row["service_type"], RateFigures.from_json(row["spot_checks"]),
                                       RateFigures.from_json(row["satisfaction"])) for row in data["checks"]),
        )


def service_checks(service_type: str | None, checks_passed: Iterable[bool],
                   satisfied: Iterable[bool]) -> ServiceChecks:
    """The pass rate of the random spot checks and the share of answered callbacks satisfied."""
    passed, answered = list(checks_passed), list(satisfied)
    return ServiceChecks(service_type, RateFigures.of(Rate.of(sum(passed), len(passed))),
                         RateFigures.of(Rate.of(sum(answered), len(answered))))
