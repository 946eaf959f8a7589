-- Pre-aggregated marts the dashboard pages read. Each row is a cell of the filter bar's
-- dimensions, so a page sums the rows its filters select.

create table mart_episode_month as
select
    date_trunc('month', start_date)::date as month,
    category,
    from_care,
    age_band,
    coalesce(sex, 'U') as sex,
    coalesce(ethnicity_group, 'Not known') as ethnicity_group,
    coalesce(risk_level, 'not recorded') as risk_level,
    count(*) as episodes,
    count(distinct child_id) as children,
    count(*) filter (where returned_missing) as returned_missing_episodes,
    count(*) filter (where returned_missing and rhi_offered) as rhi_offered,
    count(*) filter (where returned_missing and rhi_offered_within_72h) as rhi_offered_within_72h,
    count(*) filter (where returned_missing and rhi_completed) as rhi_completed,
    count(*) filter (where returned_missing and rhi_completed_within_72h) as rhi_completed_within_72h,
    count(*) filter (where end_date is null) as still_missing
from fct_episode
group by all;

create table mart_area_episode_month as
select
    date_trunc('month', start_date)::date as month,
    'missing_from' as place,
    missing_from_ward as ward,
    missing_from_lsoa as lsoa,
    from_care,
    count(*) as episodes
from fct_episode
where police_known
group by all
union all
select
    date_trunc('month', start_date)::date as month,
    'found' as place,
    found_ward as ward,
    found_lsoa as lsoa,
    from_care,
    count(*) as episodes
from fct_episode
where police_known and end_date is not null
group by all;

-- Days placed in each home, by month: the denominator of a home's rate (placed-child-years
-- = placement days / 365.25). An open placement runs to the last episode date in the store.
create table mart_home_placement_month as
with placements as (
    select
        home_urn,
        start_date,
        coalesce(end_date, (select max(start_date) from fct_episode), start_date) as last_day
    from fct_placement
    where home_urn is not null
),

months as (
    select
        home_urn,
        start_date,
        last_day,
        unnest(generate_series(date_trunc('month', start_date), date_trunc('month', last_day), interval 1 month))::date
            as month
    from placements
    where last_day >= start_date
)

select
    home_urn,
    month,
    sum(
        date_diff('day', greatest(start_date, month), least(last_day, (month + interval 1 month - interval 1 day)::date))
        + 1
    ) as placement_days
from months
group by all;

-- Police-known episodes of looked-after children that the SSDA903 Missing table lacks.
create table dq_police_episode_not_in_ssda903 as
select episode_id, child_id, start_date, category, home_urn
from fct_episode
where police_known and not in_ssda903 and from_care
    and child_id in (select child_key from core_ssda903_child);
