-- Marts of the hotspots page, built once per load.

-- Each ward of the authority with its resident child population and the population-weighted
-- mean IMD 2019 decile of its LSOAs (unrounded): what hotspots_ward_rates would otherwise
-- work out from the population and IMD tables on every request. Population:
-- stg_population.area_code is an LSOA (summed to wards through ref_lsoa_ward) or already a
-- ward code (used as it is).
create table mart_ward as
with wards as (
    select code as ward, name as ward_name
    from ref_area
    where level = 'ward'
),

population_area as (
    select
        coalesce(lsoa_ward.ward, wards.ward) as ward,
        population.children
    from stg_population as population
    left join ref_lsoa_ward as lsoa_ward on lsoa_ward.lsoa = population.area_code
    left join wards on wards.ward = population.area_code
),

ward_population as (
    select ward, sum(children) as children
    from population_area
    where ward is not null
    group by ward
),

lsoa_imd as (
    select
        lsoa_ward.ward,
        imd.imd_decile,
        population.children
    from ref_lsoa_ward as lsoa_ward
    join ref_imd as imd on imd.lsoa = lsoa_ward.lsoa
    left join stg_population as population on population.area_code = lsoa_ward.lsoa
),

ward_imd as (
    select
        ward,
        case
            when sum(children) > 0 then sum(imd_decile * children) / sum(children)
            else avg(imd_decile)
        end as imd_decile
    from lsoa_imd
    group by ward
)

select wards.ward, wards.ward_name, ward_population.children, ward_imd.imd_decile
from wards
left join ward_population using (ward)
left join ward_imd using (ward);
