-- new_revenue (month)
SELECT
  *
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t1"."period_start",
      SUM("t1"."__v") AS "value"
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
        "t0"."amount" AS "__c_amount",
        "t0"."is_won" AS "__c_opportunity__is_won",
        "t0"."deal_type" AS "__c_opportunity__deal_type",
        "t0"."amount" AS "__v",
        MAKE_DATE(
          CAST(EXTRACT(year FROM "t0"."closed_at") AS INT),
          CAST(EXTRACT(month FROM "t0"."closed_at") AS INT),
          CAST(1 AS INT)
        ) AS "period_start"
      FROM "opportunities" AS "t0"
      WHERE
        "t0"."is_won"
        AND "t0"."deal_type" IN ('new_business', 'renewal')
        AND "t0"."closed_at" IS NOT NULL
    ) AS "t1"
    GROUP BY
      1
  ) AS "t3"
  WHERE
    "t3"."value" IS NOT NULL AND "t3"."period_start" < MAKE_DATE(2024, 7, 1)
) AS "t5"
UNION ALL
SELECT
  *
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t2"."period_start",
      SUM("t2"."__v") AS "value"
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
        "t0"."amount" AS "__c_amount",
        "t0"."is_won" AS "__c_opportunity__is_won",
        "t0"."deal_type" AS "__c_opportunity__deal_type",
        "t0"."amount" AS "__v",
        MAKE_DATE(
          CAST(EXTRACT(year FROM "t0"."closed_at") AS INT),
          CAST(EXTRACT(month FROM "t0"."closed_at") AS INT),
          CAST(1 AS INT)
        ) AS "period_start"
      FROM "opportunities" AS "t0"
      WHERE
        "t0"."is_won"
        AND "t0"."deal_type" = 'new_business'
        AND "t0"."closed_at" IS NOT NULL
    ) AS "t2"
    GROUP BY
      1
  ) AS "t4"
  WHERE
    "t4"."value" IS NOT NULL AND "t4"."period_start" >= MAKE_DATE(2024, 7, 1)
) AS "t6"
