-- name: interviews_by_month
-- RHI timeliness by month of the episode's start: of the returned missing episodes (the
-- denominator of every RHI figure, as `mfhc kpis`), those offered and completed within
-- 72 hours of the return. Percentages 1 decimal, NULL with no returned episodes.
-- Counted by day first, then by month: a month of each of a few hundred days, not of each
-- of hundreds of thousands of episodes.
with by_day as (
    select
        start_date,
        count(*) as returned_missing_episodes,
        count_if(rhi_offered_within_72h) as rhi_offered_within_72h,
        count_if(rhi_completed_within_72h) as rhi_completed_within_72h
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where returned_missing
    group by start_date
),

by_month as (
    select
        date_trunc('month', start_date)::date as month,
        sum(returned_missing_episodes)::bigint as returned_missing_episodes,
        coalesce(sum(rhi_offered_within_72h), 0)::bigint as rhi_offered_within_72h,
        coalesce(sum(rhi_completed_within_72h), 0)::bigint as rhi_completed_within_72h
    from by_day
    group by 1
)

select
    month,
    returned_missing_episodes,
    rhi_offered_within_72h,
    rhi_completed_within_72h,
    round(100.0 * rhi_offered_within_72h / returned_missing_episodes, 1) as rhi_offered_within_72h_pct,
    round(100.0 * rhi_completed_within_72h / returned_missing_episodes, 1) as rhi_completed_within_72h_pct
from by_month
order by month;

-- name: interviews_by_provider
-- RHI timeliness by provider. An episode's provider is the provider of its earliest
-- completed linked RHI (by completed_at), or else of its earliest offered one (outcome
-- other than not_offered, by offered_at); ties go to the lower RHI key. Returned missing
-- episodes with no offer are one row, 'No interview offered'; an offer without a
-- provider is 'Provider not recorded'. A provider with fewer than 5 episodes shows no
-- rate (small numbers).
-- (The attribution depends on the episode's linked RHIs only: mart_episode.rhi_provider,
-- built at load. Counted by the stored provider first and named after: the label is
-- made once per provider, not once per episode.)
with by_stored_provider as (
    select
        rhi_provider,
        count(*) as episodes,
        count_if(rhi_offered_within_72h) as rhi_offered_within_72h,
        count_if(rhi_completed_within_72h) as rhi_completed_within_72h
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where returned_missing
    group by rhi_provider
),

by_provider as (
    -- A stored provider named 'No interview offered' (none is expected) is counted with
    -- the episodes with no offer, as when the label was made per episode.
    select
        coalesce(rhi_provider, 'No interview offered') as provider,
        sum(episodes)::bigint as episodes,
        coalesce(sum(rhi_offered_within_72h), 0)::bigint as rhi_offered_within_72h,
        coalesce(sum(rhi_completed_within_72h), 0)::bigint as rhi_completed_within_72h
    from by_stored_provider
    group by 1
)

select
    provider,
    episodes,
    rhi_offered_within_72h,
    rhi_completed_within_72h,
    case when episodes >= 5 then round(100.0 * rhi_offered_within_72h / episodes, 1) end
        as rhi_offered_within_72h_pct,
    case when episodes >= 5 then round(100.0 * rhi_completed_within_72h / episodes, 1) end
        as rhi_completed_within_72h_pct
from by_provider
order by provider = 'No interview offered', rhi_completed_within_72h_pct desc nulls last, provider;

-- name: interviews_outcomes
-- Declined and no-contact rates, and parents/carers consulted. Of the returned missing
-- episodes: those with at least one linked RHI whose linked RHIs are all `declined`
-- (declined only) or all `no_contact` (no contact only). Of the distinct declined RHIs
-- linked to the period's (filtered) episodes: those with parent_carer_consulted = Y (a
-- blank counts as not consulted and is counted apart).
-- Per episode, whether its linked RHIs were all declined / all no contact is built at
-- load (mart_episode); the declined RHIs are counted once each over their links
-- (mart_rhi_link: one row per RHI and linked episode, with the RHI's own answers). An RHI
-- with one link is counted from its row; only those with several are grouped, under their
-- rhi_no (the single-link rows share the key -1, one group of counts).
with returned as (
    select
        count(*) as returned_missing_episodes,
        coalesce(count_if(rhi_declined_only), 0)::bigint as declined_only,
        coalesce(count_if(rhi_no_contact_only), 0)::bigint as no_contact_only
    from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where returned_missing
),

declined_by_key as (
    select
        case when rhi_links = 1 then -1 else rhi_no end as rhi_group,
        count(*) as rhis,
        count_if(parent_carer_consulted) as consulted,
        count_if(parent_carer_consulted is null) as not_recorded
    from mart_rhi_links_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    where outcome = 'declined'
    group by rhi_group
),

declined as (
    select
        coalesce(sum(case when rhi_group = -1 then rhis else 1 end), 0)::bigint as declined_rhis,
        coalesce(sum(case when rhi_group = -1 then consulted else (consulted > 0)::bigint end), 0)::bigint
            as parent_carer_consulted,
        coalesce(sum(case when rhi_group = -1 then not_recorded else (not_recorded > 0)::bigint end), 0)::bigint
            as consulted_not_recorded
    from declined_by_key
)

select
    returned.returned_missing_episodes,
    returned.declined_only,
    returned.no_contact_only,
    declined.declined_rhis,
    declined.parent_carer_consulted,
    declined.consulted_not_recorded,
    round(100.0 * declined_only / nullif(returned_missing_episodes, 0), 1) as declined_only_pct,
    round(100.0 * no_contact_only / nullif(returned_missing_episodes, 0), 1) as no_contact_only_pct,
    round(100.0 * declined.parent_carer_consulted / nullif(declined_rhis, 0), 1) as parent_carer_consulted_pct
from returned, declined;

-- name: interviews_factors
-- Push/pull factors recorded on the distinct RHIs linked to the period's (filtered)
-- episodes, of any category: how many RHIs name each factor.
-- (Each RHI's factors are bits of mart_rhi_link.factor_mask, built at load, the same on
-- every link of the RHI. An RHI with one link is counted from its row; those with
-- several are grouped under their rhi_no, one RHI each (the single-link rows share the
-- key -1), in the same pass.)
with by_key as (
    select
        case when rhi_links = 1 then -1 else rhi_no end as rhi_group,
        factor_mask,
        count(*) as links
    from mart_rhi_links_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    group by rhi_group, factor_mask
),

masks as (
    select factor_mask, sum(case when rhi_group = -1 then links else 1 end) as interviews
    from by_key
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
-- (The flags are the RHI's own, the same on every link. An RHI with one link is counted
-- from its row; those with several are grouped under their rhi_no and counted once each
-- (the single-link rows share the key -1, one group of counts), in one pass.)
with by_key as (
    select
        case when rhi_links = 1 then -1 else rhi_no end as rhi_group,
        count_if(harm_disclosed) as harm_disclosed,
        count_if(cse_risk) as cse_risk,
        count_if(cce_risk) as cce_risk,
        count_if(trafficking_risk) as trafficking_risk,
        count_if(gang_risk) as gang_risk
    from mart_rhi_links_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
    group by rhi_group
),

counts as (
    select
        sum(case when rhi_group = -1 then harm_disclosed else (harm_disclosed > 0)::bigint end) as harm_disclosed,
        sum(case when rhi_group = -1 then cse_risk else (cse_risk > 0)::bigint end) as cse_risk,
        sum(case when rhi_group = -1 then cce_risk else (cce_risk > 0)::bigint end) as cce_risk,
        sum(case when rhi_group = -1 then trafficking_risk else (trafficking_risk > 0)::bigint end) as trafficking_risk,
        sum(case when rhi_group = -1 then gang_risk else (gang_risk > 0)::bigint end) as gang_risk
    from by_key
)

select risk.risk_order, risk.risk, coalesce(risk.interviews, 0)::bigint as interviews
from counts,
    lateral (values
        (1, 'Harm disclosed', counts.harm_disclosed),
        (2, 'Child sexual exploitation risk', counts.cse_risk),
        (3, 'Child criminal exploitation risk', counts.cce_risk),
        (4, 'Trafficking risk', counts.trafficking_risk),
        (5, 'Gang risk', counts.gang_risk)
    ) as risk(risk_order, risk, interviews)
order by risk.risk_order;
