-- Marts the dashboard's named queries read instead of the wide core tables, built once per
-- load. They change no figure: each holds, per episode (or per link, per pupil-term), what
-- a query would otherwise work out on every request, in narrow tables sorted by start
-- date, so a period filter reads only the row groups of its dates (DuckDB's min/max zone
-- maps) and a distinct count of children groups 4-byte integers, not 20-character keys.

-- A dense integer per child, numbered in pseudonym order (ordering by child_no is ordering
-- by child_id). Episodes without a child would get no number and behave as NULL keys do.
-- has_upn: the child is linked to a pupil (core_child_upn).
create table mart_child_key as
select
    child_id,
    (row_number() over (order by child_id))::integer as child_no,
    child_id in (select child_id from core_child_upn) as has_upn
from (select distinct child_id from fct_episode where child_id is not null);

-- Per episode: what every RHI figure needs from the episode's linked interviews.
-- rhi_provider: the provider of its earliest completed linked RHI (by completed_at), else
-- of its earliest offered one (outcome other than not_offered, by offered_at); ties to
-- the lower RHI key; 'Provider not recorded' when blank; NULL when nothing was offered.
-- rhi_declined_only / rhi_no_contact_only: every linked RHI declined / no contact (NULL
-- with no linked RHI).
-- rhi_link_interview: core_rhi_episode joined to core_return_interview, made in memory by
-- queries/core/050_return_interview.sql (for fct_episode too) and dropped below.
create table mart_episode_rhi as
with linked as (
    select episode_id, rhi_key, outcome, offered_at, completed_at, provider
    from rhi_link_interview
),

provider as (
    select
        episode_id,
        coalesce(nullif(trim(provider), ''), 'Provider not recorded') as rhi_provider
    from linked
    where outcome <> 'not_offered'
    qualify row_number() over (
        partition by episode_id
        order by
            (outcome = 'completed') desc,
            case when outcome = 'completed' then completed_at end nulls last,
            offered_at nulls last,
            rhi_key
    ) = 1
),

outcomes as (
    select
        episode_id,
        bool_and(outcome = 'declined') as rhi_declined_only,
        bool_and(outcome = 'no_contact') as rhi_no_contact_only
    from linked
    group by episode_id
)

select episode_id, provider.rhi_provider, outcomes.rhi_declined_only, outcomes.rhi_no_contact_only
from outcomes
left join provider using (episode_id);

-- The episodes as the dashboard reads them: the filter bar's columns, the measures of the
-- pages, sorted by start date. child_seq numbers a child's episodes in order of start (date,
-- time, id: the order of the repeat rules); previous_start / before_previous_start are the
-- start dates of the child's two episodes before this one, over all the child's episodes.
-- child_has_upn: the child is linked to a pupil; child_attended_that_year: the child has
-- attendance rows in the academic year of the episode's start.
-- rule_window_episodes / rule_window_start: the child's episodes starting in the escalation
-- rule's days up to and including this episode's start day, over all its episodes (the
-- episodes of the same day counted, as the rule's windows do), and the first start among
-- them; for the days of the rule when the store was loaded (mart_escalation_rule, set by
-- pipelines/load.py as the variable escalation_days). repeat_escalation reads its windows
-- off them when those are the days asked and no episode filter applies.
create table mart_episode as
with child as (
    -- Each child's number, SSDA903 flag and UPN link, looked up once per child, not per episode.
    select key.child_id, key.child_no, coalesce(dim.known_to_ssda903, false) as known_to_ssda903, key.has_upn
    from mart_child_key as key
    left join dim_child as dim using (child_id)
),

-- The academic years in which each child has attendance rows (the absence page's linkage).
attended_year as (
    select distinct child_id, academic_year
    from fct_attendance
    where child_id is not null
),

-- The window over the four columns it needs, not over every column of the mart
-- (partitioned by child_id: the same partitions as child_no, one number per child).
sequence as (
    select
        episode_id,
        (row_number() over by_child)::integer as child_seq,
        lag(start_date, 1) over by_child as previous_start,
        lag(start_date, 2) over by_child as before_previous_start
    from fct_episode
    window by_child as (partition by child_id order by start_date, start_at nulls first, episode_id)
),

rule_window as (
    select
        episode_id,
        (count(*) over rule_days)::integer as rule_window_episodes,
        min(start_date) over rule_days as rule_window_start
    from fct_episode
    window rule_days as (
        partition by child_id order by (start_date - date '2000-01-01')
        range between getvariable('escalation_days')::integer - 1 preceding and current row
    )
)

select
    episode.start_date,
    -- The month of the start (DuckDB's date_trunc per row was most of the monthly trend's time).
    date_trunc('month', episode.start_date)::date as start_month,
    key.child_no,
    episode.episode_id,
    sequence.child_seq,
    sequence.previous_start,
    sequence.before_previous_start,
    academic_year(episode.start_date) as academic_year,
    episode.start_at,
    episode.end_date,
    episode.end_at,
    episode.from_care,
    episode.age_band,
    episode.sex,
    episode.ethnicity_group,
    episode.risk_level,
    episode.category,
    episode.police_known,
    episode.returned_missing,
    episode.rhi_offered,
    episode.rhi_offered_within_72h,
    episode.rhi_completed,
    episode.rhi_completed_within_72h,
    episode.safe_and_well_at,
    episode.safe_and_well_at is not null as safe_and_well_done,
    episode.duration_hours,
    episode.home_urn,
    coalesce(key.known_to_ssda903, false) as child_known_to_ssda903,
    episode.missing_from_ward,
    episode.missing_from_la,
    episode.found_ward,
    episode.found_la,
    episode.found_grid_e,
    episode.found_grid_n,
    episode.placement_type is not null as placement_known,
    distance_band(episode.placement_distance_miles) as distance_band,
    episode.placing_la_code,
    interview.rhi_provider,
    interview.rhi_declined_only,
    interview.rhi_no_contact_only,
    coalesce(key.has_upn, false) as child_has_upn,
    attended.child_id is not null as child_attended_that_year,
    rule_window.rule_window_episodes,
    rule_window.rule_window_start
from fct_episode as episode
left join child as key using (child_id)
left join sequence using (episode_id)
left join rule_window using (episode_id)
left join mart_episode_rhi as interview using (episode_id)
left join attended_year as attended
    on attended.child_id = episode.child_id and attended.academic_year = academic_year(episode.start_date)
order by episode.start_date, key.child_no, episode.episode_id;

-- The escalation rule's days mart_episode's rule_window_* columns were worked out for.
create table mart_escalation_rule as
select getvariable('escalation_days')::integer as days;

-- Whether repeat_escalation reads its windows off mart_episode: no from-care, age-band or
-- risk filter (sex and ethnicity are the child's own) and the days of the load. With the
-- parameters first, a filtered call folds it to false and drops that branch unread.
create macro escalation_windows_at_load(p_from_care, p_age_band, p_risk_level, p_days) as
    p_from_care is null and p_age_band is null and p_risk_level is null
    and p_days::integer = (select days from mart_escalation_rule);

-- The filter bar over mart_episode: the same test as episodes_filtered (000,
-- `matches_filter_bar`), on the narrow table. Every dashboard query reads episodes through one of the two.
create macro mart_episodes_filtered(
    p_period_start, p_period_end, p_from_care, p_age_band, p_sex, p_ethnicity_group, p_risk_level
) as table
select *
from mart_episode
where start_date between p_period_start and p_period_end
    and matches_filter_bar(from_care, age_band, sex, ethnicity_group, risk_level,
                           p_from_care, p_age_band, p_sex, p_ethnicity_group, p_risk_level);

-- The push/pull factors recorded on RHIs, each with a bit of a BIGINT mask (at most 63).
create table mart_push_pull_factor as
select
    factor,
    (row_number() over (order by factor nulls last) - 1)::integer as bit
from (select distinct unnest(push_pull_factors) as factor from core_return_interview);

select case when count(*) > 63 then error('more than 63 push/pull factors: widen mart_rhi_link.factor_mask') end
from mart_push_pull_factor;

-- One row per (RHI, linked episode), with the episode's date and filter columns and what
-- the interview pages count per distinct RHI. rhi_no: a dense integer per RHI;
-- rhi_links: its rows in core_rhi_episode (an RHI with one link has one row here and is counted
-- from its row without de-duplication); factor_mask: its push/pull factors as bits of
-- mart_push_pull_factor.
create table mart_rhi_link as
with rhi_key as (
    select rhi_key, (row_number() over (order by rhi_key))::integer as rhi_no, rhi_links
    from (select rhi_key, count(*)::integer as rhi_links from core_rhi_episode group by rhi_key)
),

factor_mask as (
    select interview.rhi_key, bit_or(1::bigint << factor.bit) as factor_mask
    from (select rhi_key, unnest(push_pull_factors) as factor from core_return_interview) as interview
    join mart_push_pull_factor as factor on factor.factor is not distinct from interview.factor
    group by interview.rhi_key
)

select
    episode.start_date,
    rhi_key.rhi_no,
    rhi_key.rhi_links,
    episode.from_care,
    episode.age_band,
    episode.sex,
    episode.ethnicity_group,
    episode.risk_level,
    interview.outcome,
    interview.parent_carer_consulted,
    coalesce(factor_mask.factor_mask, 0) as factor_mask,
    interview.harm_disclosed,
    interview.cse_risk,
    interview.cce_risk,
    interview.trafficking_risk,
    interview.gang_risk
from rhi_link_interview as interview
join rhi_key using (rhi_key)
join fct_episode as episode using (episode_id)
left join factor_mask using (rhi_key)
order by episode.start_date, rhi_key.rhi_no;

-- Each link of an RHI to an episode with the interview's outcome and times, sorted by
-- episode: the repeat page's timeline of one child (repeat_child_interviews) reads the row
-- groups of the child's episodes (a child's police episodes have adjacent ids) instead of
-- matching its RHIs' keys against every interview's key.
create table mart_episode_interview as
select episode_id, rhi_key, outcome, offered_at, completed_at
from rhi_link_interview
order by episode_id, rhi_key;

drop table temp.rhi_link_interview;

create macro mart_rhi_links_filtered(
    p_period_start, p_period_end, p_from_care, p_age_band, p_sex, p_ethnicity_group, p_risk_level
) as table
select *
from mart_rhi_link
where start_date between p_period_start and p_period_end
    and matches_filter_bar(from_care, age_band, sex, ethnicity_group, risk_level,
                           p_from_care, p_age_band, p_sex, p_ethnicity_group, p_risk_level);

-- Attendance per child, academic year and term (sessions summed over schools), for the
-- children who went missing.
create table mart_child_attendance_term as
select
    key.child_no,
    attendance.academic_year,
    attendance.term,
    sum(attendance.sess_possible)::bigint as possible,
    sum(attendance.sess_authorised + attendance.sess_unauthorised)::bigint as absent
from fct_attendance as attendance
join mart_child_key as key using (child_id)
group by all
order by key.child_no, attendance.academic_year, attendance.term;

-- Each spell of a child missing education with the child as the absence page counts it
-- (the child, else the pupil's UPN key) and its child_no, looked up once at load rather
-- than by matching every spell's key against every child's on each request.
create table mart_children_missing_education as
select
    coalesce(cme.child_id, 'upn:' || cme.upn_key) as child,
    key.child_no,
    cme.start_date,
    cme.end_date
from fct_children_missing_education as cme
left join mart_child_key as key using (child_id)
order by cme.start_date;

-- All pupils by academic year and term: one row per attendance record (a UPN linked to
-- two children would repeat its rows), summed per pupil and term, then per term.
create table mart_all_pupils_term as
with attendance_row as (
    select distinct
        upn_key, academic_year, term, school_urn, sess_possible, sess_authorised, sess_unauthorised
    from fct_attendance
),

pupil_term as (
    select
        upn_key,
        academic_year,
        term,
        sum(sess_possible)::bigint as possible,
        sum(sess_authorised + sess_unauthorised)::bigint as absent
    from attendance_row
    group by all
)

select
    academic_year,
    term,
    count(*) as pupils,
    sum(possible)::bigint as sessions_possible,
    sum(absent)::bigint as sessions_absent,
    count(*) filter (where 10 * absent >= possible) as persistent_pupils,
    count(*) filter (where 2 * absent >= possible) as severe_pupils
from pupil_term
where possible > 0
group by all;
