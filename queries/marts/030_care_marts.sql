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
