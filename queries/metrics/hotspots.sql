-- name: hotspots_ward_rates
-- One row per ward of the authority: episodes of the filtered period by the ward the child
-- went missing from ($place = 'missing_from') or was found in ($place = 'found'), the
-- resident child population, the rate per 1,000 children (no rate under 5 episodes) and
-- the population-weighted mean IMD 2019 decile of the ward's LSOAs.
-- Population and IMD per ward are built at load (mart_ward, queries/marts/040).
with episodes as (
    select case when $place = 'found' then found_ward else missing_from_ward end as ward
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where police_known
),

ward_episodes as (
    select ward, count(*) as episodes
    from episodes
    where ward is not null
    group by ward
)

select
    wards.ward,
    wards.ward_name,
    coalesce(ward_episodes.episodes, 0) as episodes,
    wards.children,
    case
        when coalesce(ward_episodes.episodes, 0) >= 5 and wards.children > 0
            then round(1000.0 * ward_episodes.episodes / wards.children, 1)
    end as rate_per_1000,
    round(wards.imd_decile, 1) as imd_decile
from mart_ward as wards
left join ward_episodes using (ward)
order by episodes desc, wards.ward_name;

-- name: hotspots_place_coverage
-- How many filtered episodes have a known ward for the chosen place: only police-known
-- episodes carry places; a police place may be blank, unknown or outside the authority.
-- Counted by ward first, then the wards of the authority looked up once per ward (not
-- twice per episode).
with episodes as (
    select
        police_known,
        case when $place = 'found' then found_ward else missing_from_ward end as ward,
        case when $place = 'found' then found_la else missing_from_la end as la
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
),

by_ward as (
    select
        ward,
        count(*) as episodes,
        count_if(police_known) as police_known,
        count_if(not police_known) as ssda903_only,
        count_if(police_known and la is not null) as police_place,
        count_if(police_known and la is null) as place_unknown
    from episodes
    group by ward
),

wards as (
    select code as ward from ref_area where level = 'ward'
)

select
    coalesce(sum(episodes), 0)::bigint as episodes,
    coalesce(sum(police_known), 0)::bigint as police_known,
    coalesce(sum(episodes) filter (where by_ward.ward in (select ward from wards)), 0)::bigint as with_ward,
    coalesce(sum(ssda903_only), 0)::bigint as ssda903_only,
    coalesce(sum(police_place) filter (
        where by_ward.ward is null or by_ward.ward not in (select ward from wards)
    ), 0)::bigint as outside_area,
    coalesce(sum(place_unknown), 0)::bigint as place_unknown
from by_ward;

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
