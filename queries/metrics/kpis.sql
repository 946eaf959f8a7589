-- name: kpis
-- The board KPIs of docs/metrics.md for episodes starting in [$period_start, $period_end]
-- that match the filter bar (NULL filters: all episodes, as `mfhc kpis`). Read from the
-- narrow, date-sorted mart_episode (children by their integer key).
with in_period as (
    select *
    from mart_episodes_filtered(
        $period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level
    )
),

per_child as (
    select child_no, count(*) as episodes
    from in_period
    group by child_no
)

select
    count(*) as episodes,
    count(*) filter (where category = 'missing') as episodes_missing,
    count(*) filter (where category = 'absent') as episodes_absent,
    count(*) filter (where category = 'away') as episodes_away,
    (select count(*) from per_child) as children,
    (select count(*) from per_child where episodes >= 2) as repeat_children,
    count(*) filter (where from_care) as from_care_episodes,
    count(*) filter (where risk_level = 'high') as high_risk_episodes,
    count(*) filter (where end_date is null) as still_missing,
    count(*) filter (where returned_missing) as returned_missing_episodes,
    count(*) filter (where returned_missing and rhi_offered) as rhi_offered,
    count(*) filter (where returned_missing and rhi_offered_within_72h) as rhi_offered_within_72h,
    count(*) filter (where returned_missing and rhi_completed) as rhi_completed,
    count(*) filter (where returned_missing and rhi_completed_within_72h) as rhi_completed_within_72h,
    count(*) filter (where returned_missing and police_known) as returned_missing_police_known,
    count(*) filter (where returned_missing and police_known and safe_and_well_done)
        as safe_and_well_done,
    median(duration_hours) as median_duration_hours
from in_period;
