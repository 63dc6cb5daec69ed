"""Where the county's townships are: the centre each visit's coordinates are compared with."""
from __future__ import annotations

# 赣州市赣县区: approximate centres (longitude, latitude, WGS-84) of the townships the bureau
# serves, good to a few kilometres — the distance flag only fires beyond 15 km.
TOWNSHIP_CENTRES: dict[str, tuple[float, float]] = {
    "梅林镇": (115.00, 25.86),
    "城市社区管委会": (115.01, 25.87),
    "王母渡镇": (115.06, 25.64),
    "江口镇": (115.13, 25.96),
    "田村镇": (115.24, 25.61),
    "南塘镇": (115.13, 25.76),
    "茅店镇": (114.97, 25.97),
    "吉埠镇": (115.06, 25.90),
    "五云镇": (114.93, 26.05),
    "湖江镇": (115.05, 26.05),
    "储潭镇": (114.96, 25.92),
    "韩坊镇": (115.20, 25.53),
    "沙地镇": (115.28, 25.78),
    "阳埠乡": (115.22, 26.02),
    "大埠乡": (115.15, 25.69),
    "长洛乡": (115.00, 25.69),
    "大田乡": (115.31, 25.68),
    "白鹭乡": (115.33, 25.93),
    "三溪乡": (115.10, 25.81),
    "石芫乡": (114.91, 25.76),
}
