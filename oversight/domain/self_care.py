"""Self-care assessment of special-hardship persons (SPEC section 7).

Six indicators, each met or not met; the number not met decides the conclusion and care tier.
"""
from __future__ import annotations

from dataclasses import dataclass

ITEMS: tuple[tuple[str, str], ...] = (
    ("eating", "自主吃饭"),
    ("dressing", "自主穿衣"),
    ("transfer", "自主上下床"),
    ("toileting", "自主如厕"),
    ("walking", "室内行走"),
    ("bathing", "自主洗澡"),
)
ITEM_KEYS = tuple(key for key, _ in ITEMS)
ITEM_LABELS = dict(ITEMS)

CONCLUSION_FULL = "具备生活自理能力"
CONCLUSION_PARTIAL = "部分丧失生活自理能力"
CONCLUSION_NONE = "完全丧失生活自理能力"
CONCLUSIONS = (CONCLUSION_FULL, CONCLUSION_PARTIAL, CONCLUSION_NONE)

TIER_BY_CONCLUSION = {
    CONCLUSION_FULL: "三档 全自理",
    CONCLUSION_PARTIAL: "二档 半护理",
    CONCLUSION_NONE: "一档 全护理",
}

# Spellings seen in real logs for "met" and "not met".
MET_WORDS = frozenset({"能", "是", "达到", "√", "✓", "✔"})
NOT_MET_WORDS = frozenset({"不能", "否", "未达到", "×", "✗", "✘", "X", "x"})


@dataclass(frozen=True)
class Assessment:
    """The outcome of the six items."""

    fails: int
    conclusion: str
    tier: str


def conclusion_for_fails(fails: int) -> str:
    """0 → 具备, 1–3 → 部分丧失, 4–6 → 完全丧失."""
    if not 0 <= fails <= len(ITEMS):
        raise ValueError(f"fails must be between 0 and {len(ITEMS)}, got {fails}")
    if fails == 0:
        return CONCLUSION_FULL
    if fails <= 3:
        return CONCLUSION_PARTIAL
    return CONCLUSION_NONE


def assess(items_met: dict[str, bool]) -> Assessment:
    """Assess from a mapping of every item key to met (True) or not met (False)."""
    missing = set(ITEM_KEYS) - set(items_met)
    if missing:
        raise ValueError(f"missing self-care items: {sorted(missing)}")
    fails = sum(1 for key in ITEM_KEYS if not items_met[key])
    conclusion = conclusion_for_fails(fails)
    return Assessment(fails=fails, conclusion=conclusion, tier=TIER_BY_CONCLUSION[conclusion])
