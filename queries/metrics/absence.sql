-- name: absence_by_term
-- School absence by term of children with an episode in the filtered period (in the
-- academic years of their episodes: September to August holding the start date), beside
-- all pupils in the attendance file for the same terms. Per pupil and term the sessions
-- are summed over schools; a pupil is persistently absent at 10% or more of possible
-- sessions, severely at 50% or more. The overall rate sums sessions over pupils.
-- Sessions per child and term and per term for all pupils are summed at load
-- (mart_child_attendance_term, mart_all_pupils_term).
-- Only the pairs whose child has attendance rows that year can meet the attendance terms
-- (mart_episode.child_attended_that_year), so only those are collected; the all-pupils rows
-- are those of every academic year of the period's episodes.
with episode_academic_year as (
    select distinct child_no, academic_year
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where child_attended_that_year
),

episode_year as (
    select academic_year
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    group by academic_year
),

missing_pupil_term as (
    select
        attendance.child_no as pupil,
        attendance.academic_year,
        attendance.term,
        attendance.possible,
        attendance.absent
    from mart_child_attendance_term as attendance
    join episode_academic_year as episode
        on episode.child_no = attendance.child_no and episode.academic_year = attendance.academic_year
),

missing_by_term as (
    select
        academic_year,
        term,
        count(*) as pupils,
        sum(possible)::bigint as sessions_possible,
        sum(absent)::bigint as sessions_absent,
        coalesce(count_if(10 * absent >= possible), 0)::bigint as persistent_pupils,
        coalesce(count_if(2 * absent >= possible), 0)::bigint as severe_pupils
    from missing_pupil_term
    where possible > 0
    group by all
),

by_term as (
    select 'Children who went missing' as pupil_group, 1 as group_order, * from missing_by_term
    union all
    select 'All pupils' as pupil_group, 2 as group_order, *
    from mart_all_pupils_term
    where academic_year in (select academic_year from episode_year)
)

select
    academic_year,
    term,
    academic_year || ' ' || term as academic_term,
    pupil_group,
    pupils,
    sessions_possible,
    sessions_absent,
    round(100.0 * sessions_absent / sessions_possible, 1) as absence_rate_pct,
    persistent_pupils,
    round(100.0 * persistent_pupils / pupils, 1) as persistent_pct,
    severe_pupils,
    round(100.0 * severe_pupils / pupils, 1) as severe_pct
from by_term
order by academic_year, case term when 'autumn' then 1 when 'spring' then 2 else 3 end, group_order;

-- name: absence_linkage
-- How many children with an episode in the filtered period can be followed into the
-- attendance file: with a UPN link at all, and with attendance in their episodes' years.
-- mart_episode carries both on each episode (child_has_upn, child_attended_that_year), so
-- the period's episodes are read once and grouped by child.
with per_child as (
    select
        child_no,
        bool_or(child_has_upn) as has_upn,
        bool_or(child_attended_that_year) as attended
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where child_no is not null
    group by child_no
)

select
    count(*) as children,
    coalesce(count_if(has_upn), 0)::bigint as children_with_upn,
    coalesce(count_if(not has_upn), 0)::bigint as children_without_upn,
    coalesce(count_if(attended), 0)::bigint as children_with_attendance,
    coalesce(count_if(not attended), 0)::bigint as children_without_attendance
from per_child;

-- name: absence_children_missing_education
-- Children missing education with a spell overlapping the period, and how many of them
-- had an episode (matching the filters) starting in the period (their spells with their
-- child_no: mart_children_missing_education).
with cme_child as (
    select distinct child, child_no
    from mart_children_missing_education
    where start_date <= $period_end and (end_date is null or end_date >= $period_start)
),

-- Only the children missing education are looked for among the period's episodes (a few
-- thousand keys), not every child of the period collected first (a distinct count of all).
went_missing as (
    select distinct child_no
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where child_no in (select child_no from cme_child)
)

select
    count(distinct child) as cme_children,
    count(distinct child) filter (where child_no in (select child_no from went_missing)) as cme_children_went_missing
from cme_child;
