"""KPI schemes as data: the default seeded on first use, new versions, never editing one in use."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from ..domain.evaluation import DEFAULT_PAYOUT
from ..domain.scoring import DEFAULT_SCHEME, Band, Indicator, Scheme, SchemeError, to_decimal
from ..extensions import db
from ..models import Contract, KpiScheme, QuarterlyReview, User
from .kpi_evidence import RECORD_KINDS


class SchemeMissing(LookupError):
    """No version of the scheme a contract names exists; `str(error)` is the reason in Chinese."""


def ensure_default_scheme() -> KpiScheme:
    """The default scheme's first version, created on first use (safe to call concurrently)."""
    found = _version(DEFAULT_SCHEME.code, DEFAULT_SCHEME.version)
    if found is not None:
        return found
    row = KpiScheme(code=DEFAULT_SCHEME.code, version=DEFAULT_SCHEME.version, name=DEFAULT_SCHEME.name,
                    definition=definition_of(DEFAULT_SCHEME, DEFAULT_PAYOUT))
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # another process seeded it between our look and our insert
        return _version(DEFAULT_SCHEME.code, DEFAULT_SCHEME.version)
    return row


def _version(code: str, version: int) -> KpiScheme | None:
    return db.session.execute(
        select(KpiScheme).where(KpiScheme.code == code, KpiScheme.version == version)
    ).scalar_one_or_none()


def latest_scheme(code: str) -> KpiScheme:
    """The newest version of a scheme code (seeding the default when it is the one asked for)."""
    if code == DEFAULT_SCHEME.code:
        ensure_default_scheme()
    row = db.session.execute(
        select(KpiScheme).where(KpiScheme.code == code).order_by(KpiScheme.version.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        raise SchemeMissing(f"考核方案“{code}”不存在")
    return row


def all_schemes() -> list[KpiScheme]:
    """Every version of every scheme, newest version first within a code."""
    ensure_default_scheme()
    return list(db.session.execute(
        select(KpiScheme).order_by(KpiScheme.code, KpiScheme.version.desc())
    ).scalars())


def in_use(scheme: KpiScheme) -> bool:
    """Whether any review was scored with this version (it may then never change)."""
    return db.session.execute(select(exists().where(QuarterlyReview.scheme_id == scheme.id))).scalar()


def definition_of(scheme: Scheme, payout_rates: Mapping[str, Decimal]) -> dict:
    """The stored definition: the domain scheme plus the payout rate of each rating."""
    return {**scheme.as_dict(), "payout": {rating: str(rate) for rating, rate in payout_rates.items()}}


def domain_scheme(row: KpiScheme) -> Scheme:
    """The stored definition as the domain's Scheme."""
    return Scheme.from_dict(row.definition)


def payout_rates(row: KpiScheme) -> dict[str, Decimal]:
    """The share of the performance-linked amount paid at each rating of this scheme."""
    stored = row.definition.get("payout")
    if not stored:
        return dict(DEFAULT_PAYOUT)
    return {rating: Decimal(rate) for rating, rate in stored.items()}


def create_version(code: str, name: str, indicators: Sequence[Indicator], bands: Sequence[Band],
                   payout: Mapping[str, Decimal], user: User) -> KpiScheme:
    """Store a new version of a scheme code (version 1 for a new code); raises SchemeError."""
    problems = [f"指标“{ind.name or ind.key}”没有对应的数据来源" for ind in indicators if ind.key not in RECORD_KINDS]
    ratings = [band.rating.strip() for band in bands]
    if set(payout) != set(ratings):
        problems.append("每个评级档次都需要一个支付比例")
    for rating, rate in payout.items():
        if not Decimal(0) <= to_decimal(rate, "payout") <= 1:
            problems.append(f"评级“{rating}”的支付比例应在0%到100%之间")
    latest = db.session.execute(select(func.max(KpiScheme.version)).where(KpiScheme.code == code)).scalar()
    try:
        scheme = Scheme(code=code.strip(), version=(latest or 0) + 1, name=name.strip(),
                        indicators=tuple(indicators), bands=tuple(bands))
    except SchemeError as error:
        problems = list(error.problems) + problems
    if problems:
        raise SchemeError(problems)
    row = KpiScheme(code=scheme.code, version=scheme.version, name=scheme.name,
                    definition=definition_of(scheme, payout), created_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    return row


def contracts_by_scheme(county_ids=None) -> dict[str, list[Contract]]:
    """The contracts (of `county_ids`, None: all) scored by each scheme code."""
    found: dict[str, list[Contract]] = {}
    stmt = select(Contract).order_by(Contract.code)
    if county_ids is not None:
        stmt = stmt.where(Contract.county_id.in_(county_ids))
    for contract in db.session.execute(stmt).scalars():
        found.setdefault(contract.kpi_scheme_code, []).append(contract)
    return found


def use_scheme(contract: Contract, code: str) -> None:
    """Score the contract's future quarters with the newest version of `code`."""
    latest_scheme(code)  # SchemeMissing for an unknown code
    contract.kpi_scheme_code = code
    db.session.flush()
