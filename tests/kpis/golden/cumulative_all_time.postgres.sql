-- golden_revenue_all_time (month)
WITH "t8" AS (
  SELECT
    "t7"."period_start" AS "__x",
    "t7"."value" AS "__v"
  FROM (
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
            DATE("t0"."closed_at") AS "period_start"
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
            DATE("t0"."closed_at") AS "period_start"
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
  ) AS "t7"
), "t11" AS (
  SELECT
    MIN("t9"."__x") AS "__lo",
    MAKE_DATE(
      CAST(EXTRACT(year FROM MAX("t9"."__x")) AS INT),
      CAST(EXTRACT(month FROM MAX("t9"."__x")) AS INT),
      CAST(1 AS INT)
    ) + INTERVAL '1 MONTH' + INTERVAL '-1 DAY' AS "__hi"
  FROM "t8" AS "t9"
), "t14" AS (
  SELECT
    MIN("t12"."__lo") AS "__lo",
    MAX("t12"."__hi") AS "__hi"
  FROM "t11" AS "t12"
)
SELECT
  "t25"."period_start",
  "t25"."__val" AS "value"
FROM (
  SELECT
    "t24"."__d",
    "t24"."__val",
    "t24"."__cnt",
    "t24"."period_start",
    MIN("t24"."__d") OVER (
      PARTITION BY "t24"."period_start"
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "__pick"
  FROM (
    SELECT
      "t23"."__d",
      "t23"."__c" AS "__val",
      "t23"."__cn" AS "__cnt",
      MAKE_DATE(
        CAST(EXTRACT(year FROM "t23"."__d") AS INT),
        CAST(EXTRACT(month FROM "t23"."__d") AS INT),
        CAST(1 AS INT)
      ) AS "period_start"
    FROM (
      SELECT
        "t22"."__d",
        "t22"."__v",
        "t22"."__n",
        SUM("t22"."__v") OVER (ORDER BY "t22"."__d" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "__c",
        SUM("t22"."__n") OVER (ORDER BY "t22"."__d" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "__cn"
      FROM (
        SELECT
          "t21"."__d",
          COALESCE("t10"."__v", 0.0) AS "__v",
          CASE WHEN "t10"."__x" IS NOT NULL THEN 1 ELSE 0 END AS "__n"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t16"."__lo" + MAKE_INTERVAL(days => CAST("t18"."__i" AS INT)) AS "__d",
              "t13"."__lo",
              "t13"."__hi"
            FROM (
              SELECT
                UNNEST(
                  CASE
                    WHEN NULLIF(1, 0) IS NOT NULL
                    AND SIGN(1) = SIGN(
                      (
                        CAST(EXTRACT(epoch FROM CAST("t15"."__hi" AS TIMESTAMP) - CAST("t15"."__lo" AS TIMESTAMP)) / 86400 AS BIGINT) + 1
                      ) - 0
                    )
                    THEN ARRAY_REMOVE(
                      ARRAY(SELECT
                        *
                      FROM GENERATE_SERIES(
                        0,
                        CAST(EXTRACT(epoch FROM CAST("t15"."__hi" AS TIMESTAMP) - CAST("t15"."__lo" AS TIMESTAMP)) / 86400 AS BIGINT) + 1,
                        1
                      )),
                      CAST(EXTRACT(epoch FROM CAST("t15"."__hi" AS TIMESTAMP) - CAST("t15"."__lo" AS TIMESTAMP)) / 86400 AS BIGINT) + 1
                    )
                    ELSE CAST(ARRAY[] AS BIGINT[])
                  END
                ) AS "__i"
              FROM "t14" AS "t15"
            ) AS "t18"
            CROSS JOIN "t14" AS "t16"
            CROSS JOIN "t11" AS "t13"
          ) AS "t19"
          WHERE
            "t19"."__d" >= "t19"."__lo" AND "t19"."__d" <= "t19"."__hi"
        ) AS "t21"
        LEFT OUTER JOIN "t8" AS "t10"
          ON "t21"."__d" = "t10"."__x"
      ) AS "t22"
    ) AS "t23"
    WHERE
      "t23"."__cn" > 0
  ) AS "t24"
) AS "t25"
WHERE
  "t25"."__d" = "t25"."__pick" AND "t25"."__val" IS NOT NULL
