"""Fixed reference tables of the demo county (赣州市赣县区): places, names, phone prefixes, holidays."""
from __future__ import annotations

import random
from datetime import date, timedelta

COUNTY = "赣县区"
# 360704 has been 赣县区's code since 2016; 360721 (the former 赣县) stays on every ID number issued
# before then, and a few residents were born in neighbouring counties.
AREA_CODES = (("360721", 70), ("360704", 25), ("360702", 2), ("360703", 1), ("360731", 1), ("360732", 1))

# (name, relative size of its caseload, procurement lot: 1 north and along the rivers, 2 south)
TOWNSHIPS = (
    ("梅林镇", 10, 1), ("城市社区管委会", 12, 1), ("王母渡镇", 8, 2), ("江口镇", 7, 1),
    ("田村镇", 7, 2), ("南塘镇", 6, 2), ("茅店镇", 6, 1), ("吉埠镇", 4, 1), ("五云镇", 6, 1),
    ("湖江镇", 5, 1), ("储潭镇", 5, 1), ("韩坊镇", 5, 2), ("沙地镇", 6, 2), ("阳埠乡", 4, 1),
    ("大埠乡", 3, 2), ("长洛乡", 3, 2), ("大田乡", 4, 2), ("白鹭乡", 4, 2), ("三溪乡", 3, 2),
    ("石芫乡", 3, 2),
)
URBAN_COMMUNITIES = ("城北社区", "城南社区", "城东社区", "城西社区", "赣新社区", "金钩社区", "沿江社区", "红金社区")
VILLAGE_STEMS = (
    "上坪", "下坝", "石门", "坪田", "龙口", "大坑", "长岗", "河田", "上洛", "樟木", "松山", "桥头",
    "新圩", "石溪", "杨梅", "湖边", "竹坑", "塘背", "田心", "水口", "岭下", "高坑", "沙坝", "黄沙",
    "梅坑", "车头", "官田", "下湖", "中坊", "山塘", "枫树", "龙溪", "上寨", "马岭", "白石", "洋塘",
    "坳背", "中村", "大岭", "社背", "圩背", "良口", "江背", "丰田", "夏湖", "长坑", "大塘", "河坑",
    "均田", "荷岭",
)

# Hakka surnames are the most common in southern Jiangxi; weights are rough shares.
SURNAMES = (
    ("刘", 9), ("陈", 8), ("钟", 6), ("谢", 5), ("黄", 5), ("李", 5), ("曾", 4), ("罗", 4), ("赖", 4),
    ("温", 3), ("邱", 3), ("朱", 3), ("肖", 3), ("王", 3), ("张", 3), ("杨", 3), ("廖", 3), ("郭", 2),
    ("胡", 2), ("吴", 2), ("卢", 2), ("何", 2), ("林", 2), ("叶", 2), ("彭", 2), ("邓", 2), ("欧阳", 1),
    ("蓝", 1), ("魏", 1), ("赵", 1), ("徐", 1), ("周", 1), ("孙", 1), ("蔡", 1), ("邹", 1), ("袁", 1),
)
GIVEN_CHARS = {
    ("male", "old"): "福德贵生明华国荣发林祥根金水春才文光海平有忠茂辉庆兴昌伟强军斌建永长新如禄寿宝",
    ("female", "old"): "秀英兰珍凤梅芳娥桂香花莲玉琴妹招娣菊萍红霞丽燕云春金冬秋清敏",
    ("male", "young"): "浩宇俊杰鹏涛磊超凯鑫博昊阳帅晨翔文斌",
    ("female", "young"): "婷静雪晨怡欣琳佳慧颖思雨悦洁倩丹露",
}
MOBILE_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "183",
    "187", "188", "198", "130", "131", "132", "155", "156", "166", "185", "186", "133", "153", "177",
    "180", "181", "189", "199",
)

# Official schedules (国务院办公厅 notices) as inclusive ranges; other years fall back to the
# fixed-date holidays, and the admin corrects them on the standards page.
_HOLIDAY_RANGES = {
    2024: (("01-01", "01-01"), ("02-10", "02-17"), ("04-04", "04-06"), ("05-01", "05-05"),
           ("06-10", "06-10"), ("09-15", "09-17"), ("10-01", "10-07")),
    2025: (("01-01", "01-01"), ("01-28", "02-04"), ("04-04", "04-06"), ("05-01", "05-05"),
           ("05-31", "06-02"), ("10-01", "10-08")),
    2026: (("01-01", "01-03"), ("02-15", "02-23"), ("04-04", "04-06"), ("05-01", "05-05"),
           ("06-19", "06-21"), ("09-25", "09-27"), ("10-01", "10-07")),
}
_FIXED_HOLIDAYS = (("01-01", "01-01"), ("05-01", "05-05"), ("10-01", "10-07"))
# The weekend days worked instead (调休上班), from the same notices (国办发明电〔2023〕7号,
# 〔2024〕12号, 〔2025〕7号).
_WORKING_DAYS = {
    2024: ("02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12"),
    2025: ("01-26", "02-08", "04-27", "09-28", "10-11"),
    2026: ("01-04", "02-14", "02-28", "05-09", "09-20", "10-10"),
}


def public_holidays(year: int) -> list[date]:
    """The public holidays of `year`, in date order."""
    days = []
    for first, last in _HOLIDAY_RANGES.get(year, _FIXED_HOLIDAYS):
        day = date.fromisoformat(f"{year}-{first}")
        end = date.fromisoformat(f"{year}-{last}")
        while day <= end:
            days.append(day)
            day += timedelta(days=1)
    return days


def public_working_days(year: int) -> list[date]:
    """The weekend days worked in `year` (调休上班日), in date order; none for a year not listed."""
    return [date.fromisoformat(f"{year}-{day}") for day in _WORKING_DAYS.get(year, ())]


def villages_of(township: str, communities: tuple[str, ...] = ()) -> list[str]:
    """Plausible village (村) and community (社区) names of a township; the same on every run.
    `communities` are the county seat's own, given by the caller for its seat township; a
    street office (街道) has communities only."""
    if township == "城市社区管委会" and not communities:
        communities = URBAN_COMMUNITIES
    if communities:
        return list(communities)
    # A string seed is hashed with SHA-512, so this does not depend on PYTHONHASHSEED.
    local = random.Random(f"villages:{township}")
    if township.endswith("街道"):
        return [stem + "社区" for stem in local.sample(VILLAGE_STEMS, local.randint(4, 7))]
    seat = township[:-1] + "社区"
    return [seat] + [stem + "村" for stem in local.sample(VILLAGE_STEMS, local.randint(6, 10))]
