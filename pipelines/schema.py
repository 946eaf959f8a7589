"""The one declaration of every input table mfhc reads.

Validation (`pipelines.validate`), the staging DDL (`staging_ddl`), the docs table of
columns (`docs/inputs.md`, checked by a test) and the synthetic generator all read these
declarations, so a column is described in exactly one place.

A column's `kind` says how its text is parsed; its `identifier` says what the degrade
stage does with it before anything is stored (see `pipelines.degrade`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Kinds of value and the DuckDB type each is stored as.
SQL_TYPE_OF_KIND = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "date": "DATE",  # YYYY-MM-DD
    "date_dmy": "DATE",  # DD/MM/YYYY (SSDA903)
    "datetime": "TIMESTAMP",  # ISO 8601, local UK time
    "int": "INTEGER",
    "flag": "BOOLEAN",  # Y/N
    "code_list": "VARCHAR[]",  # ';'-separated codes
    "ref_list": "VARCHAR[]",  # ';'-separated references (pseudonymised)
}

SEX_CODES = ("M", "F", "U")
SSDA903_SEX_CODES = ("M", "F", "U", "1", "2")
ETHNICITY_CODES = (
    "WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
    "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
)
ETHNICITY_GROUPS = {
    "White": ("WBRI", "WIRI", "WOTH", "WIRT", "WROM"),
    "Mixed": ("MWBC", "MWBA", "MWAS", "MOTH"),
    "Asian": ("AIND", "APKN", "ABAN", "AOTH", "CHNE"),
    "Black": ("BCRB", "BAFR", "BOTH"),
    "Other": ("OOTH",),
    "Not known": ("REFU", "NOBT"),
}
MISSING_FROM_TYPES = ("home", "foster_care", "childrens_home", "other_placement", "school", "other")
CARE_MISSING_FROM_TYPES = ("foster_care", "childrens_home", "other_placement")
RISK_LEVELS = ("high", "medium", "low", "no_apparent_risk")
FOUND_LOCATION_TYPES = (
    "home", "friend_or_family", "known_adult", "street", "transport_hub", "hospital",
    "police_station", "other",
)
FOUND_BY = ("returned_self", "police", "family_or_carer", "other")
RHI_OUTCOMES = ("completed", "declined", "no_contact", "not_offered")
PUSH_PULL_FACTORS = (
    "family_conflict", "placement_issues", "peer_influence", "exploitation",
    "substance_misuse", "mental_health", "school_issues", "relationship", "bereavement",
    "other",
)
TERMS = ("autumn", "spring", "summer")
# DfE SSDA903 placement types (PLACE); K1/K2 are (secure) children's homes.
PLACE_CODES = (
    "A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5",
    "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
)
CHILDRENS_HOME_PLACE_CODES = ("K1", "K2")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    meaning: str = ""
    codes: tuple[str, ...] = ()
    # What degrade does before storing: None (kept as parsed), "pseudonymise" (keyed
    # hash, in `namespace`), "month" (date cut to the first of its month), "postcode"
    # (replaced by ward, LSOA and a 100 m grid point), "sector" (partial postcode kept
    # only as a distance), "drop" (never stored: free text and names).
    identifier: str | None = None
    namespace: str = ""
    unique: bool = False
    # Columns of which at least one must be given on each row share a group name.
    one_of: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPE_OF_KIND[self.kind]

    def stored_columns(self) -> list[tuple[str, str]]:
        """The (name, DuckDB type) pairs this column becomes in the store."""
        base = self.name.lower()
        if self.identifier == "pseudonymise" and self.kind == "ref_list":
            return [(base, self.sql_type)]  # each reference pseudonymised inside the list
        if self.identifier == "pseudonymise":
            stem = base[:-4] if base.endswith("_ref") else base
            return [(f"{stem}_key", "VARCHAR")]
        if self.identifier == "month":
            return [("birth_month", "DATE")]
        if self.identifier == "postcode":
            stem = base[: -len("_postcode")] if base.endswith("_postcode") else base
            return [
                (f"{stem}_ward", "VARCHAR"),
                (f"{stem}_lsoa", "VARCHAR"),
                (f"{stem}_la", "VARCHAR"),
                (f"{stem}_grid_e", "INTEGER"),
                (f"{stem}_grid_n", "INTEGER"),
            ]
        if self.identifier in ("drop", "sector"):
            return []
        return [(base, self.sql_type)]


@dataclass(frozen=True)
class Table:
    name: str  # staging table name, and the [sources.<name>] key in mfhc.toml
    path: str  # file name inside the source folder
    columns: tuple[Column, ...]
    meaning: str = ""
    required_file: bool = False  # False: an absent file is skipped and reported
    extra_stored: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def stored_columns(self) -> list[tuple[str, str]]:
        cols = [("source_file", "VARCHAR"), ("source_row", "INTEGER")]
        for c in self.columns:
            cols.extend(c.stored_columns())
        cols.extend(self.extra_stored)
        return cols


def staging_ddl(table: Table, temporary: bool = False) -> str:
    cols = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in table.stored_columns())
    return f"create {'temp ' if temporary else ''}table stg_{table.name} (\n    {cols}\n)"


C = Column

POLICE_INCIDENTS = Table(
    name="police_incidents",
    path="police_incidents.csv",
    meaning="One row per police missing-person incident about a person under 18 at the time.",
    columns=(
        C("incident_ref", "text", True, "force's incident reference, unique in the file",
          identifier="pseudonymise", namespace="incident", unique=True),
        C("person_ref", "text", True, "force's person reference (the same child has the same ref)",
          identifier="pseudonymise", namespace="person"),
        C("la_child_ref", "text", False, "the local authority's child reference (SSDA903 CHILD) where known",
          identifier="pseudonymise", namespace="child"),
        C("date_of_birth", "date", True, "date of birth, YYYY-MM-DD (stored as its month only)",
          identifier="month"),
        C("sex", "code", True, "M, F, U (unknown/other)", codes=SEX_CODES),
        C("ethnicity", "code", False, "DfE ethnicity code", codes=ETHNICITY_CODES),
        C("category", "code", True, "missing or absent (police definitions of April 2013)",
          codes=("missing", "absent")),
        C("risk_level", "code", True, "police risk assessment", codes=RISK_LEVELS),
        C("last_seen_at", "datetime", True, "date-time the child was last seen (episode start)"),
        C("reported_at", "datetime", True, "date-time reported to police (not before last_seen_at)"),
        C("found_at", "datetime", False, "date-time found or returned; blank while still missing"),
        C("missing_from_type", "code", True, "where the child went missing from", codes=MISSING_FROM_TYPES),
        C("missing_from_postcode", "text", False, "full postcode of where the child went missing from",
          identifier="postcode"),
        C("found_postcode", "text", False, "full postcode of where the child was found",
          identifier="postcode"),
        C("found_location_type", "code", False, "kind of place the child was found", codes=FOUND_LOCATION_TYPES),
        C("found_by", "code", False, "who found or returned the child", codes=FOUND_BY),
        C("safe_and_well_at", "datetime", False, "date-time of the police safe and well check"),
        C("safe_and_well_not_done_reason", "text", False,
          "free text; recorded when no check was done (never stored: free text may name people)",
          identifier="drop"),
        C("placing_la_code", "text", False, "ONS code of the authority responsible for a looked-after child"),
        C("cse_concern", "flag", False, "Y/N: sexual exploitation concern noted by police"),
        C("cce_concern", "flag", False, "Y/N: criminal exploitation concern noted by police"),
    ),
    extra_stored=(
        ("safe_and_well_reason_given", "BOOLEAN"),
        ("home_urn", "VARCHAR"),
    ),
)

SSDA903_HEADER = Table(
    name="ssda903_header",
    path="ssda903/header.csv",
    meaning="SSDA903 Header: one row per looked-after child.",
    columns=(
        C("CHILD", "text", True, "LA child reference", identifier="pseudonymise", namespace="child"),
        C("SEX", "code", True, "M, F, U (1/2 in older years)", codes=SSDA903_SEX_CODES),
        C("DOB", "date_dmy", True, "date of birth DD/MM/YYYY (stored as its month only)", identifier="month"),
        C("ETHNIC", "code", False, "DfE ethnicity code", codes=ETHNICITY_CODES),
        C("UPN", "text", False, "unique pupil number", identifier="pseudonymise", namespace="upn"),
        C("MOTHER", "text", False, "child is a mother (never stored)", identifier="drop"),
        C("MC_DOB", "text", False, "date of birth of the child's child (never stored)", identifier="drop"),
    ),
    extra_stored=(("collection_year", "VARCHAR"),),
)

SSDA903_EPISODES = Table(
    name="ssda903_episodes",
    path="ssda903/episodes.csv",
    meaning="SSDA903 Episodes: one row per episode of care (placement).",
    columns=(
        C("CHILD", "text", True, "LA child reference", identifier="pseudonymise", namespace="child"),
        C("DECOM", "date_dmy", True, "date the episode of care started"),
        C("RNE", "text", False, "reason for new episode"),
        C("LS", "text", False, "legal status"),
        C("CIN", "text", False, "category of need"),
        C("PLACE", "code", True, "placement type (K1/K2: children's homes)", codes=PLACE_CODES),
        C("PLACE_PROVIDER", "text", False, "placement provider"),
        C("DEC", "date_dmy", False, "date the episode ceased"),
        C("REC", "text", False, "reason episode ceased"),
        C("REASON_PLACE_CHANGE", "text", False, "reason for placement change"),
        C("HOME_POST", "text", False, "postcode sector of the child's home (kept only as a distance)",
          identifier="sector"),
        C("PL_POST", "text", False, "postcode sector of the placement (kept only as a distance)",
          identifier="sector"),
        C("URN", "text", False, "Ofsted URN of the home (XXXXXXX where none applies)"),
    ),
    extra_stored=(("collection_year", "VARCHAR"), ("placement_distance_miles", "DOUBLE")),
)

SSDA903_MISSING = Table(
    name="ssda903_missing",
    path="ssda903/missing.csv",
    meaning="SSDA903 Missing: one row per period missing (M) or away without authorisation (A).",
    columns=(
        C("CHILD", "text", True, "LA child reference", identifier="pseudonymise", namespace="child"),
        C("DOB", "date_dmy", False, "date of birth (stored as its month only)", identifier="month"),
        C("MISSING", "code", True, "M missing, A away from placement without authorisation", codes=("M", "A")),
        C("MIS_START", "date_dmy", True, "date the period started"),
        C("MIS_END", "date_dmy", False, "date the period ended; blank while still missing"),
    ),
    extra_stored=(("collection_year", "VARCHAR"),),
)

SSDA903_UASC = Table(
    name="ssda903_uasc",
    path="ssda903/uasc.csv",
    meaning="SSDA903 UASC: unaccompanied asylum-seeking children.",
    columns=(
        C("CHILD", "text", True, "LA child reference", identifier="pseudonymise", namespace="child"),
        C("SEX", "code", False, "M, F, U (1/2 in older years)", codes=SSDA903_SEX_CODES),
        C("DOB", "date_dmy", False, "date of birth (stored as its month only)", identifier="month"),
        C("DUC", "date_dmy", False, "date the child ceased to be UASC"),
    ),
    extra_stored=(("collection_year", "VARCHAR"),),
)

RETURN_INTERVIEWS = Table(
    name="return_interviews",
    path="return_interviews.csv",
    meaning="One row per return home interview offer; one RHI may cover several episodes.",
    columns=(
        C("rhi_ref", "text", True, "unique reference", identifier="pseudonymise", namespace="rhi", unique=True),
        C("child_ref", "text", False, "LA child reference (SSDA903 CHILD or the LA's own id)",
          identifier="pseudonymise", namespace="child", one_of="child"),
        C("person_ref", "text", False, "police person reference (child known only to police)",
          identifier="pseudonymise", namespace="person", one_of="child"),
        C("episode_refs", "ref_list", False,
          "';'-separated police incident refs and/or CHILD:MIS_START keys this RHI covers",
          identifier="pseudonymise"),
        C("offered_at", "datetime", False, "date-time the interview was offered (required unless not_offered)"),
        C("outcome", "code", True, "completed, declined, no_contact, not_offered", codes=RHI_OUTCOMES),
        C("completed_at", "datetime", False, "date-time held (required when completed)"),
        C("independent", "flag", False, "Y/N: held by someone independent of the child's care"),
        C("provider", "text", False, "organisation that held it"),
        C("parent_carer_consulted", "flag", False, "Y/N: where the child declined, were parents/carers asked"),
        C("push_pull_factors", "code_list", False, "';'-separated push/pull factors", codes=PUSH_PULL_FACTORS),
        C("harm_disclosed", "flag", False, "Y/N"),
        C("cse_risk", "flag", False, "Y/N"),
        C("cce_risk", "flag", False, "Y/N"),
        C("trafficking_risk", "flag", False, "Y/N"),
        C("gang_risk", "flag", False, "Y/N"),
    ),
)

ATTENDANCE = Table(
    name="attendance",
    path="attendance.csv",
    meaning="One row per pupil per term (DfE census conventions).",
    columns=(
        C("upn", "text", True, "unique pupil number", identifier="pseudonymise", namespace="upn"),
        C("academic_year", "code", True, "academic year, e.g. 2024/25"),
        C("term", "code", True, "autumn, spring, summer", codes=TERMS),
        C("school_urn", "text", False, "school URN"),
        C("sess_possible", "int", True, "possible sessions"),
        C("sess_authorised", "int", True, "authorised absence sessions"),
        C("sess_unauthorised", "int", True, "unauthorised absence sessions"),
    ),
)

CHILDREN_MISSING_EDUCATION = Table(
    name="children_missing_education",
    path="children_missing_education.csv",
    meaning="Children missing education (optional).",
    columns=(
        C("child_ref", "text", False, "LA child reference", identifier="pseudonymise", namespace="child",
          one_of="child"),
        C("upn", "text", False, "unique pupil number", identifier="pseudonymise", namespace="upn", one_of="child"),
        C("start_date", "date", True, "date the child started missing education"),
        C("end_date", "date", False, "date it ended; blank while ongoing"),
    ),
)

CHILD_XREF = Table(
    name="child_xref",
    path="child_xref.csv",
    meaning="Links police person references to LA children and UPNs, as kept by the MASH.",
    columns=(
        C("person_ref", "text", True, "police person reference", identifier="pseudonymise", namespace="person"),
        C("child_ref", "text", False, "LA child reference", identifier="pseudonymise", namespace="child"),
        C("upn", "text", False, "unique pupil number", identifier="pseudonymise", namespace="upn"),
    ),
)

HOMES = Table(
    name="homes",
    path="homes.csv",
    meaning="The authority's children's homes (an .xlsx with these columns is accepted too).",
    columns=(
        C("urn", "text", True, "Ofsted unique reference number", unique=True),
        C("name", "text", True, "name of the home"),
        C("provider", "text", False, "provider"),
        C("postcode", "text", False, "postcode of the home (used only to match police records; never stored)",
          identifier="drop"),
        C("places", "int", False, "registered places"),
        C("la_code", "text", False, "ONS code of the authority it is in"),
        C("overall_effectiveness", "text", False, "latest Ofsted overall effectiveness judgement"),
    ),
)

POPULATION = Table(
    name="population",
    path="geography/population.csv",
    meaning="Child population by area (ward or LSOA code).",
    columns=(
        C("area_code", "text", True, "ONS ward or LSOA code"),
        C("children", "int", True, "resident children"),
    ),
)

TABLES: tuple[Table, ...] = (
    POLICE_INCIDENTS,
    SSDA903_HEADER,
    SSDA903_EPISODES,
    SSDA903_MISSING,
    SSDA903_UASC,
    RETURN_INTERVIEWS,
    ATTENDANCE,
    CHILDREN_MISSING_EDUCATION,
    CHILD_XREF,
    HOMES,
    POPULATION,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}
SSDA903_TABLES = (SSDA903_HEADER, SSDA903_EPISODES, SSDA903_MISSING, SSDA903_UASC)
