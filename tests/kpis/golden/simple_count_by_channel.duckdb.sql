-- new_leads (month, by channel)
SELECT
  *
FROM (
  SELECT
    "t1"."period_start",
    "t1"."channel",
    CAST(COUNT(*) AS DOUBLE) AS "value"
  FROM (
    SELECT
      "t0"."lead_id",
      "t0"."account_id",
      "t0"."email",
      "t0"."created_at",
      "t0"."lead_source",
      "t0"."lead_source_detail",
      "t0"."campaign_id",
      "t0"."owner_id",
      "t0"."segment",
      "t0"."region",
      "t0"."industry",
      "t0"."lifecycle_stage",
      "t0"."score",
      "t0"."is_converted",
      "t0"."job_level",
      "t0"."job_function",
      "t0"."created_at" AS "__c_created_at",
      "t0"."lead_source" AS "__c_channel",
      MAKE_DATE(EXTRACT(year FROM "t0"."created_at"), EXTRACT(month FROM "t0"."created_at"), 1) AS "period_start",
      COALESCE("t0"."lead_source", '(none)') AS "channel"
    FROM "leads" AS "t0"
    WHERE
      "t0"."created_at" IS NOT NULL
  ) AS "t1"
  GROUP BY
    1,
    2
) AS "t2"
WHERE
  "t2"."value" IS NOT NULL
