-- pipeline_velocity (month)
WITH "t8" AS (
  SELECT
    "t3"."period_start",
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
  ) AS "t3"
  GROUP BY
    1
)
SELECT
  *
FROM (
  SELECT
    "t34"."period_start",
    (
      COALESCE("t34"."__in_opportunities_created", 0) * "t34"."__in_average_deal_size" * "t34"."__in_win_rate"
    ) / NULLIF("t34"."__in_sales_cycle_days_mean", 0) AS "value"
  FROM (
    SELECT
      "t33"."period_start",
      MAX("t33"."__value") FILTER(WHERE
        "t33"."__alias" = 'opportunities_created') AS "__in_opportunities_created",
      MAX("t33"."__value") FILTER(WHERE
        "t33"."__alias" = 'average_deal_size') AS "__in_average_deal_size",
      MAX("t33"."__value") FILTER(WHERE
        "t33"."__alias" = 'win_rate') AS "__in_win_rate",
      MAX("t33"."__value") FILTER(WHERE
        "t33"."__alias" = 'sales_cycle_days_mean') AS "__in_sales_cycle_days_mean"
    FROM (
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            "t6"."period_start",
            'opportunities_created' AS "__alias",
            "t6"."value" AS "__value"
          FROM (
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
                "t0"."created_at" AS "__c_created_at",
                "t0"."deal_type" AS "__c_deal_type",
                MAKE_DATE(EXTRACT(year FROM "t0"."created_at"), EXTRACT(month FROM "t0"."created_at"), 1) AS "period_start"
              FROM "opportunities" AS "t0"
              WHERE
                "t0"."deal_type" = 'new_business' AND "t0"."created_at" IS NOT NULL
            ) AS "t1"
            GROUP BY
              1
          ) AS "t6"
          WHERE
            "t6"."value" IS NOT NULL
        ) AS "t13"
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            "t28"."period_start",
            'average_deal_size' AS "__alias",
            "t28"."value" AS "__value"
          FROM (
            SELECT
              "t26"."period_start",
              COALESCE("t26"."__in_num", 0) / NULLIF(COALESCE("t26"."__in_den", 0), 0) AS "value"
            FROM (
              SELECT
                "t23"."period_start",
                MAX("t23"."__value") FILTER(WHERE
                  "t23"."__alias" = 'num') AS "__in_num",
                MAX("t23"."__value") FILTER(WHERE
                  "t23"."__alias" = 'den') AS "__in_den"
              FROM (
                SELECT
                  *
                FROM (
                  SELECT
                    "t19"."period_start",
                    'num' AS "__alias",
                    "t19"."value" AS "__value"
                  FROM (
                    SELECT
                      *
                    FROM (
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t4"."period_start",
                          SUM("t4"."__v") AS "value"
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
                            MAKE_DATE(EXTRACT(year FROM "t0"."closed_at"), EXTRACT(month FROM "t0"."closed_at"), 1) AS "period_start"
                          FROM "opportunities" AS "t0"
                          WHERE
                            "t0"."is_won"
                            AND "t0"."deal_type" IN ('new_business', 'renewal')
                            AND "t0"."closed_at" IS NOT NULL
                        ) AS "t4"
                        GROUP BY
                          1
                      ) AS "t9"
                      WHERE
                        "t9"."value" IS NOT NULL AND "t9"."period_start" < MAKE_DATE(2024, 7, 1)
                    ) AS "t15"
                    UNION ALL
                    SELECT
                      *
                    FROM (
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t5"."period_start",
                          SUM("t5"."__v") AS "value"
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
                            MAKE_DATE(EXTRACT(year FROM "t0"."closed_at"), EXTRACT(month FROM "t0"."closed_at"), 1) AS "period_start"
                          FROM "opportunities" AS "t0"
                          WHERE
                            "t0"."is_won"
                            AND "t0"."deal_type" = 'new_business'
                            AND "t0"."closed_at" IS NOT NULL
                        ) AS "t5"
                        GROUP BY
                          1
                      ) AS "t10"
                      WHERE
                        "t10"."value" IS NOT NULL AND "t10"."period_start" >= MAKE_DATE(2024, 7, 1)
                    ) AS "t16"
                  ) AS "t19"
                ) AS "t22"
                UNION ALL
                SELECT
                  *
                FROM (
                  SELECT
                    "t11"."period_start",
                    'den' AS "__alias",
                    "t11"."value" AS "__value"
                  FROM "t8" AS "t11"
                  WHERE
                    "t11"."value" IS NOT NULL
                ) AS "t17"
              ) AS "t23"
              GROUP BY
                1
            ) AS "t26"
          ) AS "t28"
          WHERE
            "t28"."value" IS NOT NULL
        ) AS "t31"
      ) AS "t32"
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            "t27"."period_start",
            'win_rate' AS "__alias",
            "t27"."value" AS "__value"
          FROM (
            SELECT
              "t25"."period_start",
              COALESCE("t25"."__in_num", 0) / NULLIF(COALESCE("t25"."__in_den", 0), 0) AS "value"
            FROM (
              SELECT
                "t21"."period_start",
                MAX("t21"."__value") FILTER(WHERE
                  "t21"."__alias" = 'num') AS "__in_num",
                MAX("t21"."__value") FILTER(WHERE
                  "t21"."__alias" = 'den') AS "__in_den"
              FROM (
                SELECT
                  *
                FROM (
                  SELECT
                    "t11"."period_start",
                    'num' AS "__alias",
                    "t11"."value" AS "__value"
                  FROM "t8" AS "t11"
                  WHERE
                    "t11"."value" IS NOT NULL
                ) AS "t18"
                UNION ALL
                SELECT
                  *
                FROM (
                  SELECT
                    "t7"."period_start",
                    'den' AS "__alias",
                    "t7"."value" AS "__value"
                  FROM (
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
                        "t0"."is_closed" AS "__c_is_closed",
                        "t0"."deal_type" AS "__c_deal_type",
                        MAKE_DATE(EXTRACT(year FROM "t0"."closed_at"), EXTRACT(month FROM "t0"."closed_at"), 1) AS "period_start"
                      FROM "opportunities" AS "t0"
                      WHERE
                        "t0"."is_closed"
                        AND "t0"."deal_type" = 'new_business'
                        AND "t0"."closed_at" IS NOT NULL
                    ) AS "t2"
                    GROUP BY
                      1
                  ) AS "t7"
                  WHERE
                    "t7"."value" IS NOT NULL
                ) AS "t14"
              ) AS "t21"
              GROUP BY
                1
            ) AS "t25"
          ) AS "t27"
          WHERE
            "t27"."value" IS NOT NULL
        ) AS "t29"
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            "t20"."period_start",
            'sales_cycle_days_mean' AS "__alias",
            "t20"."value" AS "__value"
          FROM (
            SELECT
              "t12"."period_start",
              AVG("t12"."__v") AS "value"
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
            ) AS "t12"
            GROUP BY
              1
          ) AS "t20"
          WHERE
            "t20"."value" IS NOT NULL
        ) AS "t24"
      ) AS "t30"
    ) AS "t33"
    GROUP BY
      1
  ) AS "t34"
) AS "t35"
WHERE
  "t35"."value" IS NOT NULL
