-- name: overview_monthly_trend
-- Episodes and distinct children by month of start, for the filtered period.
-- Children: with no from-care, age-band or risk filter (sex and ethnicity are the child's
-- own), each child has exactly one episode in the month's part of the period whose previous
-- episode (mart_episode.previous_start, over all its episodes) starts before that part, or
-- that has none; so they are counted in the same pass as the episodes, as in `kpis` (the
-- episodes less those whose previous episode starts in that part). With
-- an episode filter, the distinct children of the filtered episodes. Exactly one of the
-- two branches has rows (a distinct count costs its hashing even over no rows, so it has
-- a branch of its own).
select
    start_month as month,
    count(*) as episodes,
    (count(*) - coalesce(count_if(previous_start >= greatest(start_month, $period_start::date)), 0))::bigint
        as children
from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
where $from_care is null and $age_band is null and $risk_level is null
group by 1
union all
select
    start_month as month,
    count(*) as episodes,
    count(distinct child_no) as children
from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
where not ($from_care is null and $age_band is null and $risk_level is null)
group by 1
order by 1;
