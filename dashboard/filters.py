"""The filter bar: one set of controls on every page, its state kept in the URL.

`Filters` is the state; `from_query`/`to_query` read and write the URL's query string,
so a link reproduces the view; `sql_params` gives the bound parameters every dashboard
query takes (see queries/marts/000_episodes_filtered.sql).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode

from dash import Input, dcc, html

from pipelines.schema import ETHNICITY_GROUPS, RISK_LEVELS

AGE_BANDS = ("under 10", "10-12", "13-15", "16-17")
SEXES = {"F": "Female", "M": "Male", "U": "Unknown or other"}
CARE_OPTIONS = {"all": "Home and care", "care": "From care", "home": "From home"}

FILTER_INPUTS = [
    Input("filter-start", "value"),
    Input("filter-end", "value"),
    Input("filter-care", "value"),
    Input("filter-age", "value"),
    Input("filter-sex", "value"),
    Input("filter-ethnicity", "value"),
    Input("filter-risk", "value"),
    Input("filter-small", "value"),
]
SHOW_SMALL = "show"


def financial_year(day: dt.date) -> tuple[dt.date, dt.date]:
    start_year = day.year if day.month >= 4 else day.year - 1
    return dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31)


def financial_quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    """The financial quarter (Apr–Jun, Jul–Sep, Oct–Dec, Jan–Mar) holding the day."""
    quarter = ((day.month - 4) % 12) // 3
    start_month = (3 + 3 * quarter) % 12 + 1
    start = dt.date(day.year, start_month, 1)
    next_month = start_month + 3
    end = dt.date(day.year + (next_month > 12), (next_month - 1) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def period_options(first: dt.date, last: dt.date) -> list[dict]:
    """Financial years and their quarters covering the store, newest first."""
    options = []
    start = financial_year(last)[0]
    while start >= financial_year(first)[0]:
        end = dt.date(start.year + 1, 3, 31)
        label = f"{start.year}/{str(start.year + 1)[2:]}"
        options.append({"label": f"Financial year {label}", "value": f"{start}_{end}"})
        for number, month_start in enumerate((dt.date(start.year, 4, 1), dt.date(start.year, 7, 1),
                                              dt.date(start.year, 10, 1), dt.date(start.year + 1, 1, 1)), 1):
            q_start, q_end = financial_quarter(month_start)
            if q_start <= last and q_end >= first:
                options.append({"label": f"Q{number} {label} ({q_start:%b}–{q_end:%b %Y})",
                                "value": f"{q_start}_{q_end}"})
        start = dt.date(start.year - 1, 4, 1)
    return options


@dataclass(frozen=True)
class Filters:
    period_start: dt.date
    period_end: dt.date
    care: str = "all"
    age_band: str | None = None
    sex: str | None = None
    ethnicity_group: str | None = None
    risk_level: str | None = None
    # Small numbers shown (managers, analysts, admins only: the data layer ignores it for the board).
    show_small: bool = False

    @classmethod
    def default(cls, last: dt.date | None) -> "Filters":
        start, end = financial_year(last or dt.date.today())
        return cls(start, end)

    @classmethod
    def from_values(cls, start, end, care, age, sex, ethnicity, risk, small=None, *,
                    fallback: "Filters | None" = None) -> "Filters":
        """From the controls' values; anything unknown falls back (by default to the default
        view's dates), so a crafted value matches nothing odd."""
        fallback = fallback or cls.default(None)

        def day(text, default):
            try:
                return dt.date.fromisoformat(str(text)[:10])
            except (TypeError, ValueError):
                return default

        start_day, end_day = day(start, fallback.period_start), day(end, fallback.period_end)
        if start_day > end_day:
            start_day, end_day = end_day, start_day
        return cls(
            start_day, end_day,
            care if care in CARE_OPTIONS else "all",
            age if age in AGE_BANDS else None,
            sex if sex in SEXES else None,
            ethnicity if ethnicity in ETHNICITY_GROUPS else None,
            risk if risk in RISK_LEVELS else None,
            small == SHOW_SMALL or (isinstance(small, list) and SHOW_SMALL in small),
        )

    @classmethod
    def from_query(cls, query: dict | str, fallback: "Filters") -> "Filters":
        if isinstance(query, str):
            query = {k: v[0] for k, v in parse_qs(query.lstrip("?")).items()}
        return cls.from_values(query.get("from"), query.get("to"), query.get("care"), query.get("age"),
                               query.get("sex"), query.get("ethnicity"), query.get("risk"), query.get("small"),
                               fallback=fallback)

    def to_query(self) -> str:
        pairs = {"from": self.period_start.isoformat(), "to": self.period_end.isoformat()}
        if self.care != "all":
            pairs["care"] = self.care
        for key, value in (("age", self.age_band), ("sex", self.sex), ("ethnicity", self.ethnicity_group),
                           ("risk", self.risk_level)):
            if value:
                pairs[key] = value
        if self.show_small:
            pairs["small"] = SHOW_SMALL
        return "?" + urlencode(pairs)

    def episode_filters(self) -> dict:
        return {
            "from_care": {"all": None, "care": True, "home": False}[self.care],
            "age_band": self.age_band,
            "sex": self.sex,
            "ethnicity_group": self.ethnicity_group,
            "risk_level": self.risk_level,
        }

    def sql_params(self) -> dict:
        return {"period_start": self.period_start, "period_end": self.period_end, **self.episode_filters()}

    def previous_period(self) -> "Filters":
        """The period just before, of the same length: whole months (a quarter, a financial
        year) step back by months, so leap days never shift it; other periods by days."""
        next_day = self.period_end + dt.timedelta(days=1)
        if self.period_start.day == 1 and next_day.day == 1:
            months = (next_day.year - self.period_start.year) * 12 + next_day.month - self.period_start.month
            index = self.period_start.year * 12 + self.period_start.month - 1 - months
            start = dt.date(index // 12, index % 12 + 1, 1)
            return replace(self, period_start=start, period_end=self.period_start - dt.timedelta(days=1))
        length = self.period_end - self.period_start
        end = self.period_start - dt.timedelta(days=1)
        return replace(self, period_start=end - length, period_end=end)

    def year_before(self) -> "Filters":
        def back(day: dt.date) -> dt.date:
            try:
                return day.replace(year=day.year - 1)
            except ValueError:  # 29 February
                return day.replace(year=day.year - 1, day=28)

        return replace(self, period_start=back(self.period_start), period_end=back(self.period_end))

    def describe(self) -> str:
        parts = [f"{self.period_start:%-d %b %Y} to {self.period_end:%-d %b %Y}", CARE_OPTIONS[self.care].lower()]
        for label, value in (("age", self.age_band), ("sex", SEXES.get(self.sex or "")),
                             ("ethnicity", self.ethnicity_group), ("risk", self.risk_level)):
            if value:
                parts.append(f"{label} {value}")
        return ", ".join(parts)


def _labelled(label: str, control) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control.id), control], className="filter")


def small_numbers_control(filters: Filters, may_show: bool) -> html.Div:
    """Managers, analysts and admins may show small numbers; the board sees the rule."""
    if not may_show:
        return html.Div([
            dcc.RadioItems(id="filter-small", options=[], value="hide", style={"display": "none"}),
            html.P("Counts from 1 to 4 are shown as <5.", className="filter-note"),
        ], className="filter")
    return html.Div(html.Fieldset([
        html.Legend("Small numbers (1–4)"),
        dcc.RadioItems(id="filter-small", options=[{"label": "Withhold", "value": "hide"},
                                                   {"label": "Show", "value": SHOW_SMALL}],
                       value=SHOW_SMALL if filters.show_small else "hide", inline=True),
    ], className="filter-fieldset"), className="filter")


def filter_bar(filters: Filters, first: dt.date | None, last: dt.date | None, may_show_small: bool = False) -> html.Form:
    options = period_options(first, last) if first and last else []
    current = f"{filters.period_start}_{filters.period_end}"
    values = {o["value"] for o in options}
    return html.Form([
        _labelled("Period", dcc.Dropdown(
            id="filter-period", options=options + [{"label": "Custom dates", "value": "custom"}],
            value=current if current in values else "custom", clearable=False)),
        # Native date inputs: typed or picked, and accessible (Dash 4's date picker is not).
        _labelled("From", dcc.Input(id="filter-start", type="date", value=filters.period_start.isoformat(),
                                    className="date-input")),
        _labelled("To", dcc.Input(id="filter-end", type="date", value=filters.period_end.isoformat(),
                                  className="date-input")),
        _labelled("From home or care", dcc.Dropdown(
            id="filter-care", options=[{"label": v, "value": k} for k, v in CARE_OPTIONS.items()],
            value=filters.care, clearable=False)),
        _labelled("Age band", dcc.Dropdown(id="filter-age", options=list(AGE_BANDS), value=filters.age_band,
                                           placeholder="All ages")),
        _labelled("Sex", dcc.Dropdown(id="filter-sex", options=[{"label": v, "value": k} for k, v in SEXES.items()],
                                      value=filters.sex, placeholder="All")),
        _labelled("Ethnicity group", dcc.Dropdown(id="filter-ethnicity", options=list(ETHNICITY_GROUPS),
                                                  value=filters.ethnicity_group, placeholder="All")),
        _labelled("Risk level", dcc.Dropdown(
            id="filter-risk", options=[{"label": r.replace("_", " "), "value": r} for r in RISK_LEVELS],
            value=filters.risk_level, placeholder="All")),
        small_numbers_control(filters, may_show_small),
    ], className="filter-bar", role="search", **{"aria-label": "Filters"})
