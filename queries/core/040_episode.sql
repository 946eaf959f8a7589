-- One row per episode: police incidents and SSDA903 Missing rows joined into episodes by
-- the component step (core_span_episode, core_missing_episode). Times, risk and places
-- come from the police record; the category is the police one where there is one.

-- Temporary: read only by the build, so never compressed into the store (`mfhc load
-- --keep-staging` keeps it, with the staged rows, for an audit of the linking).
create temp table core_incident_episode as
select island.incident_key, span_episode.episode_id
from core_police_island as island
join core_police_span as span using (child_id, island)
join core_span_episode as span_episode using (span_id);

create table dim_child as
with police_latest as (
    select
        child_id,
        arg_max(sex, last_seen_at) as sex,
        arg_max(ethnicity, last_seen_at) as ethnicity,
        arg_max(birth_month, last_seen_at) as birth_month
    from core_police_incident
    group by child_id
),

children as (
    select child_id from police_latest
    union
    select child_key as child_id from core_ssda903_child
)

select
    children.child_id,
    case header.sex when '1' then 'M' when '2' then 'F' else coalesce(header.sex, police_latest.sex) end as sex,
    coalesce(header.ethnic, police_latest.ethnicity) as ethnicity,
    coalesce(header.birth_month, police_latest.birth_month) as birth_month,
    ssda903_child.child_key is not null as known_to_ssda903,
    uasc.child_key is not null as uasc
from children
left join core_ssda903_header as header on header.child_key = children.child_id
left join police_latest on police_latest.child_id = children.child_id
left join core_ssda903_child as ssda903_child on ssda903_child.child_key = children.child_id
left join (select distinct child_key from stg_ssda903_uasc) as uasc on uasc.child_key = children.child_id;

-- Built as a temporary table (in memory, never compressed into the store): only the RHI
-- links and fct_episode read it. Once fct_episode is built (050), core_episode becomes a
-- view of fct_episode's first columns (the same rows), so the store holds one wide copy.
create temp table core_episode as
with incidents_per_episode as (
    select episode_id, count(*) as incidents
    from core_incident_episode
    group by episode_id
),

police as (
    select
        incident_episode.episode_id,
        incidents_per_episode.incidents,
        incident.*,
        case incident.risk_level
            when 'high' then 1 when 'medium' then 2 when 'low' then 3 else 4
        end as risk_order
    from core_police_incident as incident
    join core_incident_episode as incident_episode using (incident_key)
    join incidents_per_episode using (episode_id)
),

-- An episode of one incident (nearly all) takes that incident's values: exactly what the
-- aggregates below give over one row (arg_min and arg_max skip a row whose ordering value
-- is null). Only episodes of several incidents are aggregated.
police_episode as (
    select
        episode_id,
        child_id,
        1::bigint as police_incidents,
        case when last_seen_at is not null then category end as category,
        last_seen_at as start_at,
        reported_at,
        found_at as end_at,
        risk_level,
        case when last_seen_at is not null then missing_from_type end as missing_from_type,
        case when last_seen_at is not null then missing_from_ward end as missing_from_ward,
        case when last_seen_at is not null then missing_from_lsoa end as missing_from_lsoa,
        case when last_seen_at is not null then missing_from_la end as missing_from_la,
        case when last_seen_at is not null then missing_from_grid_e end as missing_from_grid_e,
        case when last_seen_at is not null then missing_from_grid_n end as missing_from_grid_n,
        case when found_at is not null then found_ward end as found_ward,
        case when found_at is not null then found_lsoa end as found_lsoa,
        case when found_at is not null then found_la end as found_la,
        case when found_at is not null then found_grid_e end as found_grid_e,
        case when found_at is not null then found_grid_n end as found_grid_n,
        case when found_at is not null then found_location_type end as found_location_type,
        case when found_at is not null then found_by end as found_by,
        safe_and_well_at,
        coalesce(cse_concern, false) as cse_concern,
        coalesce(cce_concern, false) as cce_concern,
        case when last_seen_at is not null then placing_la_code end as placing_la_code,
        case when last_seen_at is not null then home_urn end as police_home_urn
    from police
    where incidents = 1

    union all

    select
        episode_id,
        any_value(child_id) as child_id,
        count(*) as police_incidents,
        arg_min(category, last_seen_at) as category,
        min(last_seen_at) as start_at,
        min(reported_at) as reported_at,
        case when bool_or(found_at is null) then null else max(found_at) end as end_at,
        arg_min(risk_level, risk_order) as risk_level,
        arg_min(missing_from_type, last_seen_at) as missing_from_type,
        arg_min(missing_from_ward, last_seen_at) as missing_from_ward,
        arg_min(missing_from_lsoa, last_seen_at) as missing_from_lsoa,
        arg_min(missing_from_la, last_seen_at) as missing_from_la,
        arg_min(missing_from_grid_e, last_seen_at) as missing_from_grid_e,
        arg_min(missing_from_grid_n, last_seen_at) as missing_from_grid_n,
        arg_max(found_ward, found_at) as found_ward,
        arg_max(found_lsoa, found_at) as found_lsoa,
        arg_max(found_la, found_at) as found_la,
        arg_max(found_grid_e, found_at) as found_grid_e,
        arg_max(found_grid_n, found_at) as found_grid_n,
        arg_max(found_location_type, found_at) as found_location_type,
        arg_max(found_by, found_at) as found_by,
        min(safe_and_well_at) as safe_and_well_at,
        bool_or(coalesce(cse_concern, false)) as cse_concern,
        bool_or(coalesce(cce_concern, false)) as cce_concern,
        arg_min(placing_la_code, last_seen_at) as placing_la_code,
        arg_min(home_urn, last_seen_at) as police_home_urn
    from police
    where incidents > 1
    group by episode_id
),

ssda903_episode as (
    select
        missing_episode.episode_id,
        any_value(missing.child_key) as child_id,
        count(*) as ssda903_rows,
        arg_min(missing.missing, missing.mis_start) as missing_code,
        min(missing.mis_start) as start_date,
        case when bool_or(missing.mis_end is null) then null else max(missing.mis_end) end as end_date
    from core_ssda903_missing as missing
    join core_missing_episode as missing_episode using (missing_id)
    group by missing_episode.episode_id
),

joined as (
    select
        coalesce(police_episode.episode_id, ssda903_episode.episode_id) as episode_id,
        coalesce(police_episode.child_id, ssda903_episode.child_id) as child_id,
        police_episode.episode_id is not null as police_known,
        ssda903_episode.episode_id is not null as in_ssda903,
        coalesce(police_episode.police_incidents, 0) as police_incidents,
        coalesce(ssda903_episode.ssda903_rows, 0) as ssda903_rows,
        coalesce(
            police_episode.category,
            case ssda903_episode.missing_code when 'M' then 'missing' when 'A' then 'away' end
        ) as category,
        police_episode.start_at,
        coalesce(police_episode.start_at::date, ssda903_episode.start_date) as start_date,
        police_episode.end_at,
        -- A police record left open while the SSDA903 return records the child back: the
        -- episode has ended, known to the day only.
        case
            when police_episode.episode_id is null then ssda903_episode.end_date
            when police_episode.end_at is not null then police_episode.end_at::date
            else ssda903_episode.end_date
        end as end_date,
        police_episode.* exclude (episode_id, child_id, police_incidents, category, start_at, end_at)
    from police_episode
    full outer join ssda903_episode using (episode_id)
),

placement_on_start as (
    select
        joined.episode_id,
        arg_max(placement.urn, placement.decom) as urn,
        arg_max(placement.place, placement.decom) as place,
        arg_max(placement.placement_distance_miles, placement.decom) as placement_distance_miles
    from joined
    join core_ssda903_episode as placement
        on placement.child_key = joined.child_id
        and placement.decom <= joined.start_date
        and (placement.dec is null or placement.dec >= joined.start_date)
    group by joined.episode_id
)

select
    joined.*,
    joined.end_at is not null as has_end_time,
    -- The moment the child returned, for the 72-hour rules: the police time, or the end of
    -- the SSDA903 end day.
    coalesce(joined.end_at, joined.end_date::timestamp + interval 1 day) as returned_at,
    case
        when joined.start_at is not null and joined.end_at is not null
            then date_diff('second', joined.start_at, joined.end_at) / 3600.0
    end as duration_hours,
    case
        when child.known_to_ssda903 then placement_on_start.episode_id is not null
        else coalesce(joined.missing_from_type in ('foster_care', 'childrens_home', 'other_placement'), false)
    end as from_care,
    case
        when placement_on_start.episode_id is not null then
            case
                when placement_on_start.urn in (select urn from stg_homes)
                    or (placement_on_start.place in ('K1', 'K2') and placement_on_start.urn is not null
                        and upper(placement_on_start.urn) <> 'XXXXXXX')
                    then placement_on_start.urn
            end
        when not child.known_to_ssda903 then joined.police_home_urn
    end as home_urn,
    placement_on_start.place as placement_type,
    placement_on_start.placement_distance_miles,
    child.sex,
    child.ethnicity,
    coalesce(ethnicity_group.ethnicity_group, 'Not known') as ethnicity_group,
    child.uasc,
    date_diff('month', child.birth_month, date_trunc('month', joined.start_date)) // 12 as age_years
from joined
left join placement_on_start using (episode_id)
left join dim_child as child using (child_id)
left join ref_ethnicity_group as ethnicity_group on ethnicity_group.code = child.ethnicity;
