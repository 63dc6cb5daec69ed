"""The OC curve and results charts: they render, and their font has every glyph they write."""
import io
from decimal import Decimal

from matplotlib.image import imread

from oversight.charts import missing_glyphs
from oversight.charts.sampling import OC_TITLE, oc_curve_png, results_png
from oversight.domain.sampling import hypergeometric_plan, iso2859_plan
from oversight.domain.statistics import Rate

CHART_TEXTS = (
    OC_TITLE, "批不合格率（%，批量 2400）", "接收概率（%）", "极限质量 10%，使用方风险 10%", "n=125，Ac=7，Re=8",
    "各项比率（95% Wilson 区间）", "服务人员字段差错率", "再培训阈值", "定向复查阈值", "抽查合格率", "数据准确率",
    "回访满意率", "服务真实率", "无数据", "家计调查 合格率", "自理能力评估 合格率", "照料护理 合格率",
    "17/20（85.0%）",
)


def test_every_chart_text_has_its_glyphs_in_the_chart_font():
    assert missing_glyphs("".join(CHART_TEXTS)) == set()


def image(png: bytes):
    assert png.startswith(b"\x89PNG")
    return imread(io.BytesIO(png))


def test_oc_curves_render_for_iso_and_hypergeometric_plans():
    iso = image(oc_curve_png(iso2859_plan(2400, "2.5")))
    hyper = image(oc_curve_png(hypergeometric_plan(500)))
    assert iso.shape[0] > 300 and iso.shape[1] > 600
    assert iso.shape == hyper.shape


def test_the_results_chart_grows_with_the_number_of_workers():
    rates = [("抽查合格率", Rate.of(17, 20)), ("回访满意率", Rate.of(0, 0))]
    few = image(results_png(rates, [("W001 张敏", Rate.of(1, 8))], Decimal("0.10"), Decimal("0.30")))
    many = image(results_png(rates, [(f"W{i:03d} 社工", Rate.of(i, 40)) for i in range(20)], Decimal("0.10"),
                             Decimal("0.30")))
    assert many.shape[0] > few.shape[0]
