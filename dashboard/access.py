"""Who may see what: the roles, and the level of detail of every named query.

Enforced in the data layer (`dashboard.data`), not only in the pages: a callback asked
directly, by any session, gets from `data.query` only what the session's role allows.

- `board`: the board view: the pages a board reads (overview, children's homes, hotspots,
  repeat missing, return interviews, the checklist), aggregates only, small numbers always
  suppressed (docs/metrics.md "Small numbers"). The officers' pages (school absence,
  looked-after children, data quality) are for managers and up.
- `manager`: aggregates; may turn suppression off.
- `analyst`: also the pseudonymised record-level views (a child's timeline, the lists of
  children meeting the escalation rule, UASC children, rejected rows) and their downloads.
- `admin`: everything an analyst may, plus users, loads and the audit log.

Every named query of queries/metrics is declared here as record-level or as an aggregate
with its count columns and the ratio columns built on them (a test holds the list
complete; an undeclared query is refused to everyone but admins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.users import ROLES  # one list of roles, for accounts and for access

ROLE_LABELS = {"board": "Board member", "manager": "Manager", "analyst": "Analyst", "admin": "Administrator"}


class AccessDenied(Exception):
    """The session's role may not see this."""


OFFICERS = ("manager", "analyst", "admin")


@dataclass(frozen=True)
class Aggregate:
    counts: tuple = ()
    shares: dict = field(default_factory=dict)   # {ratio column: (columns it is built on)}
    roles: tuple = ROLES                          # who may run it


RECORD = "record"

_RHI = ("rhi_offered_within_72h", "rhi_completed_within_72h")

QUERIES: dict[str, Aggregate | str] = {
    "kpis": Aggregate(),   # suppressed by pipelines.kpis.compute_kpis(suppress=True)
    "overview_monthly_trend": Aggregate(("episodes", "children")),
    "homes_rates": Aggregate(("episodes", "children", "episodes_child_not_in_ssda903")),
    "homes_monthly": Aggregate(("episodes", "children")),
    "homes_hour_day": Aggregate(("episodes",)),
    "hotspots_ward_rates": Aggregate(("episodes",), {"rate_per_1000": ("episodes",)}),  # children: population
    "hotspots_place_coverage": Aggregate(("episodes", "police_known", "with_ward", "ssda903_only",
                                          "outside_area", "place_unknown")),
    "hotspots_found_cells": Aggregate(("episodes",)),
    "hotspots_ward_boundaries": Aggregate(),
    "hotspots_imd_coverage": Aggregate(),          # counts of areas, not of children
    "repeat_cohort_bands": Aggregate(("children", "episodes"), {"share_of_episodes_pct": ("episodes",)}),
    "repeat_newly_by_month": Aggregate(("children_newly_repeat",)),
    "repeat_escalation": RECORD,
    "repeat_top_children": RECORD,
    "repeat_child_episodes": RECORD,
    "repeat_child_interviews": RECORD,
    "repeat_child_placements": RECORD,
    "interviews_by_month": Aggregate(("returned_missing_episodes", *_RHI), {
        f"{c}_pct": (c, "returned_missing_episodes") for c in _RHI}),
    "interviews_by_provider": Aggregate(("episodes", *_RHI), {f"{c}_pct": (c, "episodes") for c in _RHI}),
    "interviews_outcomes": Aggregate(
        ("returned_missing_episodes", "declined_only", "no_contact_only", "declined_rhis",
         "parent_carer_consulted", "consulted_not_recorded"),
        {"declined_only_pct": ("declined_only", "returned_missing_episodes"),
         "no_contact_only_pct": ("no_contact_only", "returned_missing_episodes"),
         "parent_carer_consulted_pct": ("parent_carer_consulted", "declined_rhis")}),
    "interviews_factors": Aggregate(("interviews",)),
    "interviews_risks": Aggregate(("interviews",)),
    "absence_by_term": Aggregate(("pupils", "persistent_pupils", "severe_pupils"), {
        "absence_rate_pct": ("pupils",), "persistent_pct": ("persistent_pupils", "pupils"),
        "severe_pct": ("severe_pupils", "pupils")}, roles=OFFICERS),
    "absence_linkage": Aggregate(("children", "children_with_upn", "children_without_upn",
                                  "children_with_attendance", "children_without_attendance"), roles=OFFICERS),
    "absence_children_missing_education": Aggregate(("cme_children", "cme_children_went_missing"), roles=OFFICERS),
    "care_source_by_month": Aggregate(("episodes",), roles=OFFICERS),
    "care_away_by_month": Aggregate(("away_episodes", "from_care_episodes", "away_from_care_episodes"), {
        "away_share_of_from_care_pct": ("away_from_care_episodes", "from_care_episodes")}, roles=OFFICERS),
    "care_distance_rates": Aggregate(("episodes",), {"episodes_per_child_year": ("episodes",)}, roles=OFFICERS),
    "care_placed_by_other_la": Aggregate(("episodes", "children"), roles=OFFICERS),
    "care_uasc_missing": RECORD,
    "care_uasc_first_looked_after": Aggregate(("uasc_children",), roles=OFFICERS),
    # Data quality: counts of source rows and findings, not of children or episodes; not suppressed.
    "quality_load_log": Aggregate(roles=OFFICERS),
    "quality_rejections_by_rule": Aggregate(roles=OFFICERS),
    "quality_rejected_rows": RECORD,
    "quality_source_status": Aggregate(roles=OFFICERS),
    "quality_ssda903_findings": Aggregate(roles=OFFICERS),
    "quality_police_not_in_ssda903": Aggregate(("episodes", "children"), roles=OFFICERS),
    "quality_rhi_unmatched": Aggregate(roles=OFFICERS),
    "annex_a_children": "admin",
}


def may_see_records(role: str | None) -> bool:
    return role in ("analyst", "admin")


def may_show_small_numbers(role: str | None) -> bool:
    return role in ("manager", "analyst", "admin")


def is_admin(role: str | None) -> bool:
    return role == "admin"


def check(name: str, role: str | None) -> Aggregate | str:
    """The query's declaration if the role may run it; AccessDenied otherwise."""
    if role not in ROLES:
        raise AccessDenied("no signed-in user")
    policy = QUERIES.get(name)
    if policy is None or policy == "admin":
        if is_admin(role):
            return RECORD
        raise AccessDenied(f"{name}: not available to the {role} role")
    if policy == RECORD and not may_see_records(role):
        raise AccessDenied(f"{name}: record-level data is for analysts")
    if isinstance(policy, Aggregate) and role not in policy.roles:
        raise AccessDenied(f"{name}: not in the {role} view")
    return policy
