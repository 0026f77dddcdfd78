"""Words for the pilot: labels, formulas in plain Chinese (English beside), dates as people write them.

An owner signs on what he can read aloud, so no formula here uses a variable name, and no date
is an ISO timestamp: "12月1日" / "1 Dec".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

P: dict[str, dict[str, str]] = {
    "title": {"zh": "试点线效果：对比对照线", "en": "The pilot against control lines"},
    "weekly_title": {"zh": "传感器试点周报", "en": "Sensor pilot: weekly one-pager"},
    "preliminary": {"zh": "初步", "en": "preliminary"},
    "preliminary_note": {
        "zh": "改造前、改造后各需满 {n} 个工作日才给出结论；现在改造前 {b} 天、改造后 {a} 天，下面的数字只是初步的。",
        "en": "A conclusion needs {n} workdays in each period; so far {b} before and {a} after: the figures below"
        " are preliminary.",
    },
    "not_configured": {
        "zh": "还没有设置试点线和对照线：导入生产日报（seamline pilot-import），"
        "并在设置里写明试点线、对照线和装传感器的日子。",
        "en": "No pilot set up yet: import the daily production report and name the pilot line, the control lines"
        " and the first sensor day in the settings.",
    },
    "design": {
        "zh": "试点线 {p}（{s}起装传感器），对照线 {c}（没有传感器，用生产日报）。"
        "改造前 {b} 个工作日，改造后 {a} 个工作日"
        "（到昨天为止，今天还没结束，不算）。",
        "en": "Pilot line {p} (sensors from {s}), control lines {c} (no sensors: the daily report). {b} workdays"
        " before, {a} after (up to yesterday; today is not over and is not counted).",
    },
    "payback": {"zh": "回本时间", "en": "Payback"},
    "months": {"zh": "个月", "en": "months"},
    "never": {"zh": "收不回", "en": "not earned back"},
    "range80": {"zh": "范围（10%–90%）", "en": "range (10th–90th percentile)"},
    "p_no_payback": {"zh": "12个月内回不了本的概率", "en": "Chance of no payback within 12 months"},
    "net_monthly": {"zh": "每月净收益", "en": "Net benefit per month"},
    "investment": {"zh": "试点线一次性投资", "en": "One-off investment (pilot line)"},
    "metric": {"zh": "指标", "en": "Figure"},
    "pilot_before": {"zh": "试点线 改造前", "en": "Pilot before"},
    "pilot_after": {"zh": "试点线 改造后", "en": "Pilot after"},
    "control_before": {"zh": "对照线 同期前", "en": "Controls before"},
    "control_after": {"zh": "对照线 同期后", "en": "Controls after"},
    "did": {"zh": "试点效果（扣除对照线）", "en": "Effect (against controls)"},
    "naive": {"zh": "只看前后（未扣除）", "en": "Naive before/after"},
    "monthly": {"zh": "每月金额", "en": "Per month"},
    "forecast": {"zh": "数字孪生预测", "en": "Twin's forecast"},
    "forecast_tag": {"zh": "预测", "en": "forecast"},
    "measured_tag": {"zh": "实测", "en": "measured"},
    "no_forecast": {
        "zh": "尚无预测（用 seamline roi-forecast compute 由闭环数字孪生计算）",
        "en": "no forecast yet (compute it with the closed-loop twin: seamline roi-forecast compute)",
    },
    "efficiency_pct": {"zh": "产线效率（%）", "en": "Line efficiency (%)"},
    "overtime_h_per_worker_day": {"zh": "人均每天加班（小时）", "en": "Overtime per worker per day (h)"},
    "dhu_pct": {"zh": "百件疵点数", "en": "Defects per hundred garments"},
    "on_time_pct": {"zh": "准时交货率（%）", "en": "Orders on time (%)"},
    "not_counted": {"zh": "数据不足，不计", "en": "not enough data: not counted"},
    "formulas": {"zh": "怎么算的", "en": "How it is calculated"},
    "scenarios": {"zh": "敏感性分析", "en": "Sensitivity"},
    "as_measured": {"zh": "按实测", "en": "As measured"},
    "orders_minus_30": {"zh": "订单减少30%", "en": "Orders drop by 30 %"},
    "half_lines": {"zh": "只改造一半工位", "en": "Half the stations equipped"},
    "both": {"zh": "订单减少30%且只改造一半", "en": "Both"},
    "alt_orders": {
        "zh": "若省下的产能用来多接单（按净利率计）：每月 {v}",
        "en": "If the freed capacity takes extra orders (at the net margin): {v} per month",
    },
    "alt_wages": {"zh": "若省下的工时直接少发工资：每月 {v}", "en": "If the hours saved are not paid: {v} per month"},
    "placebo": {
        "zh": "平行检验：改造前的前后两半，试点线与对照线的差别变化 {d} 个百分点（范围 {lo} 至 {hi}），应接近 0。",
        "en": "Parallel check: within the before-period, pilot minus controls moved {d} points (range {lo} to {hi});"
        " it should be near 0.",
    },
    "pts": {"zh": "个百分点", "en": "points"},
    "report_check": {
        "zh": "核对：全用生产日报计算（试点线改造后也按日报，{n} 天），效率效果 {d} 个百分点（范围 {lo} 至 {hi}）；"
        "与上表相差大时，先查传感器计数和手工日报的差别。",
        "en": "Check: from the daily report alone (the pilot's after-days too, {n} days) the efficiency effect is {d}"
        " points (range {lo} to {hi}); if it differs much from the table, compare sensor and hand counts first.",
    },
}

# Formulas in plain words: (zh, en).
FORMULAS: tuple[tuple[str, str], ...] = (
    (
        "产线效率 = 挣得的标准分钟 ÷ 出勤分钟 × 100；"
        "挣得的标准分钟 = 每款的产量 × 该款的标准工时，所以做难款、做易款一样公平。",
        "Line efficiency = standard minutes earned ÷ minutes attended × 100; minutes earned = each style's output ×"
        " its standard minutes, so hard and easy styles count fairly.",
    ),
    (
        "试点效果 =（试点线改造后 − 试点线改造前）−（对照线同期后 − 对照线同期前）。"
        "对照线扣掉了全厂共同的变化：换款、节假日、旺季。",
        "Effect = (pilot after − pilot before) − (controls after − controls before): the controls remove what moved"
        " every line (order mix, holidays, season).",
    ),
    (
        "只看前后 = 试点线改造后 − 试点线改造前，没有扣掉全厂共同的变化，放在旁边作比较。",
        "Naive = pilot after − pilot before, without the controls; shown for comparison.",
    ),
    (
        "范围：把改造前、改造后的日子按整周重新抽样，每次算一遍效果，取中间的 90%（日子少时再放宽）。",
        "Range: whole weeks of days are resampled, the effect recomputed each time; the middle 90 % is shown"
        " (widened when there are few weeks).",
    ),
    (
        "效率的钱 = 省下的出勤分钟 × 每分钟工资；"
        "省下的分钟 = 每月挣得的标准分钟 ×（100 ÷ 没装传感器时的效率 − 100 ÷ 现在的效率）。",
        "Efficiency in money = attended minutes saved × wage per minute; minutes saved = standard minutes earned per"
        " month × (100 ÷ efficiency without sensors − 100 ÷ efficiency now).",
    ),
    (
        "加班的钱 = 每人每天少加的班 × 人数 × 每月工作日 × 时薪 ×（加班倍数 − 1）；基本工资已算在效率里，不重复算。",
        "Overtime in money = overtime hours less per worker and day × workers × workdays per month × hourly wage ×"
        " (premium − 1); the base pay is already in the efficiency line.",
    ),
    (
        "返工的钱 = 少的疵点 ÷ 100 × 每月产量 × 每个疵点返工分钟 × 每分钟工资。",
        "Rework in money = fewer defects per hundred ÷ 100 × garments per month × rework minutes per defect × wage"
        " per minute.",
    ),
    (
        "准时交货的钱 = 提高的准时率 ÷ 100 × 每月到期订单 × 每单件数 × 单价 × 延期损失比例。",
        "On time in money = on-time rate gained ÷ 100 × orders due per month × garments per order × price × cost"
        " of a late order.",
    ),
    (
        "回本月数 = 一次性投资 ÷（每月收益 − 每月软件费）；范围和“回不了本的概率”来自同样的重新抽样。",
        "Payback months = one-off investment ÷ (monthly benefit − software per month); its range and the chance"
        " of no payback come from the same resampling.",
    ),
)


def p(lang: str, key: str) -> str:
    e = P.get(key)
    if e is None:
        return key
    return e["en"] if lang == "en" else e["zh"]


def day_words(iso: str | None, lang: str = "zh") -> str:
    if not iso:
        return "–"
    d = date.fromisoformat(iso[:10])
    return f"{d.day} {MONTHS_EN[d.month - 1]}" if lang == "en" else f"{d.month}月{d.day}日"


def yuan(x: str | None, lang: str = "zh") -> str:
    if x is None:
        return "–"
    d = Decimal(x).quantize(Decimal(1))
    return f"CNY {d:,}" if lang == "en" else f"{d:,} 元"


def months_words(x: str | None, lang: str = "zh") -> str:
    return p(lang, "never") if x is None else f"{x} {p(lang, 'months')}"


def signed(x: str | None) -> str:
    if x is None:
        return "–"
    return x if x.startswith("-") else f"+{x}"


def pct_share(x: str | None) -> str:
    return "–" if x is None else f"{(Decimal(x) * 100).quantize(Decimal(1))}%"


def summary_lines(r: dict[str, Any], lang: str = "zh") -> list[str]:
    """The CLI's text: Chinese first, the English line beside (below) it."""
    out: list[str] = []
    for lg in ("zh", "en"):
        pl = ", ".join(r["pilot_lines"])
        cl = ", ".join(r["control_lines"])
        out.append(
            p(lg, "design").format(
                p=pl, s=day_words(r["sensors_from"], lg), c=cl, b=r["days_before"], a=r["days_after"]
            )
        )
    if r["preliminary"]:
        out.append(f"【{p('zh', 'preliminary')} / {p('en', 'preliminary')}】")
    for m in r["metrics"]:
        out.append(
            f"{p('zh', m['metric'])} / {p('en', m['metric'])}: "
            f"试点效果 effect {signed(m['did'])} [{m['did_lo'] or '–'} ~ {m['did_hi'] or '–'}]; "
            f"只看前后 naive {signed(m['naive'])}; 每月 per month {yuan(m['monthly_cny'])}"
        )
    mo = r["money"]
    if mo["counted"]:
        out.append(
            f"回本 payback {months_words(mo['payback_months'])} "
            f"(范围 range {months_words(mo['payback_p10'])} – {months_words(mo['payback_p90'])}); "
            f"12个月内回不了本的概率 P(no payback in 12 months) {pct_share(mo['p_no_payback_12'])}; "
            f"投资 investment {yuan(mo['one_off_cny'])}"
        )
    return out
