-- Small definitions used in several places, each written once.

-- The academic year (September to August) holding a day, written as the DfE does: 2024/25.
create macro academic_year(day) as
    (case when month(day) >= 9 then year(day) else year(day) - 1 end)::varchar
    || '/'
    || lpad(((case when month(day) >= 9 then year(day) else year(day) - 1 end + 1) % 100)::varchar, 2, '0');

-- Bands of the straight-line distance between home and placement (metrics.md).
create macro distance_band(miles) as
    case
        when miles is null then 'unknown'
        when miles < 10 then 'under 10 miles'
        when miles <= 20 then '10-20 miles'
        else 'over 20 miles'
    end;
