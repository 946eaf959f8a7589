-- Return home interviews linked to episodes: through episode_refs when given (police
-- incident refs or CHILD:MIS_START keys, both pseudonymised at ingest), otherwise the
-- child's latest episode that ended on or before the offer.

create table core_return_interview as
select
    interview.*,
    coalesce(interview.child_key, person_child.child_key, interview.person_key) as child_id,
    coalesce(len(interview.episode_refs), 0) > 0 as has_episode_refs
from stg_return_interviews as interview
left join core_person_child as person_child using (person_key);

-- The interviews were staged into a temporary table (pipelines/load.py): the store keeps
-- stg_return_interviews as a view of the same rows in core_return_interview, not a second
-- copy, and likewise core_rhi_episode_ref (read only here, built in memory).
drop table temp.stg_return_interviews;

create view stg_return_interviews as
select * exclude (child_id, has_episode_refs) from core_return_interview;

create temp table core_rhi_episode_ref as
select rhi_key, unnest(episode_refs) as episode_ref
from core_return_interview
where has_episode_refs;

create table core_rhi_episode as
with by_incident as (
    select ref.rhi_key, incident_episode.episode_id, 'explicit' as link
    from core_rhi_episode_ref as ref
    join core_incident_episode as incident_episode on incident_episode.incident_key = ref.episode_ref
),

by_ssda903_key as (
    select ref.rhi_key, missing_episode.episode_id, 'explicit' as link
    from core_rhi_episode_ref as ref
    join core_ssda903_missing as missing
        on ref.episode_ref = missing.child_key || ':' || strftime(missing.mis_start, '%Y-%m-%d')
    join core_missing_episode as missing_episode using (missing_id)
),

implicit as (
    select
        interview.rhi_key,
        arg_max(episode.episode_id, coalesce(episode.end_at, episode.end_date::timestamp)) as episode_id,
        'implicit' as link
    from core_return_interview as interview
    join core_episode as episode
        on episode.child_id = interview.child_id
        and (
            episode.end_at <= interview.offered_at
            or (episode.end_at is null and episode.end_date <= interview.offered_at::date)
        )
    where not interview.has_episode_refs and interview.offered_at is not null
    group by interview.rhi_key
)

select distinct rhi_key, episode_id, link
from (
    select * from by_incident
    union all
    select * from by_ssda903_key
    union all
    select * from implicit
);

-- References in episode_refs that match no episode: listed on the Data quality page.
create table dq_rhi_unmatched_ref as
select ref.rhi_key, interview.source_file, interview.source_row
from core_rhi_episode_ref as ref
join core_return_interview as interview using (rhi_key)
where not exists (
    select 1 from core_incident_episode as incident_episode where incident_episode.incident_key = ref.episode_ref
)
and not exists (
    select 1 from core_ssda903_missing as missing
    where ref.episode_ref = missing.child_key || ':' || strftime(missing.mis_start, '%Y-%m-%d')
);

-- Each link with the interview's columns that fct_episode and the interview marts
-- (queries/marts/020_dashboard_marts.sql, which drops it) read: the join made once, in memory.
create temp table rhi_link_interview as
select
    link.episode_id,
    link.rhi_key,
    interview.outcome,
    interview.offered_at,
    interview.completed_at,
    interview.provider,
    interview.parent_carer_consulted,
    interview.harm_disclosed,
    interview.cse_risk,
    interview.cce_risk,
    interview.trafficking_risk,
    interview.gang_risk
from core_rhi_episode as link
join core_return_interview as interview using (rhi_key);

create table fct_episode as
with interview_per_episode as (
    select
        episode_id,
        bool_or(outcome <> 'not_offered') as rhi_offered,
        min(offered_at) filter (where outcome <> 'not_offered') as first_rhi_offered_at,
        bool_or(outcome = 'completed') as rhi_completed,
        min(completed_at) filter (where outcome = 'completed') as first_rhi_completed_at,
        count(*) as rhi_rows
    from rhi_link_interview
    group by episode_id
)

select
    episode.*,
    case
        when episode.age_years < 10 then 'under 10'
        when episode.age_years <= 12 then '10-12'
        when episode.age_years <= 15 then '13-15'
        when episode.age_years <= 17 then '16-17'
        when episode.age_years >= 18 then '18 and over'
        else 'unknown'
    end as age_band,
    episode.category = 'missing' and episode.end_date is not null as returned_missing,
    coalesce(interview.rhi_offered, false) as rhi_offered,
    interview.first_rhi_offered_at,
    coalesce(interview.first_rhi_offered_at <= episode.returned_at + interval 72 hours, false)
        as rhi_offered_within_72h,
    coalesce(interview.rhi_completed, false) as rhi_completed,
    interview.first_rhi_completed_at,
    coalesce(interview.first_rhi_completed_at <= episode.returned_at + interval 72 hours, false)
        as rhi_completed_within_72h,
    coalesce(interview.rhi_rows, 0) as rhi_rows
from core_episode as episode
left join interview_per_episode as interview using (episode_id);

-- core_episode and core_rhi_episode_ref were temporary tables of the build: the store
-- keeps them as views of the same rows (core_episode: fct_episode's columns before the
-- interview ones).
drop table temp.core_episode;

drop table temp.core_rhi_episode_ref;

create view core_episode as
select * exclude (
    age_band, returned_missing, rhi_offered, first_rhi_offered_at, rhi_offered_within_72h, rhi_completed,
    first_rhi_completed_at, rhi_completed_within_72h, rhi_rows
)
from fct_episode;

create view core_rhi_episode_ref as
select rhi_key, unnest(episode_refs) as episode_ref
from core_return_interview
where has_episode_refs;
