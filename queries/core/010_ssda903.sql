-- SSDA903 tables de-duplicated across the yearly folders: a row given in several years'
-- files is kept once, from the latest year (its end dates are the most complete).
-- The tables of this file are temporary: read only by the build, so never compressed into
-- the store (`mfhc load --keep-staging` keeps them, with the staged rows, for an audit).

create temp table core_ssda903_header as
with ranked as (
    select
        *,
        row_number() over (
            partition by child_key order by collection_year desc nulls last, source_row desc
        ) as rank_in_child
    from stg_ssda903_header
)
select * exclude (rank_in_child) from ranked where rank_in_child = 1;

create temp table core_ssda903_episode as
with ranked as (
    select
        *,
        row_number() over (
            partition by child_key, decom order by collection_year desc nulls last, source_row desc
        ) as rank_in_start
    from stg_ssda903_episodes
)
select
    * exclude (rank_in_start),
    row_number() over (order by child_key, decom) as placement_id
from ranked
where rank_in_start = 1;

create temp table core_ssda903_missing as
with ranked as (
    select
        *,
        row_number() over (
            partition by child_key, mis_start order by collection_year desc nulls last, source_row desc
        ) as rank_in_start
    from stg_ssda903_missing
)
select
    * exclude (rank_in_start),
    row_number() over (order by child_key, mis_start, source_file, source_row) - 1 as missing_id
from ranked
where rank_in_start = 1;

-- Children the SSDA903 return knows: for them "from care" is decided by their placements.
create temp table core_ssda903_child as
select child_key from core_ssda903_header
union
select child_key from core_ssda903_episode
union
select child_key from core_ssda903_missing;
