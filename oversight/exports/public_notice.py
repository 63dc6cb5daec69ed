"""The year's 公示 (public notice) as rows for the page and as a PDF (the annual report's layout)."""
from __future__ import annotations

from datetime import datetime

from ..clock import format_county_time
from ..domain.money import format_yuan
from ..services.public_notice import PublicContract, PublicNotice, PublicRating
from . import reports

HEADERS = ("承接机构", "统一社会信用代码", "合同编号", "合同名称", "采购方式", "合同金额", "服务期限", "服务内容",
           "第一季度", "第二季度", "第三季度", "第四季度", "年度评价", "履约验收")
NO_RESULT = "—"


def rating_text(rating: PublicRating | None) -> str:
    return NO_RESULT if rating is None else f"{rating.score:.2f} 分 {rating.rating}"


def contract_row(contract: PublicContract) -> tuple[str, ...]:
    return (contract.contractor, contract.credit_code, contract.code, contract.title, contract.procurement_method,
            f"{format_yuan(contract.amount_fen)} 元", f"{contract.term_start:%Y-%m-%d} 至 {contract.term_end:%Y-%m-%d}",
            "、".join(contract.services), *(rating_text(q) for q in contract.quarters), rating_text(contract.annual),
            contract.acceptance or "暂无")


def title(notice: PublicNotice, bureau: str) -> str:
    return f"{bureau}{notice.year}年度政府购买社会救助服务履约情况公示"


def explanation(notice: PublicNotice) -> list[str]:
    return [
        f"{notice.year}年度在服务期内的政府购买社会救助服务合同共 {len(notice.contracts)} 项，承接机构 "
        f"{notice.contractor_count} 家，合同金额合计 {format_yuan(notice.total_fen)} 元。",
        "季度考核与年度评价仅列示已审定锁定的结果；“—”表示该期考核尚未审定或不在服务期内。"
        "履约验收结论在验收完成后列示。",
        "本公示不含服务对象、服务人员等任何个人信息。",
    ]


def to_pdf(notice: PublicNotice, bureau: str, *, generated_at: datetime) -> bytes:
    report = reports.Report(title=title(notice, bureau), subtitle=f"{notice.year}年度履约情况公示", draft=False,
                            landscape=True)
    for text in explanation(notice):
        report.blocks.append(reports.Paragraph(text))
    report.blocks.append(reports.Paragraph(f"公示生成时间：{format_county_time(generated_at, labelled=True)}"))
    if notice.contracts:
        report.blocks.append(reports.Table(HEADERS, tuple(contract_row(c) for c in notice.contracts),
                                           (1.6, 1.8, 1.4, 2, 1, 1.3, 1.6, 1.4, 1, 1, 1, 1, 1.1, 1)))
    else:
        report.blocks.append(reports.Paragraph("本年度无在服务期内的合同。"))
    return reports.to_pdf(report)
