"""The demo city (赣州市 360700, 江西省 360000) and its three counties: each county's townships
(reference data with codes), its contractors, its staff's log-ins, its mail domain and the
figures of its local standards. `--scale county` builds 赣县区 alone, `--scale city` all three.

Township codes follow the statistics bureau's pattern (county code + 3 digits: 街道 0xx, 镇 1xx,
乡 2xx, other units 4xx); the names are the counties' real townships, the codes the demo's own.
"""
from __future__ import annotations

from dataclasses import dataclass

from .reference import AREA_CODES, COUNTY, TOWNSHIPS, URBAN_COMMUNITIES
from .schedule import Profile

PROVINCE = ("360000", "江西省")
CITY = ("360700", "赣州市")
CITY_MAIL_DOMAIN = "mzj.ganzhou.example.cn"
# The city bureau's log-ins (username, role, display name): they see the three counties.
CITY_STAFF = (
    ("city-admin", "admin", "市民政局 系统管理员"),
    ("city-supervisor", "supervisor", "市民政局社会救助科 邱美兰"),
)


@dataclass(frozen=True)
class ContractorSpec:
    name: str
    short: str
    worker_prefix: str
    login: str
    founded: int
    profile: Profile


@dataclass(frozen=True)
class Standards:
    """A county's yearly figures in fen: the 低保标准 and the care allowances of the three tiers,
    the earlier year's; the next year's are each raised by its step."""

    poverty_line: int
    poverty_step: int
    care_tiers: tuple[int, int, int]
    care_steps: tuple[int, int, int]


@dataclass(frozen=True)
class CountyPlan:
    code: str
    name: str
    contract_prefix: str  # contract codes: GXMZ-2026-001
    townships: tuple[tuple[str, int, int], ...]  # (name, relative caseload, procurement lot 1 or 2)
    seat: str  # the township where the contractors keep their offices
    seat_communities: tuple[str, ...]  # the seat's communities (others get generated villages)
    id_codes: tuple[tuple[str, int], ...]  # the area codes on residents' ID numbers, weighted
    credit_regions: tuple[str, str]  # (before, since) the county's current code, for credit codes
    region_since: int
    contractors: tuple[ContractorSpec, ...]
    staff: tuple[tuple[str, str, str], ...]  # (username, role, display name)
    mail_domain: str
    standards: Standards
    city_share: float  # the county's share of the city's caseload at --scale city

    def township_code(self, township: str) -> str:
        """The demo's 9-digit code of one of the county's townships."""
        names = [name for name, _, _ in self.townships]
        kind = _kind(township)
        rank = sum(1 for name in names[:names.index(township) + 1] if _kind(name) == kind)
        return f"{self.code}{kind}{rank:02d}"


def _kind(township: str) -> str:
    """The code's first township digit: 街道 0, 镇 1, 乡 2, other units 4."""
    for ending, digit in (("街道", "0"), ("镇", "1"), ("乡", "2")):
        if township.endswith(ending):
            return digit
    return "4"


GANXIAN = CountyPlan(
    code="360704", name=COUNTY, contract_prefix="GXMZ",
    townships=TOWNSHIPS,
    seat="城市社区管委会",
    seat_communities=URBAN_COMMUNITIES,
    id_codes=AREA_CODES,
    credit_regions=("360721", "360704"), region_since=2016,
    contractors=(
        ContractorSpec("赣县区同心社会工作服务中心", "同心", "TX", "tongxin", 2014, Profile(0.96, 0.05, 0.008, 0.03)),
        ContractorSpec("赣县区仁和社会工作服务中心", "仁和", "RH", "renhe", 2017, Profile(0.94, 0.08, 0.01, 0.05)),
        ContractorSpec("赣县区阳光社会工作服务社", "阳光", "YG", "yangguang", 2019, Profile(0.87, 0.15, 0.012, 0.10)),
    ),
    staff=(
        ("admin", "admin", "系统管理员"),
        ("supervisor", "supervisor", "救助股 刘晓红"),
        ("supervisor2", "supervisor", "救助股 陈建华"),
        ("auditor", "auditor", "区审计局 黄丽萍"),
    ),
    mail_domain="mzj.ganxian.example.cn",
    standards=Standards(82_000, 3_000, (86_000, 52_000, 17_000), (4_000, 2_000, 1_000)),
    city_share=0.34,
)

ZHANGGONG = CountyPlan(
    code="360702", name="章贡区", contract_prefix="ZGMZ",
    townships=(
        ("解放街道", 8, 1), ("南外街道", 11, 1), ("东外街道", 9, 1), ("赣江街道", 10, 1), ("黄金岭街道", 7, 2),
        ("水东镇", 6, 2), ("沙石镇", 7, 2), ("水西镇", 7, 2), ("沙河镇", 6, 1),
    ),
    seat="赣江街道",
    seat_communities=("厚德路社区", "文清路社区", "章江路社区", "西津路社区", "濂溪路社区", "八一四大道社区"),
    id_codes=(("360702", 85), ("360721", 5), ("360782", 4), ("360703", 3), ("360731", 3)),
    credit_regions=("360702", "360702"), region_since=1999,
    contractors=(
        ContractorSpec("章贡区惠民社会工作服务中心", "惠民", "HM", "huimin", 2013, Profile(0.97, 0.04, 0.006, 0.02)),
        ContractorSpec("章贡区康乐社会工作服务中心", "康乐", "KL", "kangle", 2016, Profile(0.93, 0.09, 0.01, 0.06)),
        ContractorSpec("章贡区长青社会工作服务社", "长青", "CQ", "changqing", 2018, Profile(0.90, 0.12, 0.011, 0.08)),
    ),
    staff=(
        ("zg-admin", "admin", "章贡区 系统管理员"),
        ("zg-supervisor", "supervisor", "社会救助股 温志强"),
        ("zg-supervisor2", "supervisor", "社会救助股 曾晓燕"),
        ("zg-auditor", "auditor", "区审计局 罗建平"),
    ),
    mail_domain="mzj.zhanggong.example.cn",
    # The city's central district: a higher 低保标准 than the rural counties.
    standards=Standards(90_000, 3_000, (90_000, 55_000, 18_000), (4_000, 2_000, 1_000)),
    city_share=0.36,
)

NANKANG = CountyPlan(
    code="360703", name="南康区", contract_prefix="NKMZ",
    townships=(
        ("蓉江街道", 9, 1), ("东山街道", 8, 1), ("唐江镇", 8, 1), ("凤岗镇", 5, 2), ("潭口镇", 6, 1),
        ("龙岭镇", 4, 2), ("龙回镇", 4, 2), ("镜坝镇", 5, 1), ("横市镇", 4, 2), ("浮石乡", 3, 1),
        ("赤土畲族乡", 3, 2), ("横寨乡", 3, 2), ("朱坊乡", 3, 1), ("太窝乡", 3, 1), ("三江乡", 3, 1),
        ("隆木乡", 3, 2), ("坪市乡", 3, 2), ("大坪乡", 3, 2), ("麻双乡", 3, 2), ("十八塘乡", 3, 2),
    ),
    seat="蓉江街道",
    seat_communities=("南水社区", "西华社区", "龙华社区", "金鸡社区", "旭山社区"),
    # 南康 was a county-level city (360782) until 2013.
    id_codes=(("360782", 65), ("360703", 30), ("360702", 3), ("360704", 2)),
    credit_regions=("360782", "360703"), region_since=2013,
    contractors=(
        ContractorSpec("南康区和美社会工作服务中心", "和美", "HE", "hemei", 2015, Profile(0.95, 0.06, 0.009, 0.04)),
        ContractorSpec("南康区安康社会工作服务中心", "安康", "AK", "ankang", 2017, Profile(0.91, 0.11, 0.012, 0.07)),
        ContractorSpec("南康区善行社会工作服务社", "善行", "SX", "shanxing", 2020, Profile(0.85, 0.17, 0.014, 0.12)),
    ),
    staff=(
        ("nk-admin", "admin", "南康区 系统管理员"),
        ("nk-supervisor", "supervisor", "救助股 赖春华"),
        ("nk-supervisor2", "supervisor", "救助股 钟伟"),
        ("nk-auditor", "auditor", "区审计局 肖丽"),
    ),
    mail_domain="mzj.nankang.example.cn",
    standards=Standards(80_000, 2_500, (84_000, 50_000, 16_000), (4_000, 2_000, 1_000)),
    city_share=0.30,
)

# In the order they are built (赣县区 first, the county demo's county).
COUNTIES = (GANXIAN, ZHANGGONG, NANKANG)


def county_named(name: str) -> CountyPlan:
    return next(plan for plan in COUNTIES if plan.name == name)
