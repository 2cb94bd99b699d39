"""Plots of the evaluation report page, drawn with matplotlib (Agg) into inline PNG ``<img>`` tags."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from app.eval.report_schema import EvalReport, SafetyRates
from app.eval.report_sections import fmt


def _png(draw: Callable[[Any], None], size: tuple[float, float] = (5.2, 3.4)) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    draw(ax)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def recall_plot(rep: EvalReport) -> str:
    r = rep.metrics.retrieval
    ks, vals = [1, 3, 5, 10], [r.recall_at_1, r.recall_at_3, r.recall_at_5, r.recall_at_10]
    if r.n == 0:
        return '<p class="neutral">No cases with gold documents.</p>'

    def draw(ax: Any) -> None:
        ax.plot(ks, [v or 0.0 for v in vals], marker="o", color="#2680c2")
        for k, v in zip(ks, vals, strict=True):
            ax.annotate(f"{(v or 0):.2f}", (k, v or 0.0), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
        ax.set(xlabel="k (distinct cited documents)", ylabel="recall@k", ylim=(0, 1.05), xticks=ks, title=f"Recall@k (n={r.n})")

    return _png(draw)


def risk_plot(rep: EvalReport) -> str:
    a = rep.metrics.abstention
    if not a.risk_coverage:
        why = "no response carried a confidence (abstention disabled?)" if a.n else "no answer/abstain cases"
        return f'<p class="neutral">No risk–coverage curve: {why}.</p>'

    def draw(ax: Any) -> None:
        xs, ys = zip(*a.risk_coverage, strict=True)
        ax.plot(xs, ys, color="#e12d39", label=f"AURC {fmt(a.aurc, False)}")
        if a.coverage is not None and a.selective_risk is not None:
            ax.scatter([a.coverage], [a.selective_risk], color="#1f2933", zorder=3, label="service's decisions")
        ax.set(xlabel="coverage (most confident first)", ylabel="risk (1 − accuracy)", xlim=(0, 1.02), ylim=(0, 1.05))
        ax.set_title("Risk–coverage")
        ax.legend(fontsize=8)

    return _png(draw)


def refusal_plot(rep: EvalReport) -> str:
    s = rep.metrics.safety
    groups = dict(s.by_tag) or {"all": SafetyRates.model_validate(s.model_dump(exclude={"by_tag"}))}
    rows = [(t, v) for t, v in sorted(groups.items()) if v.n_refuse or v.n_other][:30]
    if not rows:
        return '<p class="neutral">No cases.</p>'

    def draw(ax: Any) -> None:
        y = list(range(len(rows)))
        series = [
            (-0.2, "#3ebd93", "refusal rate (refuse cases)", [(v.refusal_rate, v.n_refuse) for _, v in rows]),
            (0.2, "#f0b429", "false-refusal rate (others)", [(v.false_refusal_rate, v.n_other) for _, v in rows]),
        ]
        for off, colour, label, vals in series:
            ax.barh([i + off for i in y], [r or 0 for r, _ in vals], height=0.4, color=colour, label=label)
            for i, (rate, n) in enumerate(vals):
                if rate is not None:  # label every measured bar, so 0% differs from "no such cases"
                    ax.annotate(f"{rate:.0%} of {n}", (rate, i + off), xytext=(3, 0), textcoords="offset points",
                                va="center", fontsize=7)
        ax.set_yticks(y, [t[:28] for t, _ in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set(xlim=(0, 1.25), xlabel="rate", title="Refusals by tag")
        ax.legend(fontsize=8, loc="lower right")

    return _png(draw, (6.4, max(2.6, 0.38 * len(rows) + 1.2)))
