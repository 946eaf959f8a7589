-- name: care_source_by_month
-- Episodes by month of start, from care and from home (the filter bar's care filter
-- still applies, so with "from care" chosen only that group is left).
-- Counted by day first, then by month (the month worked out per day, not per episode).
with by_day as (
    select start_date, from_care, count(*) as episodes
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    group by all
)

select
    date_trunc('month', start_date)::date as month,
    case when from_care then 'From care' else 'From home' end as source,
    sum(episodes)::bigint as episodes
from by_day
group by all
order by month, source;

-- name: care_away_by_month
-- Away from placement without authorisation (SSDA903 'A') by month, and the share of
-- the month's from-care episodes that were 'away' episodes.
-- Counted by day first, then by month (the month worked out per day, not per episode).
with by_day as (
    select
        start_date,
        count_if(category = 'away') as away_episodes,
        count_if(from_care) as from_care_episodes,
        count_if(category = 'away' and from_care) as away_from_care_episodes
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    group by start_date
),

-- count_if of no true value is NULL (a day of NULL flags): sum skips it, coalesce makes 0.
by_month as (
    select
        date_trunc('month', start_date)::date as month,
        coalesce(sum(away_episodes), 0)::bigint as away_episodes,
        coalesce(sum(from_care_episodes), 0)::bigint as from_care_episodes,
        coalesce(sum(away_from_care_episodes), 0)::bigint as away_from_care_episodes
    from by_day
    group by 1
)

select
    month,
    away_episodes,
    from_care_episodes,
    away_from_care_episodes,
    round(100.0 * away_from_care_episodes / nullif(from_care_episodes, 0), 1) as away_share_of_from_care_pct
from by_month
-- A month with neither an away episode nor one from care has nothing to show.
where from_care_episodes > 0 or away_episodes > 0
order by month;

-- name: care_distance_rates
-- Episodes from care per placed-child-year by the distance between the child's home and
-- the placement (SSDA903 HOME_POST to PL_POST sectors). Numerator: filtered episodes
-- from care whose placement on the start date is known to SSDA903, banded by its
-- distance. Denominator: days of SSDA903 placements within the period / 365.25 (an open
-- placement runs to the last episode date in the store, as for children's homes). The
-- denominator is not narrowed by the age, sex, ethnicity or risk filters.
with band as (
    select * from (values
        ('under 10 miles', 1), ('10-20 miles', 2), ('over 20 miles', 3), ('unknown', 4)
    ) as band_list(distance_band, band_order)
),

-- The placements overlapping the period (one starting after it is skipped by the start
-- order), each clipped to it, both ends inclusive.
placement_days as (
    select
        distance_band,
        sum(date_diff('day', greatest(start_date, $period_start::date), least(last_day, $period_end::date)) + 1)
            as placement_days
    from mart_placement_span
    where start_date <= $period_end::date and last_day >= $period_start::date and last_day >= start_date
    group by distance_band
),

episode as (
    select
        distance_band,
        count(*) as episodes
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where from_care and placement_known
    group by all
)

select
    band.distance_band,
    coalesce(episode.episodes, 0) as episodes,
    coalesce(placement_days.placement_days, 0)::bigint as placement_days,
    round(coalesce(placement_days.placement_days, 0) / 365.25, 2) as placed_child_years,
    round(coalesce(episode.episodes, 0) / (placement_days.placement_days / 365.25), 2) as episodes_per_child_year
from band
left join episode using (distance_band)
left join placement_days using (distance_band)
order by band.band_order;

-- name: care_placed_by_other_la
-- Police episodes of children placed in the area by another authority (host view):
-- placing_la_code given and not the configured authority's code.
select
    placing_la_code,
    count(*) as episodes,
    count(distinct child_no) as children
from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
where police_known and placing_la_code is not null and placing_la_code <> $authority_code
group by placing_la_code
order by episodes desc, placing_la_code;

-- name: care_uasc_missing
-- Filtered episodes of unaccompanied asylum-seeking children that started within 7 days
-- (168 hours) of the child first becoming looked after (first DECOM, from midnight).
-- Date-only SSDA903 episodes start at midnight of MIS_START. Keys shortened to 8
-- characters: a pseudonymised list for analysts. (mart_uasc_child: each UASC child's first
-- DECOM, built at load.)
with episode as (
    select
        first_looked_after.child_id,
        first_looked_after.first_decom,
        coalesce(episode.start_at, episode.start_date::timestamp) as episode_start,
        date_diff('minute', first_looked_after.first_decom::timestamp,
                  coalesce(episode.start_at, episode.start_date::timestamp)) / 60.0 as hours_after
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
        as episode
    join mart_uasc_child as first_looked_after using (child_no)
)

select
    left(child_id, 8) as child,
    first_decom as first_looked_after,
    episode_start,
    round(hours_after, 1) as hours_after,
    hours_after <= 48 as within_48h
from episode
where hours_after between 0 and 168
order by episode_start, child;

-- name: care_uasc_first_looked_after
-- Unaccompanied asylum-seeking children who first became looked after in the period:
-- the context for the counts above (episode filters do not apply to this count).
select count(*) as uasc_children
from mart_uasc_child
where first_decom between $period_start and $period_end;
