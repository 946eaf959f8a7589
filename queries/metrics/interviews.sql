-- name: interviews_by_month
-- RHI timeliness by month of the episode's start: of the returned missing episodes (the
-- denominator of every RHI figure, as `mfhc kpis`), those offered and completed within
-- 72 hours of the return. Percentages 1 decimal, NULL with no returned episodes.
with returned as (
    select *
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where returned_missing
)

select
    date_trunc('month', start_date)::date as month,
    count(*) as returned_missing_episodes,
    coalesce(count_if(rhi_offered_within_72h), 0)::bigint as rhi_offered_within_72h,
    coalesce(count_if(rhi_completed_within_72h), 0)::bigint as rhi_completed_within_72h,
    round(100.0 * coalesce(count_if(rhi_offered_within_72h), 0)::bigint / count(*), 1) as rhi_offered_within_72h_pct,
    round(100.0 * coalesce(count_if(rhi_completed_within_72h), 0)::bigint / count(*), 1) as rhi_completed_within_72h_pct
from returned
group by 1
order by 1;

-- name: interviews_by_provider
-- RHI timeliness by provider. An episode's provider is the provider of its earliest
-- completed linked RHI (by completed_at), or else of its earliest offered one (outcome
-- other than not_offered, by offered_at); ties go to the lower RHI key. Returned missing
-- episodes with no offer are one row, 'No interview offered'; an offer without a
-- provider is 'Provider not recorded'. A provider with fewer than 5 episodes shows no
-- rate (small numbers).
-- (The attribution depends on the episode's linked RHIs only: mart_episode.rhi_provider,
-- built at load.)
with attributed as (
    select
        rhi_offered_within_72h,
        rhi_completed_within_72h,
        coalesce(rhi_provider, 'No interview offered') as provider
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where returned_missing
)

select
    provider,
    count(*) as episodes,
    coalesce(count_if(rhi_offered_within_72h), 0)::bigint as rhi_offered_within_72h,
    coalesce(count_if(rhi_completed_within_72h), 0)::bigint as rhi_completed_within_72h,
    case when count(*) >= 5
        then round(100.0 * coalesce(count_if(rhi_offered_within_72h), 0)::bigint / count(*), 1)
    end as rhi_offered_within_72h_pct,
    case when count(*) >= 5
        then round(100.0 * coalesce(count_if(rhi_completed_within_72h), 0)::bigint / count(*), 1)
    end as rhi_completed_within_72h_pct
from attributed
group by provider
order by provider = 'No interview offered', rhi_completed_within_72h_pct desc nulls last, provider;

-- name: interviews_outcomes
-- Declined and no-contact rates, and parents/carers consulted. Of the returned missing
-- episodes: those with at least one linked RHI whose linked RHIs are all `declined`
-- (declined only) or all `no_contact` (no contact only). Of the distinct declined RHIs
-- linked to the period's (filtered) episodes: those with parent_carer_consulted = Y (a
-- blank counts as not consulted and is counted apart).
-- Per episode, whether its linked RHIs were all declined / all no contact is built at
-- load (mart_episode); the declined RHIs are counted once each over their links
-- (mart_rhi_link: one row per RHI and linked episode).
with returned as (
    select rhi_declined_only, rhi_no_contact_only
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where returned_missing
),

declined as (
    select rhi_no, any_value(parent_carer_consulted) as parent_carer_consulted
    from mart_rhi_links_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where outcome = 'declined'
    group by rhi_no
),

counts as (
    select
        (select count(*) from returned) as returned_missing_episodes,
        (select count(*) from returned where rhi_declined_only) as declined_only,
        (select count(*) from returned where rhi_no_contact_only) as no_contact_only,
        (select count(*) from declined) as declined_rhis,
        (select count(*) from declined where parent_carer_consulted) as parent_carer_consulted,
        (select count(*) from declined where parent_carer_consulted is null) as consulted_not_recorded
)

select
    *,
    round(100.0 * declined_only / nullif(returned_missing_episodes, 0), 1) as declined_only_pct,
    round(100.0 * no_contact_only / nullif(returned_missing_episodes, 0), 1) as no_contact_only_pct,
    round(100.0 * parent_carer_consulted / nullif(declined_rhis, 0), 1) as parent_carer_consulted_pct
from counts;

-- name: interviews_factors
-- Push/pull factors recorded on the distinct RHIs linked to the period's (filtered)
-- episodes, of any category: how many RHIs name each factor.
-- (Each RHI's factors are bits of mart_rhi_link.factor_mask, built at load. An RHI with
-- one link is one row; only those with several are de-duplicated.)
with links as (
    select rhi_no, rhi_links, factor_mask
    from mart_rhi_links_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
),

interviews as (
    select factor_mask from links where rhi_links = 1
    union all
    select any_value(factor_mask) from links where rhi_links > 1 group by rhi_no
),

masks as (
    select factor_mask, count(*) as interviews
    from interviews
    group by factor_mask
)

select factor.factor, sum(masks.interviews)::bigint as interviews
from masks
join mart_push_pull_factor as factor on (masks.factor_mask >> factor.bit) & 1 = 1
group by factor.factor
order by interviews desc, factor;

-- name: interviews_risks
-- Risks disclosed on the distinct RHIs linked to the period's (filtered) episodes: how
-- many RHIs have each flag true. Every flag is returned, with zeros.
-- (An RHI with one link is one row; only those with several are de-duplicated.)
with links as (
    select rhi_no, rhi_links, harm_disclosed, cse_risk, cce_risk, trafficking_risk, gang_risk
    from mart_rhi_links_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
),

interviews as (
    select harm_disclosed, cse_risk, cce_risk, trafficking_risk, gang_risk
    from links
    where rhi_links = 1
    union all
    select
        any_value(harm_disclosed),
        any_value(cse_risk),
        any_value(cce_risk),
        any_value(trafficking_risk),
        any_value(gang_risk)
    from links
    where rhi_links > 1
    group by rhi_no
)

select *
from (
    select 1 as risk_order, 'Harm disclosed' as risk, coalesce(count_if(harm_disclosed), 0)::bigint as interviews
    from interviews
    union all
    select 2, 'Child sexual exploitation risk', coalesce(count_if(cse_risk), 0)::bigint from interviews
    union all
    select 3, 'Child criminal exploitation risk', coalesce(count_if(cce_risk), 0)::bigint from interviews
    union all
    select 4, 'Trafficking risk', coalesce(count_if(trafficking_risk), 0)::bigint from interviews
    union all
    select 5, 'Gang risk', coalesce(count_if(gang_risk), 0)::bigint from interviews
)
order by risk_order;
