-- mql_to_sql_rate (month)
SELECT
  *
FROM (
  SELECT
    "t8"."period_start",
    CAST("t8"."__c" AS DOUBLE PRECISION) / CAST("t8"."__n" AS DOUBLE PRECISION) AS "value"
  FROM (
    SELECT
      "t7"."period_start",
      COUNT(*) AS "__n",
      SUM("t7"."__converted") AS "__c"
    FROM (
      SELECT
        "t6"."__e",
        "t6"."__t",
        "t6"."__converted",
        MAKE_DATE(
          CAST(EXTRACT(year FROM "t6"."__t") AS INT),
          CAST(EXTRACT(month FROM "t6"."__t") AS INT),
          CAST(1 AS INT)
        ) AS "period_start"
      FROM (
        SELECT
          "t5"."__e",
          "t5"."__t",
          MAX(CASE WHEN "t5"."__ct" IS NOT NULL THEN 1 ELSE 0 END) AS "__converted"
        FROM (
          SELECT
            "t3"."__e",
            "t3"."__t",
            "t4"."__ce",
            "t4"."__ct"
          FROM (
            SELECT DISTINCT
              CAST("t0"."entity_id" AS VARCHAR) AS "__e",
              CAST("t0"."occurred_at" AS TIMESTAMP) AS "__t"
            FROM "ledger" AS "t0"
            WHERE
              "t0"."entity_type" = 'lead'
              AND "t0"."kind" = 'lifecycle'
              AND "t0"."name" = 'mql'
              AND "t0"."occurred_at" IS NOT NULL
          ) AS "t3"
          LEFT OUTER JOIN (
            SELECT DISTINCT
              CAST("t0"."entity_id" AS VARCHAR) AS "__ce",
              CAST("t0"."occurred_at" AS TIMESTAMP) AS "__ct"
            FROM "ledger" AS "t0"
            WHERE
              "t0"."entity_type" = 'lead'
              AND "t0"."kind" = 'lifecycle'
              AND "t0"."name" = 'sql'
              AND "t0"."occurred_at" IS NOT NULL
          ) AS "t4"
            ON "t3"."__e" = "t4"."__ce"
            AND "t4"."__ct" >= "t3"."__t"
            AND "t4"."__ct" <= (
              "t3"."__t" + INTERVAL '90 DAY'
            )
        ) AS "t5"
        GROUP BY
          1,
          2
      ) AS "t6"
    ) AS "t7"
    GROUP BY
      1
  ) AS "t8"
) AS "t9"
WHERE
  "t9"."value" IS NOT NULL
