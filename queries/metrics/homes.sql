-- name: homes_rates
-- One row per children's home with placement days or attributed episodes in the period:
-- episodes (filtered like every page), placement days and placed-child-years (days / 365.25).
-- Placement days are counted both ends inclusive, clipped to the period; an open placement
-- runs to the period end or the store's last episode date, whichever is earlier. The
-- denominator counts every child placed at the home: the filter bar selects episodes only.
with store as (
    select max(start_date) as last_episode_date from mart_episode
),

-- Only the placements that overlap the period: any other gives the home no days.
placement_days as (
    select
        placement.home_urn,
        sum(greatest(0, date_diff(
            'day',
            greatest(placement.start_date, $period_start::date),
            least(coalesce(placement.end_date, least($period_end::date, store.last_episode_date)), $period_end::date)
        ) + 1)) as placement_days
    from fct_placement as placement
    cross join store
    where placement.home_urn is not null
        and (placement.start_date is null or placement.start_date <= $period_end::date)
        and (placement.end_date is null or placement.end_date >= $period_start::date)
    group by placement.home_urn
),

-- The episodes counted per child at each home first, then per home: the children are the
-- home's rows here (one grouping, where count(distinct) took a second one and a join).
child_episodes as (
    select
        home_urn,
        child_no,
        count(*) as episodes,
        -- Attributed through the police record only (the child is not in this authority's
        -- SSDA903 return, e.g. placed here by another authority): no placement days behind them.
        count_if(not child_known_to_ssda903) as episodes_child_not_in_ssda903
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where home_urn is not null
    group by home_urn, child_no
),

episodes as (
    select
        home_urn,
        sum(episodes)::bigint as episodes,
        count(child_no) as children,
        coalesce(sum(episodes_child_not_in_ssda903), 0)::bigint as episodes_child_not_in_ssda903
    from child_episodes
    group by home_urn
),

homes as (
    select
        coalesce(placement_days.home_urn, episodes.home_urn) as home_urn,
        coalesce(episodes.episodes, 0) as episodes,
        coalesce(episodes.children, 0) as children,
        coalesce(episodes.episodes_child_not_in_ssda903, 0) as episodes_child_not_in_ssda903,
        coalesce(placement_days.placement_days, 0) as placement_days
    from placement_days
    full join episodes on episodes.home_urn = placement_days.home_urn
)

select
    homes.home_urn as urn,
    coalesce(home.name, homes.home_urn) as home_name,
    home.provider,
    home.places,
    home.overall_effectiveness,
    homes.episodes,
    homes.children,
    homes.episodes_child_not_in_ssda903,
    homes.placement_days,
    homes.placement_days / 365.25 as placed_child_years
from homes
left join dim_home as home on home.urn = homes.home_urn
where homes.episodes > 0 or homes.placement_days > 0
order by episodes desc, home_name;

-- name: homes_monthly
-- Episodes at one home by month of start, every month of the period (zero months included).
with months as (
    select unnest(generate_series(
        date_trunc('month', $period_start::date), date_trunc('month', $period_end::date), interval 1 month
    ))::date as month
),

episodes as (
    select
        date_trunc('month', start_date)::date as month,
        count(*) as episodes,
        count(distinct child_no) as children
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where home_urn = $home_urn
    group by 1
)

select
    months.month,
    coalesce(episodes.episodes, 0) as episodes,
    coalesce(episodes.children, 0) as children
from months
left join episodes using (month)
order by months.month;

-- name: homes_hour_day
-- Start times of police-known episodes at one home: day of week (1 Monday .. 7 Sunday) by
-- hour of day. SSDA903-only episodes have no time: one row with null day and hour counts them.
with home_episodes as (
    select start_at, police_known
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where home_urn = $home_urn
)

select
    case when start_at is not null then isodow(start_at) end as day_of_week,
    case when start_at is not null then hour(start_at) end as hour,
    count(*) as episodes
from home_episodes
group by 1, 2
order by 1 nulls last, 2;
