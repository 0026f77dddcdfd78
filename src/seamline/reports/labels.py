"""Report wording in English and Chinese. One dict per language so a translator edits one place."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "worker_title": "Monthly hours and pay - worker",
        "customer_title": "Monthly hours and pay - customer",
        "factory": "Factory",
        "period": "Period",
        "rules": "Rule set",
        "worker": "Worker",
        "customer": "Customer",
        "orders": "Orders",
        "day": "Day",
        "kind": "Kind",
        "worked_h": "Hours",
        "regular_h": "Regular h",
        "overtime_h": "Overtime h",
        "pieces": "Pieces",
        "returned": "Returned",
        "pay": "Pay (CNY)",
        "total": "Total",
        "days_worked": "Days worked",
        "pay_regular": "Piece pay, regular hours",
        "pay_overtime": "Piece pay, overtime on workdays",
        "pay_rest_day": "Piece pay, rest days",
        "pay_holiday": "Piece pay, statutory holidays",
        "floor": "Minimum wage for the regular hours",
        "top_up": "Top-up to the minimum wage",
        "gross": "Gross pay",
        "findings": "Findings",
        "no_findings": "No violations or warnings.",
        "chain_head": "Hash-chain head",
        "not_sealed": "未封存 / not sealed",
        "workday": "workday",
        "rest_day": "rest day",
        "holiday": "holiday",
        "violation": "VIOLATION",
        "notice": "notice",
        "warning": "warning",
        "missing_logout": "sessions closed without logout",
        "no_pay": "no rate card given: pay not computed",
    },
    "zh": {
        "worker_title": "月度工时与工资报告 - 员工",
        "customer_title": "月度工时与工资报告 - 客户",
        "factory": "工厂",
        "period": "期间",
        "rules": "规则",
        "worker": "员工",
        "customer": "客户",
        "orders": "订单",
        "day": "日期",
        "kind": "类型",
        "worked_h": "工时",
        "regular_h": "正常工时",
        "overtime_h": "加班工时",
        "pieces": "件数",
        "returned": "返修",
        "pay": "工资(元)",
        "total": "合计",
        "days_worked": "出勤天数",
        "pay_regular": "计件工资(正常工时)",
        "pay_overtime": "计件工资(工作日加班)",
        "pay_rest_day": "计件工资(休息日)",
        "pay_holiday": "计件工资(法定节假日)",
        "floor": "正常工时最低工资",
        "top_up": "最低工资补足",
        "gross": "应发工资",
        "findings": "合规提示",
        "no_findings": "无违规或预警。",
        "chain_head": "哈希链头",
        "not_sealed": "未封存 / not sealed",
        "workday": "工作日",
        "rest_day": "休息日",
        "holiday": "法定节假日",
        "violation": "违规",
        "notice": "提示",
        "warning": "预警",
        "missing_logout": "未登出自动结束的记录",
        "no_pay": "未提供工价表：未计算工资",
    },
}


def norm_lang(lang: str | None) -> str:
    """The pages' language codes (``zh``, ``zh_CN``, ``zh-CN``, ``en``, ``en-US``) to a report language;
    Chinese when none is given, as on the pages."""
    if not lang:
        return "zh"
    low = lang.lower()
    if low.startswith("zh"):
        return "zh"
    if low.startswith("en"):
        return "en"
    raise ValueError(f"language {lang!r}: one of zh, zh_CN, en")


def labels(lang: str) -> dict[str, str]:
    lang = norm_lang(lang)
    if lang not in LABELS:
        raise ValueError(f"language {lang!r}: one of {sorted(LABELS)}")
    return LABELS[lang]
