-- name: kpis
-- The board KPIs of docs/metrics.md for episodes starting in [$period_start, $period_end]
-- that match the filter bar (NULL filters: all episodes, as `mfhc kpis`). Read from the
-- narrow, date-sorted mart_episode (children by their integer key). Two reads of the
-- period (the counts; the children by their episodes) rather than one materialised, and
-- count_if rather than count(*) filter (NULL over no rows, hence the coalesce): the same
-- figures, about a third less time.
with children as (
    select
        count(*) as children,
        count(*) filter (where episodes >= 2) as repeat_children
    from (
        select child_no, count(*) as episodes
        from mart_episodes_filtered(
            $period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level
        )
        group by child_no
    )
)

select
    count(*) as episodes,
    coalesce(count_if(category = 'missing'), 0)::bigint as episodes_missing,
    coalesce(count_if(category = 'absent'), 0)::bigint as episodes_absent,
    coalesce(count_if(category = 'away'), 0)::bigint as episodes_away,
    coalesce(any_value(children.children), 0)::bigint as children,
    coalesce(any_value(children.repeat_children), 0)::bigint as repeat_children,
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
cross join children;
