-- name: hotspots_ward_rates
-- One row per ward of the authority: episodes of the filtered period by the ward the child
-- went missing from ($place = 'missing_from') or was found in ($place = 'found'), the
-- resident child population, the rate per 1,000 children (no rate under 5 episodes) and
-- the population-weighted mean IMD 2019 decile of the ward's LSOAs.
-- Population: stg_population.area_code is an LSOA (summed to wards through
-- ref_lsoa_ward) or already a ward code (used as it is).
with wards as (
    select code as ward, name as ward_name
    from ref_area
    where level = 'ward'
),

episodes as (
    select case when $place = 'found' then found_ward else missing_from_ward end as ward
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where police_known
),

ward_episodes as (
    select ward, count(*) as episodes
    from episodes
    where ward is not null
    group by ward
),

population_area as (
    select
        coalesce(lsoa_ward.ward, wards.ward) as ward,
        lsoa_ward.lsoa,
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

select
    wards.ward,
    wards.ward_name,
    coalesce(ward_episodes.episodes, 0) as episodes,
    ward_population.children,
    case
        when coalesce(ward_episodes.episodes, 0) >= 5 and ward_population.children > 0
            then round(1000.0 * ward_episodes.episodes / ward_population.children, 1)
    end as rate_per_1000,
    round(ward_imd.imd_decile, 1) as imd_decile
from wards
left join ward_episodes using (ward)
left join ward_population using (ward)
left join ward_imd using (ward)
order by episodes desc, wards.ward_name;

-- name: hotspots_place_coverage
-- How many filtered episodes have a known ward for the chosen place: only police-known
-- episodes carry places; a police place may be blank, unknown or outside the authority.
with episodes as (
    select
        police_known,
        case when $place = 'found' then found_ward else missing_from_ward end as ward,
        case when $place = 'found' then found_la else missing_from_la end as la
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
),

wards as (
    select code as ward from ref_area where level = 'ward'
)

select
    count(*) as episodes,
    coalesce(count_if(police_known), 0)::bigint as police_known,
    coalesce(count_if(episodes.ward in (select ward from wards)), 0)::bigint as with_ward,
    coalesce(count_if(not police_known), 0)::bigint as ssda903_only,
    count(*) filter (
        where police_known and episodes.la is not null
            and (episodes.ward is null or episodes.ward not in (select ward from wards))
    ) as outside_area,
    coalesce(count_if(police_known and episodes.la is null), 0)::bigint as place_unknown
from episodes;

-- name: hotspots_found_cells
-- Found places of the filtered police-known episodes, counted by 100 m grid cell (and the
-- ward of the exact point). The page clusters these and shows only cluster outlines and
-- counts, never a cell: see dashboard/figures/hotspots.py.
select
    found_grid_e as grid_e,
    found_grid_n as grid_n,
    found_ward as ward,
    count(*) as episodes
from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
where police_known and found_grid_e is not null and found_grid_n is not null
group by all
order by grid_e, grid_n, ward;

-- name: hotspots_ward_boundaries
-- Ward boundaries (WGS84 GeoJSON geometry per ward) for the maps.
select code as ward, name as ward_name, geojson
from ref_area
where level = 'ward'
order by code;

-- name: hotspots_imd_coverage
-- LSOAs of the geography with no IMD 2019 row (IMD is keyed on 2011 LSOA codes; a 2021
-- LSOA that was split or merged has a new code and no match).
select
    count(*) as lsoas,
    coalesce(count_if(imd.lsoa is null), 0)::bigint as lsoas_without_imd
from ref_lsoa_ward as lsoa_ward
left join ref_imd as imd on imd.lsoa = lsoa_ward.lsoa;
