-- win_rate (month)
WITH "t3" AS (
  SELECT
    "t1"."period_start",
    CAST(COUNT(*) AS DOUBLE) AS "value"
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
      "t0"."is_closed" AS "__c_is_closed",
      "t0"."deal_type" AS "__c_deal_type",
      MAKE_DATE(EXTRACT(year FROM "t0"."closed_at"), EXTRACT(month FROM "t0"."closed_at"), 1) AS "period_start"
    FROM "opportunities" AS "t0"
    WHERE
      "t0"."is_closed"
      AND "t0"."deal_type" = 'new_business'
      AND "t0"."closed_at" IS NOT NULL
  ) AS "t1"
  GROUP BY
    1
), "t4" AS (
  SELECT
    "t2"."period_start",
    CAST(COUNT(*) AS DOUBLE) AS "value"
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
      "t0"."is_won" AS "__c_is_won",
      "t0"."deal_type" AS "__c_deal_type",
      MAKE_DATE(EXTRACT(year FROM "t0"."closed_at"), EXTRACT(month FROM "t0"."closed_at"), 1) AS "period_start"
    FROM "opportunities" AS "t0"
    WHERE
      "t0"."is_won"
      AND "t0"."deal_type" = 'new_business'
      AND "t0"."closed_at" IS NOT NULL
  ) AS "t2"
  GROUP BY
    1
)
SELECT
  *
FROM (
  SELECT
    "t18"."period_start",
    COALESCE("t18"."__in_num", 0) / NULLIF(COALESCE("t18"."__in_den", 0), 0) AS "value"
  FROM (
    SELECT
      "t17"."period_start",
      "t17"."__in_num",
      "t11"."__k1_period_start",
      "t11"."__in_den"
    FROM (
      SELECT
        "t15"."period_start",
        "t15"."__in_num"
      FROM (
        SELECT
          "t14"."period_start",
          "t13"."__k0_period_start",
          "t13"."__in_num"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t6"."period_start"
            FROM "t4" AS "t6"
            WHERE
              "t6"."value" IS NOT NULL
          ) AS "t9"
          UNION
          SELECT
            *
          FROM (
            SELECT
              "t5"."period_start"
            FROM "t3" AS "t5"
            WHERE
              "t5"."value" IS NOT NULL
          ) AS "t8"
        ) AS "t14"
        LEFT OUTER JOIN (
          SELECT
            "t6"."period_start" AS "__k0_period_start",
            "t6"."value" AS "__in_num"
          FROM "t4" AS "t6"
          WHERE
            "t6"."value" IS NOT NULL
        ) AS "t13"
          ON "t14"."period_start" = "t13"."__k0_period_start"
      ) AS "t15"
    ) AS "t17"
    LEFT OUTER JOIN (
      SELECT
        "t5"."period_start" AS "__k1_period_start",
        "t5"."value" AS "__in_den"
      FROM "t3" AS "t5"
      WHERE
        "t5"."value" IS NOT NULL
    ) AS "t11"
      ON "t17"."period_start" = "t11"."__k1_period_start"
  ) AS "t18"
) AS "t19"
WHERE
  "t19"."value" IS NOT NULL
