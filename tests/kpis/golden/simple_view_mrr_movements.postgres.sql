-- churned_mrr (quarter)
SELECT
  *
FROM (
  SELECT
    "t7"."period_start",
    SUM("t7"."__v") AS "value"
  FROM (
    SELECT
      "t6"."account_id",
      "t6"."date",
      "t6"."mrr_before",
      "t6"."mrr_after",
      "t6"."movement",
      "t6"."amount",
      "t6"."date" AS "__c_date",
      "t6"."amount" AS "__c_amount",
      "t6"."movement" AS "__c_movement",
      "t6"."amount" AS "__v",
      MAKE_DATE(
        CAST(CAST(CAST(FLOOR(
          CAST((
            (
              (
                (
                  EXTRACT(year FROM "t6"."date") * 12
                ) + EXTRACT(month FROM "t6"."date")
              ) - 1
            ) - (
              (
                (
                  (
                    (
                      EXTRACT(year FROM "t6"."date") * 12
                    ) + EXTRACT(month FROM "t6"."date")
                  ) - 1
                ) - 0
              ) % 3
            )
          ) AS DOUBLE PRECISION) / (
            12
          )
        ) AS BIGINT) AS INT) AS INT),
        CAST(CAST((
          (
            (
              (
                (
                  EXTRACT(year FROM "t6"."date") * 12
                ) + EXTRACT(month FROM "t6"."date")
              ) - 1
            ) - (
              (
                (
                  (
                    (
                      EXTRACT(year FROM "t6"."date") * 12
                    ) + EXTRACT(month FROM "t6"."date")
                  ) - 1
                ) - 0
              ) % 3
            )
          ) % 12
        ) + 1 AS INT) AS INT),
        CAST(1 AS INT)
      ) AS "period_start"
    FROM (
      SELECT
        "t5"."account_id",
        "t5"."date",
        "t5"."mrr_after" - "t5"."delta" AS "mrr_before",
        "t5"."mrr_after",
        CASE
          WHEN NOT (
            (
              "t5"."mrr_after" - "t5"."delta"
            ) > 0.005
          )
          AND (
            "t5"."mrr_after" > 0.005
          )
          AND (
            "t5"."nth" = 0
          )
          THEN 'new'
          WHEN NOT (
            (
              "t5"."mrr_after" - "t5"."delta"
            ) > 0.005
          )
          AND (
            "t5"."mrr_after" > 0.005
          )
          THEN 'reactivation'
          WHEN (
            (
              "t5"."mrr_after" - "t5"."delta"
            ) > 0.005
          )
          AND NOT (
            "t5"."mrr_after" > 0.005
          )
          THEN 'churn'
          WHEN "t5"."delta" > 0.005
          THEN 'expansion'
          WHEN "t5"."delta" < -0.005
          THEN 'contraction'
          ELSE 'none'
        END AS "movement",
        ABS("t5"."delta") AS "amount"
      FROM (
        SELECT
          "t4"."account_id",
          "t4"."date",
          "t4"."delta",
          SUM("t4"."delta") OVER (
            PARTITION BY "t4"."account_id"
            ORDER BY "t4"."date" ASC
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
          ) AS "mrr_after",
          ROW_NUMBER() OVER (
            PARTITION BY "t4"."account_id"
            ORDER BY "t4"."date" ASC
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
          ) - 1 AS "nth"
        FROM (
          SELECT
            "t3"."account_id",
            "t3"."date",
            SUM("t3"."delta") AS "delta"
          FROM (
            SELECT
              *
            FROM (
              SELECT
                "t0"."account_id",
                CAST("t0"."start_date" AS DATE) AS "date",
                CAST("t0"."mrr" AS DOUBLE PRECISION) AS "delta"
              FROM "subscriptions" AS "t0"
            ) AS "t1"
            UNION ALL
            SELECT
              *
            FROM (
              SELECT
                "t0"."account_id",
                "t0"."end_date" AS "date",
                CAST(-(
                  "t0"."mrr"
                ) AS DOUBLE PRECISION) AS "delta"
              FROM "subscriptions" AS "t0"
              WHERE
                "t0"."end_date" IS NOT NULL
            ) AS "t2"
          ) AS "t3"
          GROUP BY
            1,
            2
        ) AS "t4"
      ) AS "t5"
    ) AS "t6"
    WHERE
      "t6"."movement" = 'churn' AND "t6"."date" IS NOT NULL
  ) AS "t7"
  GROUP BY
    1
) AS "t8"
WHERE
  "t8"."value" IS NOT NULL
