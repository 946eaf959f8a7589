-- name: kpis
-- The board KPIs of docs/metrics.md for episodes starting in [$period_start, $period_end]
-- that match the filter bar (NULL filters: all episodes, as `mfhc kpis`). Read from the
-- narrow, date-sorted mart_episode (children by their integer key), with count_if rather
-- than count(*) filter (NULL over no rows, hence the coalesce).
-- Children and repeat children: with no from-care, age-band or risk filter (sex and
-- ethnicity are the child's own, the same on each of its episodes), a child's episodes in
-- the period are all of its episodes there, so mart_episode's previous_start (the start of
-- the child's episode before, over all its episodes, built at load) tells them in the
-- same read as the counts: each child has exactly one episode in the period whose previous
-- one starts before the period (or has none), and a child with two or more has exactly one
-- whose previous one is in the period and whose one before that is not. Both are counted
-- as differences of plain comparisons (a null start compares as not in the period), which
-- DuckDB evaluates about twice as fast as the same tests with `is null or`: children are
-- the episodes less those whose previous one is in the period; repeat children are those
-- whose previous one is in the period less those whose one before that is too (the one
-- before starts no later than the previous one, so the second are among the first). With
-- an episode filter, the children are counted from their filtered episodes (`grouped`,
-- empty otherwise).
with grouped as (
    select
        count(*) as children,
        count_if(episodes >= 2) as repeat_children
    from (
        select child_no, count(*) as episodes
        from mart_episodes_filtered(
            $period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level
        )
        where not ($from_care is null and $age_band is null and $risk_level is null)
        group by child_no
    )
)

select
    count(*) as episodes,
    coalesce(count_if(category = 'missing'), 0)::bigint as episodes_missing,
    coalesce(count_if(category = 'absent'), 0)::bigint as episodes_absent,
    coalesce(count_if(category = 'away'), 0)::bigint as episodes_away,
    (case when $from_care is null and $age_band is null and $risk_level is null
        then count(*) - coalesce(count_if(previous_start >= $period_start::date), 0)
        else coalesce(any_value(grouped.children), 0) end)::bigint as children,
    (case when $from_care is null and $age_band is null and $risk_level is null
        then coalesce(count_if(previous_start >= $period_start::date), 0)
            - coalesce(count_if(before_previous_start >= $period_start::date), 0)
        else coalesce(any_value(grouped.repeat_children), 0) end)::bigint as repeat_children,
    coalesce(count_if(from_care), 0)::bigint as from_care_episodes,
    coalesce(count_if(risk_level = 'high'), 0)::bigint as high_risk_episodes,
    coalesce(count_if(end_date is null), 0)::bigint as still_missing,
    coalesce(count_if(returned_missing), 0)::bigint as returned_missing_episodes,
    coalesce(count_if(returned_missing and rhi_offered), 0)::bigint as rhi_offered,
    coalesce(count_if(returned_missing and rhi_offered_within_72h), 0)::bigint as rhi_offered_within_72h,
    coalesce(count_if(returned_missing and rhi_completed), 0)::bigint as rhi_completed,
    coalesce(count_if(returned_missing and rhi_completed_within_72h), 0)::bigint as rhi_completed_within_72h,
    coalesce(count_if(returned_missing and police_known), 0)::bigint as returned_missing_police_known,
    coalesce(count_if(returned_missing and police_known and safe_and_well_done), 0)::bigint as safe_and_well_done,
    median(duration_hours) as median_duration_hours
from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
cross join grouped;
