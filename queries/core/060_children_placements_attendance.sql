-- Children's homes, placements and school attendance, keyed to the same children.

create table dim_home as
select urn, name, provider, places, la_code, overall_effectiveness
from stg_homes;

create table fct_placement as
select
    placement_id,
    child_key as child_id,
    decom as start_date,
    dec as end_date,
    place as placement_type,
    place_provider,
    case
        when urn in (select urn from stg_homes)
            or (place in ('K1', 'K2') and urn is not null and upper(urn) <> 'XXXXXXX')
            then urn
    end as home_urn,
    placement_distance_miles,
    distance_band(placement_distance_miles) as distance_band,
    ls as legal_status
from core_ssda903_episode;

-- UPN keys of children: from the SSDA903 header and from child_xref.csv.
-- Temporary: read only by the build, so never compressed into the store (`mfhc load
-- --keep-staging` keeps it, with the staged rows, for an audit of the linking).
create temp table core_child_upn as
select distinct child_id, upn_key
from (
    select child_key as child_id, upn_key from core_ssda903_header where upn_key is not null
    union all
    select coalesce(child_key, person_key) as child_id, upn_key from stg_child_xref where upn_key is not null
);

create table fct_attendance as
select
    attendance.upn_key,
    child_upn.child_id,
    attendance.academic_year,
    attendance.term,
    attendance.school_urn,
    attendance.sess_possible,
    attendance.sess_authorised,
    attendance.sess_unauthorised,
    (attendance.sess_authorised + attendance.sess_unauthorised) / nullif(attendance.sess_possible, 0)
        as absence_rate
from stg_attendance as attendance
left join core_child_upn as child_upn using (upn_key);

create table fct_children_missing_education as
select
    coalesce(cme.child_key, child_upn.child_id) as child_id,
    cme.upn_key,
    cme.start_date,
    cme.end_date
from stg_children_missing_education as cme
left join core_child_upn as child_upn using (upn_key);
