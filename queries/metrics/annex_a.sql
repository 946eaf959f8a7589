-- name: annex_a_children
-- Ofsted Annex A, list of children in care: the missing columns, one row per child
-- looked after at any time in the 12 months up to the as-at date ($as_at). The window
-- is the 12 months ending on $as_at, both ends inclusive (as at 31 March 2026: 1 April
-- 2025 to 31 March 2026). Looked after: an SSDA903 episode of care that started on or
-- before $as_at and had not ceased before the window began.
-- Counted: episodes from care (the placement covers the start date) that start in the
-- window; "missing" takes police missing and absent and SSDA903 M, "away" takes SSDA903
-- A. The return interview columns are about the child's last missing episode in the
-- window: offered when a linked interview was offered (outcome other than not_offered)
-- on or before $as_at; accepted when a linked interview was completed on or before
-- $as_at. No missing episode: both null. Not offered: accepted is null.
with bounds as (
    select
        $as_at::date as as_at,
        ($as_at::date - interval 12 month + interval 1 day)::date as window_start
),

looked_after as (
    select distinct placement.child_id
    from fct_placement as placement
    cross join bounds
    where placement.start_date <= bounds.as_at
        and (placement.end_date is null or placement.end_date >= bounds.window_start)
),

episode as (
    select
        episode.child_id,
        episode.episode_id,
        episode.category,
        episode.start_date,
        episode.start_at
    from fct_episode as episode
    join looked_after using (child_id)
    cross join bounds
    where episode.from_care
        and episode.start_date between bounds.window_start and bounds.as_at
),

counts as (
    select
        child_id,
        coalesce(count_if(category in ('missing', 'absent')), 0)::bigint as missing_episodes,
        coalesce(count_if(category = 'away'), 0)::bigint as away_episodes
    from episode
    group by child_id
),

last_missing as (
    select child_id, episode_id
    from (
        select
            child_id,
            episode_id,
            row_number() over (
                partition by child_id
                order by start_date desc, start_at desc nulls last, episode_id desc
            ) as rank_from_last
        from episode
        where category in ('missing', 'absent')
    )
    where rank_from_last = 1
),

interview as (
    select
        last_missing.child_id,
        bool_or(rhi.outcome <> 'not_offered' and rhi.offered_at::date <= bounds.as_at) as offered,
        bool_or(rhi.outcome = 'completed' and rhi.completed_at::date <= bounds.as_at) as accepted
    from last_missing
    join core_rhi_episode as link using (episode_id)
    join core_return_interview as rhi using (rhi_key)
    cross join bounds
    group by last_missing.child_id
)

select
    looked_after.child_id,
    coalesce(counts.missing_episodes, 0) as missing_episodes,
    coalesce(counts.away_episodes, 0) as away_episodes,
    case when last_missing.child_id is not null then coalesce(interview.offered, false) end as rhi_offered,
    case when coalesce(interview.offered, false) then coalesce(interview.accepted, false) end as rhi_accepted
from looked_after
left join counts using (child_id)
left join last_missing using (child_id)
left join interview using (child_id)
order by looked_after.child_id
