-- name: repeat_cohort_bands
-- Children banded by their number of episodes in the filtered period (1, 2, 3-5, 6-9,
-- 10+): children and episodes per band, and the share of all episodes each band holds.
-- Every band is returned, with zeros, so the chart keeps its shape.
with in_period as (
    select child_no
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
),

per_child as (
    select child_no, count(*) as episodes
    from in_period
    group by child_no
),

banded as (
    select
        case
            when episodes = 1 then '1'
            when episodes = 2 then '2'
            when episodes <= 5 then '3-5'
            when episodes <= 9 then '6-9'
            else '10+'
        end as band,
        episodes
    from per_child
),

bands as (
    select * from (values (1, '1'), (2, '2'), (3, '3-5'), (4, '6-9'), (5, '10+')) as t(band_order, band)
),

totals as (
    select coalesce(sum(episodes), 0) as all_episodes from banded
)

select
    bands.band,
    count(banded.band) as children,
    coalesce(sum(banded.episodes), 0)::bigint as episodes,
    case
        when any_value(totals.all_episodes) > 0
            then round(100.0 * coalesce(sum(banded.episodes), 0) / any_value(totals.all_episodes), 1)
    end as share_of_episodes_pct
from bands
cross join totals
left join banded using (band)
group by bands.band_order, bands.band
order by bands.band_order;

-- name: repeat_newly_by_month
-- Children newly repeat by month. Reading of "their second episode in the rolling 12
-- months starts in that month": episodes of a child are put in order (start date, start
-- time, episode id); an episode's rolling count is the number of the child's episodes up
-- to and including it whose start date lies in the 365 days ending on its start date
-- (start date - 365 days <= other start <= its start). A child is newly repeat in the
-- month of their FIRST episode starting in the period whose rolling count is exactly 2
-- (it is their second episode in 12 months); each child counts at most once in a
-- period. The count looks back up to 365 days before the period start, over episodes
-- that match the same filters, so a child whose second episode falls just after the
-- period start counts, and a child already on their third or later episode does not.
-- Every month of the period is returned, with zeros.
-- As the child's episodes are in order of start date, those up to and including this one
-- that start in the 365 days ending on its start date are the last few before it: the
-- count is exactly 2 when the previous episode starts in those 365 days and the one before
-- it (if any) does not.
-- Sex and ethnicity group are the child's, not the episode's: without a from-care, age-band
-- or risk filter a child's episodes in the span are all their episodes there, in the same
-- order, so the two before each are mart_episode's (built at load; an earlier one outside
-- the span is more than 365 days back and fails the test as a missing one does). With one
-- of those filters, the filtered episodes are put in order here (by child_seq, the same
-- order), only for children with two or more of them.
with unfiltered as (
    select child_no, start_date, previous_start, before_previous_start
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where $from_care is null and $age_band is null and $risk_level is null
),

span as (
    select child_no, start_date, child_seq
    from mart_episodes_filtered(
        ($period_start::date - interval 365 day)::date, $period_end, $from_care, $age_band, $sex,
        $ethnicity_group, $risk_level
    )
    where not ($from_care is null and $age_band is null and $risk_level is null)
),

filtered as (
    select
        child_no,
        start_date,
        lag(start_date, 1) over by_start as previous_start,
        lag(start_date, 2) over by_start as before_previous_start
    from span
    where child_no in (select child_no from span group by child_no having count(*) >= 2)
    window by_start as (partition by child_no order by child_seq)
),

history as (
    select * from unfiltered
    union all
    select * from filtered
),

newly as (
    select child_no, min(date_trunc('month', start_date)::date) as month
    from history
    where start_date >= $period_start::date
        and previous_start >= (start_date - interval 365 day)::date
        and (before_previous_start is null or before_previous_start < (start_date - interval 365 day)::date)
    group by child_no
),

months as (
    select unnest(generate_series(
        date_trunc('month', $period_start::date), date_trunc('month', $period_end::date), interval 1 month
    ))::date as month
)

select months.month, count(newly.child_no) as children_newly_repeat
from months
left join newly using (month)
group by months.month
order by months.month;

-- name: repeat_escalation
-- Children meeting the escalation rule: $escalation_episodes or more episodes starting
-- within $escalation_days consecutive calendar days (last start - first start <=
-- $escalation_days - 1), where the window's last episode starts in the period. Earlier
-- episodes of the window may start before the period (looking back over episodes that
-- match the same filters). One row per flagged child: the window with the most episodes
-- (the earliest such), the first month the rule was met in the period, and the child's
-- latest episode in the period with its from care/home and age band. Keys shortened to 8
-- characters of the pseudonym.
-- The window ending on a day holds the child's episodes starting in the $escalation_days
-- days up to and including it (a range window over the start date, as a day number: a
-- range over dates with an interval would compare timestamps).
-- Read off the load: with no from-care, age-band or risk filter (sex and ethnicity are the
-- child's own, so a child's filtered episodes are all its episodes) and the days the store
-- was loaded with (escalation_windows_at_load, queries/marts/020), each episode's window is
-- mart_episode's rule_window_episodes / rule_window_start, and the windows below are not
-- worked out again.
with history as (
    select child_no, child_seq, start_date, from_care, age_band
    from mart_episodes_filtered(
        ($period_start::date - to_days($escalation_days::integer))::date, $period_end, $from_care, $age_band, $sex,
        $ethnicity_group, $risk_level
    )
),

-- A child can meet the rule only if, for an episode starting in the period, the episode
-- $escalation_episodes - 1 places before it (in order of start) starts within the days.
-- Without a from-care, age-band or risk filter, and a rule of 2 or 3 episodes, that
-- earlier start is mart_episode's previous_start or before_previous_start (built at load:
-- see repeat_newly_by_month); otherwise it is worked out here over the filtered episodes.
candidates as (
    select distinct child_no
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where $from_care is null and $age_band is null and $risk_level is null
        and $escalation_episodes::integer in (2, 3)
        and (case when $escalation_episodes::integer = 2 then previous_start else before_previous_start end)
            >= start_date - ($escalation_days::integer - 1)
    union all
    select distinct child_no
    from (
        select
            child_no,
            start_date,
            lag(start_date, $escalation_episodes::integer - 1) over (partition by child_no order by start_date)
                as earlier_start
        from history
        where not ($from_care is null and $age_band is null and $risk_level is null
            and $escalation_episodes::integer in (2, 3))
    )
    where start_date >= $period_start::date
        and earlier_start >= start_date - ($escalation_days::integer - 1)
),

-- The window ending on the day of each of a child's episodes in the period, where it holds
-- enough episodes. Episodes starting on the same day share one window and give it once each:
-- the figures per child below (the most, the best window's end, the earliest end) are the
-- same with it once or several times.
windows as (
    select
        child_no,
        start_date as window_end,
        count(*) over last_days as episodes_in_window,
        null::date as window_start
    from (
        select child_no, start_date, (start_date - date '2000-01-01') as day_number
        from history
        where child_no in (select child_no from candidates)
            and not escalation_windows_at_load($from_care, $age_band, $risk_level, $escalation_days)
    )
    window last_days as (
        partition by child_no order by day_number
        range between ($escalation_days::integer - 1) preceding and current row
    )
    qualify start_date >= $period_start::date and episodes_in_window >= $escalation_episodes::integer

    union all

    select child_no, start_date, rule_window_episodes, rule_window_start
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where escalation_windows_at_load($from_care, $age_band, $risk_level, $escalation_days)
        and child_no is not null
        and rule_window_episodes >= $escalation_episodes::integer
),

-- Each child's window with the most episodes, the earliest of them: one whole number ranks
-- them (more episodes first, then the earlier end: day numbers are under 100,000). Its
-- first start is known here when the windows were read off the load.
best as (
    select
        child_no,
        max(episodes_in_window) as episodes_in_window,
        arg_max(window_end, episodes_in_window::bigint * 100000 - (window_end - date '2000-01-01')) as window_end,
        arg_max(window_start, episodes_in_window::bigint * 100000 - (window_end - date '2000-01-01')) as window_start,
        min(date_trunc('month', window_end))::date as first_met_month
    from windows
    group by child_no
),

-- The chosen window's first episode: the earliest of the child's episodes starting in its
-- days (worked out for that one window per child, not for every window), unless read off
-- the load.
per_child as (
    select
        best.child_no,
        any_value(best.episodes_in_window) as episodes_in_window,
        min(history.start_date) as window_start,
        any_value(best.window_end) as window_end,
        any_value(best.first_met_month) as first_met_month
    from best
    join history
        on history.child_no = best.child_no
        and history.start_date between best.window_end - ($escalation_days::integer - 1) and best.window_end
    where not escalation_windows_at_load($from_care, $age_band, $risk_level, $escalation_days)
    group by best.child_no

    union all

    select child_no, episodes_in_window, window_start, window_end, first_met_month
    from best
    where escalation_windows_at_load($from_care, $age_band, $risk_level, $escalation_days)
),

-- The latest episode is the one with the highest child_seq (mart_episode's order of a
-- child's episodes: start date, start time with none first, episode id).
latest as (
    select
        child_no,
        max(start_date) as latest_episode,
        arg_max(from_care, child_seq) as from_care,
        arg_max(age_band, child_seq) as age_band
    from history
    where start_date >= $period_start::date and child_no in (select child_no from per_child)
    group by child_no
)

select
    left(key.child_id, 8) as child,
    per_child.episodes_in_window,
    per_child.window_start,
    per_child.window_end,
    per_child.first_met_month,
    latest.latest_episode,
    case when latest.from_care then 'care' else 'home' end as from_care_or_home,
    latest.age_band
from per_child
join latest using (child_no)
join mart_child_key as key using (child_no)
order by per_child.episodes_in_window desc, latest.latest_episode desc, child;

-- name: repeat_top_children
-- The 50 children with the most episodes in the filtered period (ties: the latest
-- episode first, then the key): the choices of the analysts' timeline. The key is the
-- pseudonym; the label shows 8 characters of it.
-- (child_no is numbered in pseudonym order, so ordering by it is ordering by the key.)
-- Without a from-care, age-band or risk filter a child's episodes in the period are all
-- their episodes there (sex and ethnicity group are the child's), so an episode whose
-- before_previous_start (mart_episode: over all the child's episodes) is in the period is the
-- child's third or later in it: a child with n >= 3 episodes has n - 2 such, the last of them
-- their latest. When 50 or more children have three or more episodes, the 50 are among them
-- and are counted from those episodes alone (about a third of a national year's); otherwise,
-- and with an episode filter, every child of the period is counted.
with three_or_more as (
    select child_no, count(*) + 2 as episodes, max(start_date) as latest_episode
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where $from_care is null and $age_band is null and $risk_level is null
        and before_previous_start >= $period_start::date
    group by child_no
),

enough as (
    select count(*) >= 50 as enough from three_or_more
),

every_child as (
    select child_no, count(*) as episodes, max(start_date) as latest_episode
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where not (select enough from enough)
    group by child_no
),

top as (
    select *
    from (
        select * from three_or_more where (select enough from enough)
        union all
        select * from every_child
    )
    order by episodes desc, latest_episode desc, child_no
    limit 50
)

select
    key.child_id,
    left(key.child_id, 8) as child,
    top.episodes,
    top.latest_episode
from top
join mart_child_key as key using (child_no)
order by top.episodes desc, top.latest_episode desc, key.child_id;

-- name: repeat_child_episodes
-- One child's episodes in the filtered period, for the timeline. Police-known episodes
-- run from last seen to found; SSDA903-only episodes are whole days (midnight of the
-- start date to midnight after the end date). An open episode has no end.
select
    episode_id,
    category,
    police_known,
    coalesce(start_at, start_date::timestamp) as starts,
    case
        when end_at is not null then end_at
        when end_date is not null then end_date::timestamp + interval 1 day
    end as ends,
    start_date,
    end_date,
    risk_level,
    from_care,
    safe_and_well_at
from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
where child_no = (select child_no from mart_child_key where child_id = $child_id)
order by starts, episode_id;

-- name: repeat_child_interviews
-- RHI offers and completions linked to the child's episodes in the filtered period (an
-- RHI covering several of them is listed once), from the links sorted by episode.
with episodes as (
    select episode_id
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where child_no = (select child_no from mart_child_key where child_id = $child_id)
)

select distinct
    interview.rhi_key,
    interview.outcome,
    interview.offered_at,
    interview.completed_at
from mart_episode_interview as interview
join episodes using (episode_id)
order by interview.offered_at, interview.rhi_key;

-- name: repeat_child_placements
-- The child's SSDA903 placements overlapping the period (the filters other than the
-- dates do not apply to placements; the child was chosen under them).
select
    placement_id,
    placement_type,
    home_urn is not null as childrens_home,
    greatest(start_date, $period_start::date) as shown_from,
    least(coalesce(end_date, $period_end::date), $period_end::date) as shown_to,
    start_date,
    end_date
from fct_placement
where child_id = $child_id
    and start_date <= $period_end::date
    and (end_date is null or end_date >= $period_start::date)
    and exists (
        select 1
        from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
        where child_no = (select child_no from mart_child_key where child_id = $child_id)
    )
order by start_date;
