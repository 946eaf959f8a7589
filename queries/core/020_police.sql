-- A child is the local authority's child where known (la_child_ref, or child_xref.csv),
-- otherwise the police person. The tables and the view of this file are temporary: read
-- only by the build, so never compressed into the store (`mfhc load --keep-staging` keeps
-- the tables, with the staged rows, for an audit of the linking).

create temp table core_person_child as
with pairs as (
    select person_key, la_child_key as child_key
    from stg_police_incidents
    where la_child_key is not null
    union all
    select person_key, child_key
    from stg_child_xref
    where child_key is not null
)
select person_key, min(child_key) as child_key, count(distinct child_key) as child_keys
from pairs
group by person_key;

-- A view, not a copy: the staged incidents with their child.
create temp view core_police_incident as
select
    incident.*,
    coalesce(incident.la_child_key, person_child.child_key, incident.person_key) as child_id
from stg_police_incidents as incident
left join core_person_child as person_child using (person_key);

-- Overlapping incidents of one child are one episode (gaps and islands over the times;
-- an open incident runs on for ever). The times ride along in a temporary table, so the
-- spans are read off it without joining the incidents again.
create temp table police_island_times as
with ordered as (
    select
        incident_key,
        child_id,
        last_seen_at,
        found_at,
        coalesce(found_at, 'infinity'::timestamp) as runs_until
    from core_police_incident
),

with_previous as (
    select
        *,
        max(runs_until) over (
            partition by child_id
            order by last_seen_at, runs_until, incident_key
            rows between unbounded preceding and 1 preceding
        ) as previous_runs_until
    from ordered
),

flagged as (
    select
        *,
        case when previous_runs_until is null or last_seen_at > previous_runs_until then 1 else 0 end
            as starts_island
    from with_previous
)

select
    incident_key,
    child_id,
    sum(starts_island) over (
        partition by child_id
        order by last_seen_at, runs_until, incident_key
        rows unbounded preceding
    ) as island,
    last_seen_at,
    found_at
from flagged;

create temp table core_police_island as
select incident_key, child_id, island from police_island_times;

create temp table core_police_span as
with spans as (
    select
        child_id,
        island,
        min(last_seen_at)::date as start_date,
        case when bool_or(found_at is null) then null else max(found_at)::date end as end_date
    from police_island_times
    group by child_id, island
)
select
    row_number() over (order by child_id, island) - 1 as span_id,
    *
from spans;

drop table police_island_times;

-- Police spans and SSDA903 Missing rows of the same child whose calendar dates overlap
-- (both ends inclusive, a blank end open-ended) belong to one episode.
create temp table core_span_missing_edge as
select span.span_id, missing.missing_id
from core_police_span as span
join core_ssda903_missing as missing
    on missing.child_key = span.child_id
    and span.start_date <= coalesce(missing.mis_end, 'infinity'::date)
    and missing.mis_start <= coalesce(span.end_date, 'infinity'::date);
