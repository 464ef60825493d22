-- What PostGraphile needs, beside the hub's tables and indexes, to answer the benchmark's
-- requests with the same data: the public visibility rule and the website's filters as
-- PostgreSQL functions, which PostGraphile exposes as query fields and computed columns (its
-- documented way to add such rules). Loaded into the benchmark database only.

CREATE OR REPLACE FUNCTION pledge_is_public(p pledges) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT p.publication_status IN ('PUBLISHED', 'FULFILLED')
      OR (p.publication_status = 'WITHDRAWN' AND p.published_at IS NOT NULL)
$$;
COMMENT ON FUNCTION pledge_is_public(pledges) IS E'@behavior -*';

CREATE OR REPLACE FUNCTION public_pledges(focus text, grp text, as_of date)
RETURNS SETOF pledges LANGUAGE sql STABLE AS $$
  SELECT p.* FROM pledges p
  WHERE pledge_is_public(p)
    AND EXISTS (SELECT 1 FROM pledge_focus_areas f
                WHERE f.pledge_id = p.id AND f.focus_area = focus)
    AND (EXISTS (SELECT 1 FROM pledge_target_groups g
                 WHERE g.pledge_id = p.id AND g.country_group = grp)
      OR EXISTS (SELECT 1 FROM pledge_target_countries tc
                 JOIN country_group_memberships m ON m.country = tc.country
                 WHERE tc.pledge_id = p.id AND m.country_group = grp
                   AND (m.valid_from IS NULL OR m.valid_from <= as_of)
                   AND (m.valid_to IS NULL OR m.valid_to > as_of)))
$$;
COMMENT ON FUNCTION public_pledges(text, text, date) IS E'@behavior +order';

CREATE OR REPLACE FUNCTION public_pledge(pledge_id integer) RETURNS pledges
LANGUAGE sql STABLE AS $$
  SELECT p.* FROM pledges p WHERE p.id = pledge_id AND pledge_is_public(p)
$$;

CREATE OR REPLACE FUNCTION pledges_amount(p pledges) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT round(p.amount_minor::numeric / (10::numeric ^ c.exponent), c.exponent)
  FROM currencies c WHERE c.code = p.currency
$$;

CREATE OR REPLACE FUNCTION pledges_accepted_endorsements(p pledges) RETURNS SETOF endorsements
LANGUAGE sql STABLE AS $$
  SELECT e.* FROM endorsements e WHERE e.pledge_id = p.id AND e.status = 'ACCEPTED'
  ORDER BY e.id
$$;

CREATE OR REPLACE FUNCTION pledges_public_progress_reports(p pledges)
RETURNS SETOF progress_reports LANGUAGE sql STABLE AS $$
  SELECT r.* FROM progress_reports r WHERE r.pledge_id = p.id AND r.status <> 'REJECTED'
  ORDER BY r.period_end, r.id
$$;

CREATE OR REPLACE FUNCTION targets_latest_value(t targets) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN t.measure = 'QUALITATIVE' THEN NULL
    WHEN t.cumulative THEN (
      SELECT v.value FROM progress_values v JOIN progress_reports r ON r.id = v.report_id
      WHERE v.target_id = t.id AND r.status <> 'REJECTED' AND v.value IS NOT NULL
      ORDER BY r.period_end DESC, r.id DESC LIMIT 1)
    ELSE (
      SELECT COALESCE(t.baseline_value, 0) + sum(v.value)
      FROM progress_values v JOIN progress_reports r ON r.id = v.report_id
      WHERE v.target_id = t.id AND r.status <> 'REJECTED' AND v.value IS NOT NULL
      HAVING count(*) > 0)
  END
$$;

DROP TYPE IF EXISTS pledge_stats_row CASCADE;
CREATE TYPE pledge_stats_row AS (
  key text, pledge_count integer, member_count integer, total_usd numeric,
  pledges_without_usd integer
);

-- Groups in key order, then the overall row (key ALL), as the hub's pledgeStats gives them.
CREATE OR REPLACE FUNCTION public_pledge_stats(group_by text) RETURNS SETOF pledge_stats_row
LANGUAGE sql STABLE AS $$
  WITH m AS (
    SELECT p.id,
           CASE WHEN held THEN NULL ELSE p.usd_amount_minor END AS usd,
           CASE WHEN held THEN NULL ELSE p.amount_minor END AS amount
    FROM pledges p, LATERAL (SELECT EXISTS (
      SELECT 1 FROM counted_elsewhere ce JOIN pledges a ON a.id = ce.counted_in_id
      WHERE ce.pledge_id = p.id AND pledge_is_public(a)) AS held) h
    WHERE pledge_is_public(p)
  ), k AS (
    SELECT f.pledge_id, f.focus_area::text AS key FROM pledge_focus_areas f
    JOIN m ON m.id = f.pledge_id WHERE group_by = 'FOCUS_AREA'
    UNION ALL
    SELECT tc.pledge_id, tc.country::text FROM pledge_target_countries tc
    JOIN m ON m.id = tc.pledge_id WHERE group_by = 'COUNTRY'
  ), e AS (
    SELECT e.pledge_id, e.organisation_id FROM endorsements e JOIN m ON m.id = e.pledge_id
    WHERE e.status = 'ACCEPTED'
  ), g AS (
    SELECT k.key, count(*)::integer AS pledges, COALESCE(sum(m.usd), 0) / 100.0 AS usd,
           (count(*) FILTER (WHERE m.usd IS NULL AND m.amount IS NOT NULL))::integer AS without
    FROM k JOIN m ON m.id = k.pledge_id GROUP BY k.key
  ), gm AS (
    SELECT k.key, count(DISTINCT e.organisation_id)::integer AS members
    FROM k JOIN e ON e.pledge_id = k.pledge_id GROUP BY k.key
  )
  SELECT * FROM (
    SELECT g.key, g.pledges, COALESCE(gm.members, 0), g.usd, g.without
    FROM g LEFT JOIN gm ON gm.key = g.key ORDER BY g.key COLLATE "C"
  ) groups
  UNION ALL
  SELECT 'ALL', count(*)::integer, (SELECT count(DISTINCT organisation_id) FROM e)::integer,
         COALESCE(sum(m.usd), 0) / 100.0,
         (count(*) FILTER (WHERE m.usd IS NULL AND m.amount IS NOT NULL))::integer
  FROM m
$$;
