-- name: overview_monthly_trend
-- Episodes and distinct children by month of start, for the filtered period.
select
    date_trunc('month', start_date)::date as month,
    count(*) as episodes,
    count(distinct child_no) as children
from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
group by 1
order by 1;
