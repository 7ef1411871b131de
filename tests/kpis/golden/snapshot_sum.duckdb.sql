-- mrr (month)
WITH "t1" AS (
  SELECT
    "t0"."subscription_id",
    "t0"."account_id",
    "t0"."opportunity_id",
    "t0"."start_date",
    "t0"."end_date",
    "t0"."mrr",
    "t0"."plan",
    "t0"."start_date" AS "__c_start_date",
    "t0"."end_date" AS "__c_end_date",
    "t0"."mrr" AS "__c_mrr",
    "t0"."start_date" AS "__from",
    "t0"."end_date" AS "__to",
    "t0"."mrr" AS "__v"
  FROM "subscriptions" AS "t0"
  WHERE
    "t0"."start_date" IS NOT NULL
)
SELECT
  *
FROM (
  SELECT
    "t11"."period_start",
    SUM("t11"."__v") AS "value"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t3"."subscription_id",
        "t3"."account_id",
        "t3"."opportunity_id",
        "t3"."start_date",
        "t3"."end_date",
        "t3"."mrr",
        "t3"."plan",
        "t3"."__c_start_date",
        "t3"."__c_end_date",
        "t3"."__c_mrr",
        "t3"."__from",
        "t3"."__to",
        "t3"."__v",
        "t9"."period_start",
        "t9"."__next"
      FROM "t1" AS "t3"
      CROSS JOIN (
        SELECT
          "t7"."period_start",
          "t7"."period_start" + INTERVAL '1' MONTH AS "__next"
        FROM (
          SELECT DISTINCT
            MAKE_DATE(
              EXTRACT(year FROM MAKE_DATE(
                CAST(CAST(FLOOR((
                  "t6"."__i"
                ) / (
                  12
                )) AS BIGINT) AS INT),
                CAST((
                  "t6"."__i" % 12
                ) + 1 AS INT),
                1
              )),
              EXTRACT(month FROM MAKE_DATE(
                CAST(CAST(FLOOR((
                  "t6"."__i"
                ) / (
                  12
                )) AS BIGINT) AS INT),
                CAST((
                  "t6"."__i" % 12
                ) + 1 AS INT),
                1
              )),
              1
            ) AS "period_start"
          FROM (
            SELECT
              UNNEST(RANGE("t5"."__lo_i", "t5"."__hi_i" + 1, 1)) AS "__i"
            FROM (
              SELECT
                "t4"."__lo",
                "t4"."__hi",
                (
                  (
                    EXTRACT(year FROM "t4"."__lo") * 12
                  ) + EXTRACT(month FROM "t4"."__lo")
                ) - 1 AS "__lo_i",
                (
                  (
                    EXTRACT(year FROM "t4"."__hi") * 12
                  ) + EXTRACT(month FROM "t4"."__hi")
                ) - 1 AS "__hi_i"
              FROM (
                SELECT
                  MAKE_DATE(EXTRACT(year FROM MIN("t2"."__from")), EXTRACT(month FROM MIN("t2"."__from")), 1) AS "__lo",
                  CASE
                    WHEN BOOL_OR(CAST("t2"."__to" IS NULL AS BOOLEAN))
                    THEN GREATEST(
                      GREATEST(MAX("t2"."__from"), COALESCE(MAX("t2"."__to"), MAX("t2"."__from"))),
                      CURRENT_DATE
                    )
                    ELSE GREATEST(MAX("t2"."__from"), COALESCE(MAX("t2"."__to"), MAX("t2"."__from")))
                  END AS "__hi"
                FROM "t1" AS "t2"
              ) AS "t4"
            ) AS "t5"
          ) AS "t6"
        ) AS "t7"
      ) AS "t9"
    ) AS "t10"
    WHERE
      "t10"."__from" < "t10"."period_start"
      AND (
        (
          "t10"."__to" IS NULL
        ) OR (
          "t10"."__to" >= "t10"."period_start"
        )
      )
  ) AS "t11"
  GROUP BY
    1
) AS "t12"
WHERE
  "t12"."value" IS NOT NULL
