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
    "t2"."mrr" AS "__c_mrr",
    "t2"."start_date" AS "__from",
    "t2"."end_date" AS "__to",
    "t2"."mrr" AS "__v"
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
    "t2"."account_id" AS "__c_account_id",
    "t2"."start_date" AS "__from",
    "t2"."end_date" AS "__to",
    "t2"."account_id" AS "__v"
  FROM "subscriptions" AS "t2"
  WHERE
    "t2"."start_date" IS NOT NULL
), "t47" AS (
  SELECT
    "t45"."period_start",
    'den' AS "__alias",
    "t45"."value" AS "__value"
  FROM (
    SELECT
      "t43"."period_start",
      CAST(COUNT(DISTINCT "t43"."__v") AS DOUBLE) AS "value"
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
          "t12"."__c_account_id",
          "t12"."__from",
          "t12"."__to",
          "t12"."__v",
          "t39"."period_start",
          "t39"."__next"
        FROM "t4" AS "t12"
        CROSS JOIN (
          SELECT
            "t34"."period_start",
            "t34"."period_start" + INTERVAL '1' MONTH AS "__next"
          FROM (
            SELECT DISTINCT
              MAKE_DATE(
                EXTRACT(year FROM MAKE_DATE(
                  CAST(CAST(FLOOR((
                    "t29"."__i"
                  ) / (
                    12
                  )) AS BIGINT) AS INT),
                  CAST((
                    "t29"."__i" % 12
                  ) + 1 AS INT),
                  1
                )),
                EXTRACT(month FROM MAKE_DATE(
                  CAST(CAST(FLOOR((
                    "t29"."__i"
                  ) / (
                    12
                  )) AS BIGINT) AS INT),
                  CAST((
                    "t29"."__i" % 12
                  ) + 1 AS INT),
                  1
                )),
                1
              ) AS "period_start"
            FROM (
              SELECT
                UNNEST(RANGE("t25"."__lo_i", "t25"."__hi_i" + 1, 1)) AS "__i"
              FROM (
                SELECT
                  "t20"."__lo",
                  "t20"."__hi",
                  (
                    (
                      EXTRACT(year FROM "t20"."__lo") * 12
                    ) + EXTRACT(month FROM "t20"."__lo")
                  ) - 1 AS "__lo_i",
                  (
                    (
                      EXTRACT(year FROM "t20"."__hi") * 12
                    ) + EXTRACT(month FROM "t20"."__hi")
                  ) - 1 AS "__hi_i"
                FROM (
                  SELECT
                    MAKE_DATE(EXTRACT(year FROM MIN("t9"."__from")), EXTRACT(month FROM MIN("t9"."__from")), 1) AS "__lo",
                    CASE
                      WHEN BOOL_OR(CAST("t9"."__to" IS NULL AS BOOLEAN))
                      THEN GREATEST(
                        GREATEST(MAX("t9"."__from"), COALESCE(MAX("t9"."__to"), MAX("t9"."__from"))),
                        CURRENT_DATE
                      )
                      ELSE GREATEST(MAX("t9"."__from"), COALESCE(MAX("t9"."__to"), MAX("t9"."__from")))
                    END AS "__hi"
                  FROM "t4" AS "t9"
                ) AS "t20"
              ) AS "t25"
            ) AS "t29"
          ) AS "t34"
        ) AS "t39"
      ) AS "t41"
      WHERE
        "t41"."__from" < "t41"."period_start"
        AND (
          (
            "t41"."__to" IS NULL
          ) OR (
            "t41"."__to" >= "t41"."period_start"
          )
        )
    ) AS "t43"
    GROUP BY
      1
  ) AS "t45"
  WHERE
    "t45"."value" IS NOT NULL
)
SELECT
  *
FROM (
  SELECT
    "t62"."period_start",
    "t62"."__in_ltv" / NULLIF("t62"."__in_cac", 0) AS "value"
  FROM (
    SELECT
      "t61"."period_start",
      MAX("t61"."__value") FILTER(WHERE
        "t61"."__alias" = 'ltv') AS "__in_ltv",
      MAX("t61"."__value") FILTER(WHERE
        "t61"."__alias" = 'cac') AS "__in_cac"
    FROM (
      SELECT
        *
      FROM (
        SELECT
          "t59"."period_start",
          'ltv' AS "__alias",
          "t59"."value" AS "__value"
        FROM (
          SELECT
            "t58"."period_start",
            "t58"."__in_arpa" / NULLIF("t58"."__in_logo_churn_rate", 0) AS "value"
          FROM (
            SELECT
              "t57"."period_start",
              MAX("t57"."__value") FILTER(WHERE
                "t57"."__alias" = 'arpa') AS "__in_arpa",
              MAX("t57"."__value") FILTER(WHERE
                "t57"."__alias" = 'logo_churn_rate') AS "__in_logo_churn_rate"
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  "t53"."period_start",
                  'arpa' AS "__alias",
                  "t53"."value" AS "__value"
                FROM (
                  SELECT
                    "t51"."period_start",
                    "t51"."__in_num" / NULLIF("t51"."__in_den", 0) AS "value"
                  FROM (
                    SELECT
                      "t49"."period_start",
                      MAX("t49"."__value") FILTER(WHERE
                        "t49"."__alias" = 'num') AS "__in_num",
                      MAX("t49"."__value") FILTER(WHERE
                        "t49"."__alias" = 'den') AS "__in_den"
                    FROM (
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t44"."period_start",
                          'num' AS "__alias",
                          "t44"."value" AS "__value"
                        FROM (
                          SELECT
                            "t42"."period_start",
                            SUM("t42"."__v") AS "value"
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
                                "t11"."__c_mrr",
                                "t11"."__from",
                                "t11"."__to",
                                "t11"."__v",
                                "t38"."period_start",
                                "t38"."__next"
                              FROM "t3" AS "t11"
                              CROSS JOIN (
                                SELECT
                                  "t33"."period_start",
                                  "t33"."period_start" + INTERVAL '1' MONTH AS "__next"
                                FROM (
                                  SELECT DISTINCT
                                    MAKE_DATE(
                                      EXTRACT(year FROM MAKE_DATE(
                                        CAST(CAST(FLOOR((
                                          "t28"."__i"
                                        ) / (
                                          12
                                        )) AS BIGINT) AS INT),
                                        CAST((
                                          "t28"."__i" % 12
                                        ) + 1 AS INT),
                                        1
                                      )),
                                      EXTRACT(month FROM MAKE_DATE(
                                        CAST(CAST(FLOOR((
                                          "t28"."__i"
                                        ) / (
                                          12
                                        )) AS BIGINT) AS INT),
                                        CAST((
                                          "t28"."__i" % 12
                                        ) + 1 AS INT),
                                        1
                                      )),
                                      1
                                    ) AS "period_start"
                                  FROM (
                                    SELECT
                                      UNNEST(RANGE("t24"."__lo_i", "t24"."__hi_i" + 1, 1)) AS "__i"
                                    FROM (
                                      SELECT
                                        "t19"."__lo",
                                        "t19"."__hi",
                                        (
                                          (
                                            EXTRACT(year FROM "t19"."__lo") * 12
                                          ) + EXTRACT(month FROM "t19"."__lo")
                                        ) - 1 AS "__lo_i",
                                        (
                                          (
                                            EXTRACT(year FROM "t19"."__hi") * 12
                                          ) + EXTRACT(month FROM "t19"."__hi")
                                        ) - 1 AS "__hi_i"
                                      FROM (
                                        SELECT
                                          MAKE_DATE(EXTRACT(year FROM MIN("t8"."__from")), EXTRACT(month FROM MIN("t8"."__from")), 1) AS "__lo",
                                          CASE
                                            WHEN BOOL_OR(CAST("t8"."__to" IS NULL AS BOOLEAN))
                                            THEN GREATEST(
                                              GREATEST(MAX("t8"."__from"), COALESCE(MAX("t8"."__to"), MAX("t8"."__from"))),
                                              CURRENT_DATE
                                            )
                                            ELSE GREATEST(MAX("t8"."__from"), COALESCE(MAX("t8"."__to"), MAX("t8"."__from")))
                                          END AS "__hi"
                                        FROM "t3" AS "t8"
                                      ) AS "t19"
                                    ) AS "t24"
                                  ) AS "t28"
                                ) AS "t33"
                              ) AS "t38"
                            ) AS "t40"
                            WHERE
                              "t40"."__from" < "t40"."period_start"
                              AND (
                                (
                                  "t40"."__to" IS NULL
                                ) OR (
                                  "t40"."__to" >= "t40"."period_start"
                                )
                              )
                          ) AS "t42"
                          GROUP BY
                            1
                        ) AS "t44"
                        WHERE
                          "t44"."value" IS NOT NULL
                      ) AS "t46"
                      UNION ALL
                      SELECT
                        *
                      FROM "t47" AS "t48"
                    ) AS "t49"
                    GROUP BY
                      1
                  ) AS "t51"
                ) AS "t53"
                WHERE
                  "t53"."value" IS NOT NULL
              ) AS "t55"
              UNION ALL
              SELECT
                *
              FROM (
                SELECT
                  "t54"."period_start",
                  'logo_churn_rate' AS "__alias",
                  "t54"."value" AS "__value"
                FROM (
                  SELECT
                    "t52"."period_start",
                    COALESCE("t52"."__in_num", 0) / NULLIF("t52"."__in_den", 0) AS "value"
                  FROM (
                    SELECT
                      "t50"."period_start",
                      MAX("t50"."__value") FILTER(WHERE
                        "t50"."__alias" = 'num') AS "__in_num",
                      MAX("t50"."__value") FILTER(WHERE
                        "t50"."__alias" = 'den') AS "__in_den"
                    FROM (
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t32"."period_start",
                          'num' AS "__alias",
                          "t32"."value" AS "__value"
                        FROM (
                          SELECT
                            "t31"."period_start",
                            CAST(COUNT(*) AS DOUBLE) AS "value"
                          FROM (
                            SELECT
                              "t27"."account_id",
                              "t27"."date",
                              "t27"."mrr_before",
                              "t27"."mrr_after",
                              "t27"."movement",
                              "t27"."amount",
                              "t27"."date" AS "__c_date",
                              "t27"."movement" AS "__c_movement",
                              MAKE_DATE(EXTRACT(year FROM "t27"."date"), EXTRACT(month FROM "t27"."date"), 1) AS "period_start"
                            FROM (
                              SELECT
                                "t22"."account_id",
                                "t22"."date",
                                "t22"."mrr_after" - "t22"."delta" AS "mrr_before",
                                "t22"."mrr_after",
                                CASE
                                  WHEN NOT (
                                    (
                                      "t22"."mrr_after" - "t22"."delta"
                                    ) > 0.005
                                  )
                                  AND (
                                    "t22"."mrr_after" > 0.005
                                  )
                                  AND (
                                    "t22"."nth" = 0
                                  )
                                  THEN 'new'
                                  WHEN NOT (
                                    (
                                      "t22"."mrr_after" - "t22"."delta"
                                    ) > 0.005
                                  )
                                  AND (
                                    "t22"."mrr_after" > 0.005
                                  )
                                  THEN 'reactivation'
                                  WHEN (
                                    (
                                      "t22"."mrr_after" - "t22"."delta"
                                    ) > 0.005
                                  )
                                  AND NOT (
                                    "t22"."mrr_after" > 0.005
                                  )
                                  THEN 'churn'
                                  WHEN "t22"."delta" > 0.005
                                  THEN 'expansion'
                                  WHEN "t22"."delta" < -0.005
                                  THEN 'contraction'
                                  ELSE 'none'
                                END AS "movement",
                                ABS("t22"."delta") AS "amount"
                              FROM (
                                SELECT
                                  "t16"."account_id",
                                  "t16"."date",
                                  "t16"."delta",
                                  SUM("t16"."delta") OVER (
                                    PARTITION BY "t16"."account_id"
                                    ORDER BY "t16"."date" ASC
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                                  ) AS "mrr_after",
                                  ROW_NUMBER() OVER (
                                    PARTITION BY "t16"."account_id"
                                    ORDER BY "t16"."date" ASC
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
                                        CAST("t2"."mrr" AS DOUBLE) AS "delta"
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
                                        ) AS DOUBLE) AS "delta"
                                      FROM "subscriptions" AS "t2"
                                      WHERE
                                        "t2"."end_date" IS NOT NULL
                                    ) AS "t10"
                                  ) AS "t13"
                                  GROUP BY
                                    1,
                                    2
                                ) AS "t16"
                              ) AS "t22"
                            ) AS "t27"
                            WHERE
                              "t27"."movement" = 'churn' AND "t27"."date" IS NOT NULL
                          ) AS "t31"
                          GROUP BY
                            1
                        ) AS "t32"
                        WHERE
                          "t32"."value" IS NOT NULL
                      ) AS "t35"
                      UNION ALL
                      SELECT
                        *
                      FROM "t47" AS "t48"
                    ) AS "t50"
                    GROUP BY
                      1
                  ) AS "t52"
                ) AS "t54"
                WHERE
                  "t54"."value" IS NOT NULL
              ) AS "t56"
            ) AS "t57"
            GROUP BY
              1
          ) AS "t58"
        ) AS "t59"
        WHERE
          "t59"."value" IS NOT NULL
      ) AS "t60"
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          "t26"."period_start",
          'cac' AS "__alias",
          "t26"."value" AS "__value"
        FROM (
          SELECT
            "t23"."period_start",
            COALESCE("t23"."__in_num", 0) / NULLIF(COALESCE("t23"."__in_den", 0), 0) AS "value"
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
                  "t14"."period_start",
                  'num' AS "__alias",
                  "t14"."value" AS "__value"
                FROM (
                  SELECT
                    "t6"."period_start",
                    SUM("t6"."__v") AS "value"
                  FROM (
                    SELECT
                      "t0"."date",
                      "t0"."channel",
                      "t0"."campaign_id",
                      "t0"."department",
                      "t0"."category",
                      "t0"."amount",
                      "t0"."date" AS "__c_date",
                      "t0"."amount" AS "__c_amount",
                      "t0"."department" AS "__c_department",
                      "t0"."amount" AS "__v",
                      MAKE_DATE(EXTRACT(year FROM "t0"."date"), EXTRACT(month FROM "t0"."date"), 1) AS "period_start"
                    FROM "spend" AS "t0"
                    WHERE
                      "t0"."department" IN ('sales', 'marketing') AND "t0"."date" IS NOT NULL
                  ) AS "t6"
                  GROUP BY
                    1
                ) AS "t14"
                WHERE
                  "t14"."value" IS NOT NULL
              ) AS "t17"
              UNION ALL
              SELECT
                *
              FROM (
                SELECT
                  "t15"."period_start",
                  'den' AS "__alias",
                  "t15"."value" AS "__value"
                FROM (
                  SELECT
                    "t7"."period_start",
                    CAST(COUNT(DISTINCT "t7"."__v") AS DOUBLE) AS "value"
                  FROM (
                    SELECT
                      "t1"."opportunity_id",
                      "t1"."account_id",
                      "t1"."lead_id",
                      "t1"."owner_id",
                      "t1"."created_at",
                      "t1"."close_date",
                      "t1"."closed_at",
                      "t1"."stage",
                      "t1"."is_closed",
                      "t1"."is_won",
                      "t1"."amount",
                      "t1"."deal_type",
                      "t1"."lead_source",
                      "t1"."segment",
                      "t1"."region",
                      "t1"."lost_reason",
                      "t1"."closed_at" AS "__c_closed_at",
                      "t1"."account_id" AS "__c_account_id",
                      "t1"."is_won" AS "__c_is_won",
                      "t1"."deal_type" AS "__c_deal_type",
                      "t1"."account_id" AS "__v",
                      MAKE_DATE(EXTRACT(year FROM "t1"."closed_at"), EXTRACT(month FROM "t1"."closed_at"), 1) AS "period_start"
                    FROM "opportunities" AS "t1"
                    WHERE
                      "t1"."is_won"
                      AND "t1"."deal_type" = 'new_business'
                      AND "t1"."closed_at" IS NOT NULL
                  ) AS "t7"
                  GROUP BY
                    1
                ) AS "t15"
                WHERE
                  "t15"."value" IS NOT NULL
              ) AS "t18"
            ) AS "t21"
            GROUP BY
              1
          ) AS "t23"
        ) AS "t26"
        WHERE
          "t26"."value" IS NOT NULL
      ) AS "t30"
    ) AS "t61"
    GROUP BY
      1
  ) AS "t62"
) AS "t63"
WHERE
  "t63"."value" IS NOT NULL
