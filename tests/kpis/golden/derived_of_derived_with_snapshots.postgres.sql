-- ltv_to_cac (month)
WITH "t3" AS (
  SELECT
    "t2"."subscription_id",
    "t2"."account_id",
    "t2"."opportunity_id",
    "t2"."start_date",
    "t2"."end_date",
    "t2"."mrr",
    "t2"."plan",
    "t2"."start_date" AS "__c_start_date",
    "t2"."end_date" AS "__c_end_date",
    "t2"."account_id" AS "__c_account_id",
    "t2"."start_date" AS "__from",
    "t2"."end_date" AS "__to",
    "t2"."account_id" AS "__v"
  FROM "subscriptions" AS "t2"
  WHERE
    "t2"."start_date" IS NOT NULL
), "t4" AS (
  SELECT
    "t2"."subscription_id",
    "t2"."account_id",
    "t2"."opportunity_id",
    "t2"."start_date",
    "t2"."end_date",
    "t2"."mrr",
    "t2"."plan",
    "t2"."start_date" AS "__c_start_date",
    "t2"."end_date" AS "__c_end_date",
    "t2"."mrr" AS "__c_mrr",
    "t2"."start_date" AS "__from",
    "t2"."end_date" AS "__to",
    "t2"."mrr" AS "__v"
  FROM "subscriptions" AS "t2"
  WHERE
    "t2"."start_date" IS NOT NULL
), "t14" AS (
  SELECT
    "t7"."period_start",
    SUM("t7"."__v") AS "value"
  FROM (
    SELECT
      "t1"."date",
      "t1"."channel",
      "t1"."campaign_id",
      "t1"."department",
      "t1"."category",
      "t1"."amount",
      "t1"."date" AS "__c_date",
      "t1"."amount" AS "__c_amount",
      "t1"."department" AS "__c_department",
      "t1"."amount" AS "__v",
      MAKE_DATE(
        CAST(EXTRACT(year FROM "t1"."date") AS INT),
        CAST(EXTRACT(month FROM "t1"."date") AS INT),
        CAST(1 AS INT)
      ) AS "period_start"
    FROM "spend" AS "t1"
    WHERE
      "t1"."department" IN ('sales', 'marketing') AND "t1"."date" IS NOT NULL
  ) AS "t7"
  GROUP BY
    1
), "t15" AS (
  SELECT
    "t6"."period_start",
    CAST(COUNT(DISTINCT "t6"."__v") AS DOUBLE PRECISION) AS "value"
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
      "t0"."account_id" AS "__c_account_id",
      "t0"."is_won" AS "__c_is_won",
      "t0"."deal_type" AS "__c_deal_type",
      "t0"."account_id" AS "__v",
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
  ) AS "t6"
  GROUP BY
    1
), "t40" AS (
  SELECT
    "t39"."period_start",
    CAST(COUNT(*) AS DOUBLE PRECISION) AS "value"
  FROM (
    SELECT
      "t35"."account_id",
      "t35"."date",
      "t35"."mrr_before",
      "t35"."mrr_after",
      "t35"."movement",
      "t35"."amount",
      "t35"."date" AS "__c_date",
      "t35"."movement" AS "__c_movement",
      MAKE_DATE(
        CAST(EXTRACT(year FROM "t35"."date") AS INT),
        CAST(EXTRACT(month FROM "t35"."date") AS INT),
        CAST(1 AS INT)
      ) AS "period_start"
    FROM (
      SELECT
        "t28"."account_id",
        "t28"."date",
        "t28"."mrr_after" - "t28"."delta" AS "mrr_before",
        "t28"."mrr_after",
        CASE
          WHEN NOT (
            (
              "t28"."mrr_after" - "t28"."delta"
            ) > 0.005
          )
          AND (
            "t28"."mrr_after" > 0.005
          )
          AND (
            "t28"."nth" = 0
          )
          THEN 'new'
          WHEN NOT (
            (
              "t28"."mrr_after" - "t28"."delta"
            ) > 0.005
          )
          AND (
            "t28"."mrr_after" > 0.005
          )
          THEN 'reactivation'
          WHEN (
            (
              "t28"."mrr_after" - "t28"."delta"
            ) > 0.005
          )
          AND NOT (
            "t28"."mrr_after" > 0.005
          )
          THEN 'churn'
          WHEN "t28"."delta" > 0.005
          THEN 'expansion'
          WHEN "t28"."delta" < -0.005
          THEN 'contraction'
          ELSE 'none'
        END AS "movement",
        ABS("t28"."delta") AS "amount"
      FROM (
        SELECT
          "t17"."account_id",
          "t17"."date",
          "t17"."delta",
          SUM("t17"."delta") OVER (
            PARTITION BY "t17"."account_id"
            ORDER BY "t17"."date" ASC
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
          ) AS "mrr_after",
          ROW_NUMBER() OVER (
            PARTITION BY "t17"."account_id"
            ORDER BY "t17"."date" ASC
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
          ) - 1 AS "nth"
        FROM (
          SELECT
            "t13"."account_id",
            "t13"."date",
            SUM("t13"."delta") AS "delta"
          FROM (
            SELECT
              *
            FROM (
              SELECT
                "t2"."account_id",
                CAST("t2"."start_date" AS DATE) AS "date",
                CAST("t2"."mrr" AS DOUBLE PRECISION) AS "delta"
              FROM "subscriptions" AS "t2"
            ) AS "t5"
            UNION ALL
            SELECT
              *
            FROM (
              SELECT
                "t2"."account_id",
                "t2"."end_date" AS "date",
                CAST(-(
                  "t2"."mrr"
                ) AS DOUBLE PRECISION) AS "delta"
              FROM "subscriptions" AS "t2"
              WHERE
                "t2"."end_date" IS NOT NULL
            ) AS "t10"
          ) AS "t13"
          GROUP BY
            1,
            2
        ) AS "t17"
      ) AS "t28"
    ) AS "t35"
    WHERE
      "t35"."movement" = 'churn' AND "t35"."date" IS NOT NULL
  ) AS "t39"
  GROUP BY
    1
), "t42" AS (
  SELECT
    "t38"."period_start",
    CAST(COALESCE("t38"."__in_num", 0) AS DOUBLE PRECISION) / NULLIF(COALESCE("t38"."__in_den", 0), 0) AS "value"
  FROM (
    SELECT
      "t34"."period_start",
      "t34"."__in_num",
      "t26"."__k1_period_start",
      "t26"."__in_den"
    FROM (
      SELECT
        "t32"."period_start",
        "t32"."__in_num"
      FROM (
        SELECT
          "t29"."period_start",
          "t25"."__k0_period_start",
          "t25"."__in_num"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t16"."period_start"
            FROM "t14" AS "t16"
            WHERE
              "t16"."value" IS NOT NULL
          ) AS "t19"
          UNION
          SELECT
            *
          FROM (
            SELECT
              "t18"."period_start"
            FROM "t15" AS "t18"
            WHERE
              "t18"."value" IS NOT NULL
          ) AS "t24"
        ) AS "t29"
        LEFT OUTER JOIN (
          SELECT
            "t16"."period_start" AS "__k0_period_start",
            "t16"."value" AS "__in_num"
          FROM "t14" AS "t16"
          WHERE
            "t16"."value" IS NOT NULL
        ) AS "t25"
          ON "t29"."period_start" = "t25"."__k0_period_start"
      ) AS "t32"
    ) AS "t34"
    LEFT OUTER JOIN (
      SELECT
        "t18"."period_start" AS "__k1_period_start",
        "t18"."value" AS "__in_den"
      FROM "t15" AS "t18"
      WHERE
        "t18"."value" IS NOT NULL
    ) AS "t26"
      ON "t34"."period_start" = "t26"."__k1_period_start"
  ) AS "t38"
), "t60" AS (
  SELECT
    "t59"."period_start",
    SUM("t59"."__v") AS "value"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t12"."subscription_id",
        "t12"."account_id",
        "t12"."opportunity_id",
        "t12"."start_date",
        "t12"."end_date",
        "t12"."mrr",
        "t12"."plan",
        "t12"."__c_start_date",
        "t12"."__c_end_date",
        "t12"."__c_mrr",
        "t12"."__from",
        "t12"."__to",
        "t12"."__v",
        "t54"."period_start",
        "t54"."__next"
      FROM "t4" AS "t12"
      CROSS JOIN (
        SELECT
          "t44"."period_start",
          "t44"."period_start" + INTERVAL '1 MONTH' AS "__next"
        FROM (
          SELECT DISTINCT
            MAKE_DATE(
              CAST(EXTRACT(year FROM MAKE_DATE(
                CAST(CAST(CAST(FLOOR(CAST((
                  "t37"."__i"
                ) AS DOUBLE PRECISION) / (
                  12
                )) AS BIGINT) AS INT) AS INT),
                CAST(CAST((
                  "t37"."__i" % 12
                ) + 1 AS INT) AS INT),
                CAST(1 AS INT)
              )) AS INT),
              CAST(EXTRACT(month FROM MAKE_DATE(
                CAST(CAST(CAST(FLOOR(CAST((
                  "t37"."__i"
                ) AS DOUBLE PRECISION) / (
                  12
                )) AS BIGINT) AS INT) AS INT),
                CAST(CAST((
                  "t37"."__i" % 12
                ) + 1 AS INT) AS INT),
                CAST(1 AS INT)
              )) AS INT),
              CAST(1 AS INT)
            ) AS "period_start"
          FROM (
            SELECT
              UNNEST(
                CASE
                  WHEN NULLIF(1, 0) IS NOT NULL
                  AND SIGN(1) = SIGN((
                    "t31"."__hi_i" + 1
                  ) - "t31"."__lo_i")
                  THEN ARRAY_REMOVE(
                    ARRAY(SELECT
                      *
                    FROM GENERATE_SERIES("t31"."__lo_i", "t31"."__hi_i" + 1, 1)),
                    "t31"."__hi_i" + 1
                  )
                  ELSE CAST(ARRAY[] AS BIGINT[])
                END
              ) AS "__i"
            FROM (
              SELECT
                "t22"."__lo",
                "t22"."__hi",
                (
                  (
                    EXTRACT(year FROM "t22"."__lo") * 12
                  ) + EXTRACT(month FROM "t22"."__lo")
                ) - 1 AS "__lo_i",
                (
                  (
                    EXTRACT(year FROM "t22"."__hi") * 12
                  ) + EXTRACT(month FROM "t22"."__hi")
                ) - 1 AS "__hi_i"
              FROM (
                SELECT
                  MAKE_DATE(
                    CAST(EXTRACT(year FROM MIN("t9"."__from")) AS INT),
                    CAST(EXTRACT(month FROM MIN("t9"."__from")) AS INT),
                    CAST(1 AS INT)
                  ) AS "__lo",
                  CASE
                    WHEN BOOL_OR("t9"."__to" IS NULL)
                    THEN GREATEST(
                      GREATEST(MAX("t9"."__from"), COALESCE(MAX("t9"."__to"), MAX("t9"."__from"))),
                      CURRENT_DATE
                    )
                    ELSE GREATEST(MAX("t9"."__from"), COALESCE(MAX("t9"."__to"), MAX("t9"."__from")))
                  END AS "__hi"
                FROM "t4" AS "t9"
              ) AS "t22"
            ) AS "t31"
          ) AS "t37"
        ) AS "t44"
      ) AS "t54"
    ) AS "t57"
    WHERE
      "t57"."__from" < "t57"."period_start"
      AND (
        (
          "t57"."__to" IS NULL
        ) OR (
          "t57"."__to" >= "t57"."period_start"
        )
      )
  ) AS "t59"
  GROUP BY
    1
), "t61" AS (
  SELECT
    "t58"."period_start",
    CAST(COUNT(DISTINCT "t58"."__v") AS DOUBLE PRECISION) AS "value"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t11"."subscription_id",
        "t11"."account_id",
        "t11"."opportunity_id",
        "t11"."start_date",
        "t11"."end_date",
        "t11"."mrr",
        "t11"."plan",
        "t11"."__c_start_date",
        "t11"."__c_end_date",
        "t11"."__c_account_id",
        "t11"."__from",
        "t11"."__to",
        "t11"."__v",
        "t53"."period_start",
        "t53"."__next"
      FROM "t3" AS "t11"
      CROSS JOIN (
        SELECT
          "t43"."period_start",
          "t43"."period_start" + INTERVAL '1 MONTH' AS "__next"
        FROM (
          SELECT DISTINCT
            MAKE_DATE(
              CAST(EXTRACT(year FROM MAKE_DATE(
                CAST(CAST(CAST(FLOOR(CAST((
                  "t36"."__i"
                ) AS DOUBLE PRECISION) / (
                  12
                )) AS BIGINT) AS INT) AS INT),
                CAST(CAST((
                  "t36"."__i" % 12
                ) + 1 AS INT) AS INT),
                CAST(1 AS INT)
              )) AS INT),
              CAST(EXTRACT(month FROM MAKE_DATE(
                CAST(CAST(CAST(FLOOR(CAST((
                  "t36"."__i"
                ) AS DOUBLE PRECISION) / (
                  12
                )) AS BIGINT) AS INT) AS INT),
                CAST(CAST((
                  "t36"."__i" % 12
                ) + 1 AS INT) AS INT),
                CAST(1 AS INT)
              )) AS INT),
              CAST(1 AS INT)
            ) AS "period_start"
          FROM (
            SELECT
              UNNEST(
                CASE
                  WHEN NULLIF(1, 0) IS NOT NULL
                  AND SIGN(1) = SIGN((
                    "t30"."__hi_i" + 1
                  ) - "t30"."__lo_i")
                  THEN ARRAY_REMOVE(
                    ARRAY(SELECT
                      *
                    FROM GENERATE_SERIES("t30"."__lo_i", "t30"."__hi_i" + 1, 1)),
                    "t30"."__hi_i" + 1
                  )
                  ELSE CAST(ARRAY[] AS BIGINT[])
                END
              ) AS "__i"
            FROM (
              SELECT
                "t21"."__lo",
                "t21"."__hi",
                (
                  (
                    EXTRACT(year FROM "t21"."__lo") * 12
                  ) + EXTRACT(month FROM "t21"."__lo")
                ) - 1 AS "__lo_i",
                (
                  (
                    EXTRACT(year FROM "t21"."__hi") * 12
                  ) + EXTRACT(month FROM "t21"."__hi")
                ) - 1 AS "__hi_i"
              FROM (
                SELECT
                  MAKE_DATE(
                    CAST(EXTRACT(year FROM MIN("t8"."__from")) AS INT),
                    CAST(EXTRACT(month FROM MIN("t8"."__from")) AS INT),
                    CAST(1 AS INT)
                  ) AS "__lo",
                  CASE
                    WHEN BOOL_OR("t8"."__to" IS NULL)
                    THEN GREATEST(
                      GREATEST(MAX("t8"."__from"), COALESCE(MAX("t8"."__to"), MAX("t8"."__from"))),
                      CURRENT_DATE
                    )
                    ELSE GREATEST(MAX("t8"."__from"), COALESCE(MAX("t8"."__to"), MAX("t8"."__from")))
                  END AS "__hi"
                FROM "t3" AS "t8"
              ) AS "t21"
            ) AS "t30"
          ) AS "t36"
        ) AS "t43"
      ) AS "t53"
    ) AS "t56"
    WHERE
      "t56"."__from" < "t56"."period_start"
      AND (
        (
          "t56"."__to" IS NULL
        ) OR (
          "t56"."__to" >= "t56"."period_start"
        )
      )
  ) AS "t58"
  GROUP BY
    1
), "t67" AS (
  SELECT
    "t63"."period_start"
  FROM "t61" AS "t63"
  WHERE
    "t63"."value" IS NOT NULL
), "t83" AS (
  SELECT
    "t81"."period_start",
    CAST(COALESCE("t81"."__in_num", 0) AS DOUBLE PRECISION) / NULLIF("t81"."__in_den", 0) AS "value"
  FROM (
    SELECT
      "t79"."period_start",
      "t79"."__in_num",
      "t69"."__k1_period_start",
      "t69"."__in_den"
    FROM (
      SELECT
        "t75"."period_start",
        "t75"."__in_num"
      FROM (
        SELECT
          "t73"."period_start",
          "t50"."__k0_period_start",
          "t50"."__in_num"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t41"."period_start"
            FROM "t40" AS "t41"
            WHERE
              "t41"."value" IS NOT NULL
          ) AS "t46"
          UNION
          SELECT
            *
          FROM "t67" AS "t70"
        ) AS "t73"
        LEFT OUTER JOIN (
          SELECT
            "t41"."period_start" AS "__k0_period_start",
            "t41"."value" AS "__in_num"
          FROM "t40" AS "t41"
          WHERE
            "t41"."value" IS NOT NULL
        ) AS "t50"
          ON "t73"."period_start" = "t50"."__k0_period_start"
      ) AS "t75"
    ) AS "t79"
    LEFT OUTER JOIN (
      SELECT
        "t63"."period_start" AS "__k1_period_start",
        "t63"."value" AS "__in_den"
      FROM "t61" AS "t63"
      WHERE
        "t63"."value" IS NOT NULL
    ) AS "t69"
      ON "t79"."period_start" = "t69"."__k1_period_start"
  ) AS "t81"
), "t84" AS (
  SELECT
    "t82"."period_start",
    CAST("t82"."__in_num" AS DOUBLE PRECISION) / NULLIF("t82"."__in_den", 0) AS "value"
  FROM (
    SELECT
      "t80"."period_start",
      "t80"."__in_num",
      "t69"."__k1_period_start",
      "t69"."__in_den"
    FROM (
      SELECT
        "t76"."period_start",
        "t76"."__in_num"
      FROM (
        SELECT
          "t74"."period_start",
          "t68"."__k0_period_start",
          "t68"."__in_num"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t62"."period_start"
            FROM "t60" AS "t62"
            WHERE
              "t62"."value" IS NOT NULL
          ) AS "t64"
          UNION
          SELECT
            *
          FROM "t67" AS "t70"
        ) AS "t74"
        LEFT OUTER JOIN (
          SELECT
            "t62"."period_start" AS "__k0_period_start",
            "t62"."value" AS "__in_num"
          FROM "t60" AS "t62"
          WHERE
            "t62"."value" IS NOT NULL
        ) AS "t68"
          ON "t74"."period_start" = "t68"."__k0_period_start"
      ) AS "t76"
    ) AS "t80"
    LEFT OUTER JOIN (
      SELECT
        "t63"."period_start" AS "__k1_period_start",
        "t63"."value" AS "__in_den"
      FROM "t61" AS "t63"
      WHERE
        "t63"."value" IS NOT NULL
    ) AS "t69"
      ON "t80"."period_start" = "t69"."__k1_period_start"
  ) AS "t82"
), "t99" AS (
  SELECT
    "t98"."period_start",
    CAST("t98"."__in_arpa" AS DOUBLE PRECISION) / NULLIF("t98"."__in_logo_churn_rate", 0) AS "value"
  FROM (
    SELECT
      "t97"."period_start",
      "t97"."__in_arpa",
      "t91"."__k1_period_start",
      "t91"."__in_logo_churn_rate"
    FROM (
      SELECT
        "t95"."period_start",
        "t95"."__in_arpa"
      FROM (
        SELECT
          "t94"."period_start",
          "t93"."__k0_period_start",
          "t93"."__in_arpa"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t86"."period_start"
            FROM "t84" AS "t86"
            WHERE
              "t86"."value" IS NOT NULL
          ) AS "t89"
          UNION
          SELECT
            *
          FROM (
            SELECT
              "t85"."period_start"
            FROM "t83" AS "t85"
            WHERE
              "t85"."value" IS NOT NULL
          ) AS "t88"
        ) AS "t94"
        LEFT OUTER JOIN (
          SELECT
            "t86"."period_start" AS "__k0_period_start",
            "t86"."value" AS "__in_arpa"
          FROM "t84" AS "t86"
          WHERE
            "t86"."value" IS NOT NULL
        ) AS "t93"
          ON "t94"."period_start" = "t93"."__k0_period_start"
      ) AS "t95"
    ) AS "t97"
    LEFT OUTER JOIN (
      SELECT
        "t85"."period_start" AS "__k1_period_start",
        "t85"."value" AS "__in_logo_churn_rate"
      FROM "t83" AS "t85"
      WHERE
        "t85"."value" IS NOT NULL
    ) AS "t91"
      ON "t97"."period_start" = "t91"."__k1_period_start"
  ) AS "t98"
)
SELECT
  *
FROM (
  SELECT
    "t109"."period_start",
    CAST("t109"."__in_ltv" AS DOUBLE PRECISION) / NULLIF("t109"."__in_cac", 0) AS "value"
  FROM (
    SELECT
      "t108"."period_start",
      "t108"."__in_ltv",
      "t55"."__k1_period_start",
      "t55"."__in_cac"
    FROM (
      SELECT
        "t106"."period_start",
        "t106"."__in_ltv"
      FROM (
        SELECT
          "t105"."period_start",
          "t104"."__k0_period_start",
          "t104"."__in_ltv"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t100"."period_start"
            FROM "t99" AS "t100"
            WHERE
              "t100"."value" IS NOT NULL
          ) AS "t101"
          UNION
          SELECT
            *
          FROM (
            SELECT
              "t45"."period_start"
            FROM "t42" AS "t45"
            WHERE
              "t45"."value" IS NOT NULL
          ) AS "t52"
        ) AS "t105"
        LEFT OUTER JOIN (
          SELECT
            "t100"."period_start" AS "__k0_period_start",
            "t100"."value" AS "__in_ltv"
          FROM "t99" AS "t100"
          WHERE
            "t100"."value" IS NOT NULL
        ) AS "t104"
          ON "t105"."period_start" = "t104"."__k0_period_start"
      ) AS "t106"
    ) AS "t108"
    LEFT OUTER JOIN (
      SELECT
        "t45"."period_start" AS "__k1_period_start",
        "t45"."value" AS "__in_cac"
      FROM "t42" AS "t45"
      WHERE
        "t45"."value" IS NOT NULL
    ) AS "t55"
      ON "t108"."period_start" = "t55"."__k1_period_start"
  ) AS "t109"
) AS "t110"
WHERE
  "t110"."value" IS NOT NULL
