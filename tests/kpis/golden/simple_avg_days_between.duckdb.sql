-- sales_cycle_days_mean (month)
SELECT
  *
FROM (
  SELECT
    "t1"."period_start",
    AVG("t1"."__v") AS "value"
  FROM (
    SELECT
      "t0"."opportunity_id",
      "t0"."account_id",
      "t0"."lead_id",
      "t0"."owner_id",
      "t0"."created_at",
      "t0"."close_date",
      "t0"."closed_at",
      "t0"."stage",
      "t0"."is_closed",
      "t0"."is_won",
      "t0"."amount",
      "t0"."deal_type",
      "t0"."lead_source",
      "t0"."segment",
      "t0"."region",
      "t0"."lost_reason",
      "t0"."closed_at" AS "__c_closed_at",
      "t0"."created_at" AS "__c_created_at",
      "t0"."is_won" AS "__c_is_won",
      "t0"."deal_type" AS "__c_deal_type",
      (
        CAST(EPOCH(CAST(CAST(CAST("t0"."closed_at" AS DATE) AS TIMESTAMP) AS TIMESTAMP)) AS DOUBLE) - CAST(EPOCH(CAST(CAST(CAST("t0"."created_at" AS DATE) AS TIMESTAMP) AS TIMESTAMP)) AS DOUBLE)
      ) / 86400 AS "__v",
      MAKE_DATE(EXTRACT(year FROM "t0"."closed_at"), EXTRACT(month FROM "t0"."closed_at"), 1) AS "period_start"
    FROM "opportunities" AS "t0"
    WHERE
      "t0"."is_won"
      AND "t0"."deal_type" = 'new_business'
      AND "t0"."closed_at" IS NOT NULL
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
WHERE
  "t2"."value" IS NOT NULL
