-- Marts of the care page, built once per load.

-- Unaccompanied asylum-seeking children with the day they first became looked after (their
-- first SSDA903 placement's start, DECOM): what care_uasc_missing and
-- care_uasc_first_looked_after would otherwise work out over every placement per request.
create table mart_uasc_child as
select key.child_no, key.child_id, min(placement.start_date) as first_decom
from fct_placement as placement
join mart_child_key as key using (child_id)
where placement.child_id in (select child_id from dim_child where uasc)
group by key.child_no, key.child_id
order by key.child_no;

-- Every SSDA903 placement's span, narrow and in order of start date: its last day is the
-- placement's end, or for an open placement the last episode date in the store (as for
-- children's homes). care_distance_rates clips these to the period per request, where it
-- read every placement's wide row and worked out the open ones' last day each time.
create table mart_placement_span as
select
    distance_band,
    start_date,
    coalesce(end_date, (select max(start_date) from fct_episode), start_date) as last_day
from fct_placement
order by start_date;
