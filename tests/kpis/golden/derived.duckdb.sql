-- pipeline_velocity (month)
WITH "t6" AS (
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
), "t7" AS (
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
), "t8" AS (
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
), "t23" AS (
  SELECT
    "t13"."period_start"
  FROM "t8" AS "t13"
  WHERE
    "t13"."value" IS NOT NULL
), "t24" AS (
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
), "t25" AS (
  SELECT
    "t14"."period_start",
    AVG("t14"."__v") AS "value"
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
  ) AS "t14"
  GROUP BY
    1
), "t51" AS (
  SELECT
    "t49"."period_start",
    COALESCE("t49"."__in_num", 0) / NULLIF(COALESCE("t49"."__in_den", 0), 0) AS "value"
  FROM (
    SELECT
      "t46"."period_start",
      "t46"."__in_num",
      "t27"."__k1_period_start",
      "t27"."__in_den"
    FROM (
      SELECT
        "t43"."period_start",
        "t43"."__in_num"
      FROM (
        SELECT
          "t34"."period_start",
          "t29"."__k0_period_start",
          "t29"."__in_num"
        FROM (
          SELECT
            *
          FROM "t23" AS "t30"
          UNION
          SELECT
            *
          FROM (
            SELECT
              "t12"."period_start"
            FROM "t7" AS "t12"
            WHERE
              "t12"."value" IS NOT NULL
          ) AS "t20"
        ) AS "t34"
        LEFT OUTER JOIN (
          SELECT
            "t13"."period_start" AS "__k0_period_start",
            "t13"."value" AS "__in_num"
          FROM "t8" AS "t13"
          WHERE
            "t13"."value" IS NOT NULL
        ) AS "t29"
          ON "t34"."period_start" = "t29"."__k0_period_start"
      ) AS "t43"
    ) AS "t46"
    LEFT OUTER JOIN (
      SELECT
        "t12"."period_start" AS "__k1_period_start",
        "t12"."value" AS "__in_den"
      FROM "t7" AS "t12"
      WHERE
        "t12"."value" IS NOT NULL
    ) AS "t27"
      ON "t46"."period_start" = "t27"."__k1_period_start"
  ) AS "t49"
), "t53" AS (
  SELECT
    "t50"."period_start",
    COALESCE("t50"."__in_num", 0) / NULLIF(COALESCE("t50"."__in_den", 0), 0) AS "value"
  FROM (
    SELECT
      "t48"."period_start",
      "t48"."__in_num",
      "t28"."__k1_period_start",
      "t28"."__in_den"
    FROM (
      SELECT
        "t45"."period_start",
        "t45"."__in_num"
      FROM (
        SELECT
          "t41"."period_start",
          "t38"."__k0_period_start",
          "t38"."__in_num"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t31"."period_start"
            FROM "t24" AS "t31"
          ) AS "t35"
          UNION
          SELECT
            *
          FROM "t23" AS "t30"
        ) AS "t41"
        LEFT OUTER JOIN (
          SELECT
            "t31"."period_start" AS "__k0_period_start",
            "t31"."value" AS "__in_num"
          FROM "t24" AS "t31"
        ) AS "t38"
          ON "t41"."period_start" = "t38"."__k0_period_start"
      ) AS "t45"
    ) AS "t48"
    LEFT OUTER JOIN (
      SELECT
        "t13"."period_start" AS "__k1_period_start",
        "t13"."value" AS "__in_den"
      FROM "t8" AS "t13"
      WHERE
        "t13"."value" IS NOT NULL
    ) AS "t28"
      ON "t48"."period_start" = "t28"."__k1_period_start"
  ) AS "t50"
)
SELECT
  *
FROM (
  SELECT
    "t75"."period_start",
    (
      COALESCE("t75"."__in_opportunities_created", 0) * "t75"."__in_average_deal_size" * "t75"."__in_win_rate"
    ) / NULLIF("t75"."__in_sales_cycle_days_mean", 0) AS "value"
  FROM (
    SELECT
      "t74".*
      EXCLUDE ("__k3_period_start")
    FROM (
      SELECT
        "t73"."period_start",
        "t73"."__in_opportunities_created",
        "t73"."__in_average_deal_size",
        "t73"."__in_win_rate",
        "t42"."__k3_period_start",
        "t42"."__in_sales_cycle_days_mean"
      FROM (
        SELECT
          "t71".*
          EXCLUDE ("__k2_period_start")
        FROM (
          SELECT
            "t70"."period_start",
            "t70"."__in_opportunities_created",
            "t70"."__in_average_deal_size",
            "t57"."__k2_period_start",
            "t57"."__in_win_rate"
          FROM (
            SELECT
              "t68"."period_start",
              "t68"."__in_opportunities_created",
              "t68"."__in_average_deal_size"
            FROM (
              SELECT
                "t67"."period_start",
                "t67"."__in_opportunities_created",
                "t61"."__k1_period_start",
                "t61"."__in_average_deal_size"
              FROM (
                SELECT
                  "t65"."period_start",
                  "t65"."__in_opportunities_created"
                FROM (
                  SELECT
                    "t64"."period_start",
                    "t26"."__k0_period_start",
                    "t26"."__in_opportunities_created"
                  FROM (
                    SELECT
                      *
                    FROM (
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t11"."period_start"
                        FROM "t6" AS "t11"
                        WHERE
                          "t11"."value" IS NOT NULL
                      ) AS "t18"
                      UNION
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t54"."period_start"
                        FROM "t53" AS "t54"
                        WHERE
                          "t54"."value" IS NOT NULL
                      ) AS "t60"
                    ) AS "t62"
                    UNION
                    SELECT
                      *
                    FROM (
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t52"."period_start"
                        FROM "t51" AS "t52"
                        WHERE
                          "t52"."value" IS NOT NULL
                      ) AS "t56"
                      UNION
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t32"."period_start"
                        FROM "t25" AS "t32"
                        WHERE
                          "t32"."value" IS NOT NULL
                      ) AS "t40"
                    ) AS "t58"
                  ) AS "t64"
                  LEFT OUTER JOIN (
                    SELECT
                      "t11"."period_start" AS "__k0_period_start",
                      "t11"."value" AS "__in_opportunities_created"
                    FROM "t6" AS "t11"
                    WHERE
                      "t11"."value" IS NOT NULL
                  ) AS "t26"
                    ON "t64"."period_start" = "t26"."__k0_period_start"
                ) AS "t65"
              ) AS "t67"
              LEFT OUTER JOIN (
                SELECT
                  "t54"."period_start" AS "__k1_period_start",
                  "t54"."value" AS "__in_average_deal_size"
                FROM "t53" AS "t54"
                WHERE
                  "t54"."value" IS NOT NULL
              ) AS "t61"
                ON "t67"."period_start" = "t61"."__k1_period_start"
            ) AS "t68"
          ) AS "t70"
          LEFT OUTER JOIN (
            SELECT
              "t52"."period_start" AS "__k2_period_start",
              "t52"."value" AS "__in_win_rate"
            FROM "t51" AS "t52"
            WHERE
              "t52"."value" IS NOT NULL
          ) AS "t57"
            ON "t70"."period_start" = "t57"."__k2_period_start"
        ) AS "t71"
      ) AS "t73"
      LEFT OUTER JOIN (
        SELECT
          "t32"."period_start" AS "__k3_period_start",
          "t32"."value" AS "__in_sales_cycle_days_mean"
        FROM "t25" AS "t32"
        WHERE
          "t32"."value" IS NOT NULL
      ) AS "t42"
        ON "t73"."period_start" = "t42"."__k3_period_start"
    ) AS "t74"
  ) AS "t75"
) AS "t76"
WHERE
  "t76"."value" IS NOT NULL
