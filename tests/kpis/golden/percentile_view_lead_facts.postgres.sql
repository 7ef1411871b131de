-- speed_to_lead_hours (week)
SELECT
  *
FROM (
  SELECT
    "t7"."period_start",
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      "t7"."__v") AS "value"
  FROM (
    SELECT
      "t6"."lead_id",
      "t6"."created_at",
      "t6"."first_touch_at",
      "t6"."first_marketing_touch_at",
      "t6"."first_sales_touch_at",
      "t6"."touches",
      "t6"."created_at" AS "__c_created_at",
      "t6"."first_sales_touch_at" AS "__c_first_sales_touch_at",
      CAST((
        CAST(EXTRACT('epoch' FROM "t6"."first_sales_touch_at") AS DOUBLE PRECISION) - CAST(EXTRACT('epoch' FROM "t6"."created_at") AS DOUBLE PRECISION)
      ) AS DOUBLE PRECISION) / 3600 AS "__v",
      CAST(DATE_TRUNC('WEEK', "t6"."created_at") AS DATE) AS "period_start"
    FROM (
      SELECT
        "t3"."lead_id",
        "t3"."created_at",
        "t5"."first_touch_at",
        "t5"."first_marketing_touch_at",
        "t5"."first_sales_touch_at",
        COALESCE("t5"."touches", 0) AS "touches"
      FROM (
        SELECT
          "t0"."lead_id",
          "t0"."created_at"
        FROM "leads" AS "t0"
      ) AS "t3"
      LEFT OUTER JOIN (
        SELECT
          "t1"."lead_id",
          MIN("t1"."occurred_at") AS "first_touch_at",
          MIN("t1"."occurred_at") FILTER(WHERE
            "t1"."touch_type" = 'marketing') AS "first_marketing_touch_at",
          MIN("t1"."occurred_at") FILTER(WHERE
            "t1"."touch_type" = 'sales') AS "first_sales_touch_at",
          COUNT(*) AS "touches"
        FROM "touchpoints" AS "t1"
        GROUP BY
          1
      ) AS "t5"
        ON "t3"."lead_id" = "t5"."lead_id"
    ) AS "t6"
    WHERE
      "t6"."first_sales_touch_at" IS NOT NULL
      AND "t6"."first_sales_touch_at" >= "t6"."created_at"
      AND "t6"."created_at" IS NOT NULL
  ) AS "t7"
  GROUP BY
    1
) AS "t8"
WHERE
  "t8"."value" IS NOT NULL
