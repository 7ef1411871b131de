-- lead_to_opportunity_rate (quarter, by channel)
SELECT
  "t9"."period_start",
  "t9"."channel",
  CAST("t9"."__c" AS DOUBLE PRECISION) / CAST("t9"."__n" AS DOUBLE PRECISION) AS "value"
FROM (
  SELECT
    "t8"."period_start",
    "t8"."channel",
    COUNT(*) AS "__n",
    SUM("t8"."__converted") AS "__c"
  FROM (
    SELECT
      "t7"."__e",
      "t7"."__t",
      "t7"."__d_channel",
      "t7"."__converted",
      MAKE_DATE(
        CAST(CAST(CAST(FLOOR(
          CAST((
            (
              (
                (
                  EXTRACT(year FROM "t7"."__t") * 12
                ) + EXTRACT(month FROM "t7"."__t")
              ) - 1
            ) - (
              (
                (
                  (
                    (
                      EXTRACT(year FROM "t7"."__t") * 12
                    ) + EXTRACT(month FROM "t7"."__t")
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
                  EXTRACT(year FROM "t7"."__t") * 12
                ) + EXTRACT(month FROM "t7"."__t")
              ) - 1
            ) - (
              (
                (
                  (
                    (
                      EXTRACT(year FROM "t7"."__t") * 12
                    ) + EXTRACT(month FROM "t7"."__t")
                  ) - 1
                ) - 0
              ) % 3
            )
          ) % 12
        ) + 1 AS INT) AS INT),
        CAST(1 AS INT)
      ) AS "period_start",
      COALESCE("t7"."__d_channel", '(none)') AS "channel"
    FROM (
      SELECT
        "t6"."__e",
        "t6"."__t",
        "t6"."__d_channel",
        MAX(CASE WHEN "t6"."__ct" IS NOT NULL THEN 1 ELSE 0 END) AS "__converted"
      FROM (
        SELECT
          "t4"."__e",
          "t4"."__t",
          "t4"."__d_channel",
          "t5"."__ce",
          "t5"."__ct"
        FROM (
          SELECT DISTINCT
            CAST("t0"."lead_id" AS VARCHAR) AS "__e",
            CAST("t0"."created_at" AS TIMESTAMP) AS "__t",
            "t0"."lead_source" AS "__d_channel"
          FROM "leads" AS "t0"
          WHERE
            "t0"."created_at" IS NOT NULL
        ) AS "t4"
        LEFT OUTER JOIN (
          SELECT DISTINCT
            CAST("t1"."entity_id" AS VARCHAR) AS "__ce",
            CAST("t1"."occurred_at" AS TIMESTAMP) AS "__ct"
          FROM "ledger" AS "t1"
          WHERE
            "t1"."entity_type" = 'lead'
            AND "t1"."kind" = 'lifecycle'
            AND "t1"."name" = 'opportunity'
            AND "t1"."occurred_at" IS NOT NULL
        ) AS "t5"
          ON "t4"."__e" = "t5"."__ce"
          AND "t5"."__ct" >= "t4"."__t"
          AND "t5"."__ct" <= (
            "t4"."__t" + INTERVAL '180 DAY'
          )
      ) AS "t6"
      GROUP BY
        1,
        2,
        3
    ) AS "t7"
  ) AS "t8"
  GROUP BY
    1,
    2
) AS "t9"
WHERE
  (
    CAST("t9"."__c" AS DOUBLE PRECISION) / CAST("t9"."__n" AS DOUBLE PRECISION)
  ) IS NOT NULL
