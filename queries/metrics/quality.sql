-- name: quality_load_log
-- The files of the five most recent loads, newest first (not filtered by the filter bar).
with recent_load as (
    select load_id
    from load_log
    group by load_id
    order by max(loaded_at) desc
    limit 5
)

select
    loaded_at,
    load_id,
    file,
    rows_read,
    rows_loaded,
    rows_rejected,
    unknown_postcodes,
    left(sha256, 12) as checksum
from load_log
where load_id in (select load_id from recent_load)
order by loaded_at desc, load_id, file;

-- name: quality_rejections_by_rule
-- Rows the last load rejected, counted by file and rule (not filtered by the filter bar).
select file, rule, count(*) as rows_rejected
from rejected_rows
group by file, rule
order by rows_rejected desc, file, rule;

-- name: quality_rejected_rows
-- The first 100 rejected rows: file, row, column, rule and message (no identifiers).
select file, row, "column", rule, message
from rejected_rows
order by file, row, "column"
limit 100;

-- name: quality_source_status
-- Source files the last load expected, and whether each was supplied.
select source_file, supplied
from source_status
order by supplied, source_file;

-- name: quality_ssda903_findings
-- SSDA903 rule findings that did not stop a row loading, by DfE rule code.
select
    rule as code,
    any_value(message) as message,
    count(*) as findings,
    count(distinct file) as files
from ssda903_findings
group by rule
order by findings desc, code;

-- name: quality_police_not_in_ssda903
-- Police-known episodes of looked-after children that the SSDA903 Missing table lacks,
-- by month of start (filtered by the filter bar, like every episode figure).
select
    date_trunc('month', episode.start_date)::date as month,
    count(*) as episodes,
    count(distinct gap.child_id) as children
from dq_police_episode_not_in_ssda903 as gap
join mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    as episode using (episode_id)
group by all
order by month;

-- name: quality_rhi_unmatched
-- Return interview episode references that matched no episode (not filtered).
select count(*) as unmatched_refs, count(distinct rhi_key) as interviews
from dq_rhi_unmatched_ref;
