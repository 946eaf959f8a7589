-- The five filters, written once: every filtered table macro (this one, and those over the
-- dashboard marts in 020) tests its rows with it.
create macro matches_filter_bar(
    from_care, age_band, sex, ethnicity_group, risk_level,
    p_from_care, p_age_band, p_sex, p_ethnicity_group, p_risk_level
) as
    (p_from_care is null or from_care = p_from_care)
    and (p_age_band is null or age_band = p_age_band)
    and (p_sex is null or sex = p_sex)
    and (p_ethnicity_group is null or ethnicity_group = p_ethnicity_group)
    and (p_risk_level is null or risk_level = p_risk_level);

-- The filter bar's one definition: episodes starting in the period that match every
-- filter given (a NULL filter matches everything). Every dashboard query and the KPIs
-- read episodes through this macro, so a page and `mfhc kpis` can never disagree.
create macro episodes_filtered(
    p_period_start, p_period_end, p_from_care, p_age_band, p_sex, p_ethnicity_group, p_risk_level
) as table
select *
from fct_episode
where start_date between p_period_start and p_period_end
    and matches_filter_bar(from_care, age_band, sex, ethnicity_group, risk_level,
                           p_from_care, p_age_band, p_sex, p_ethnicity_group, p_risk_level);
