-- golden_revenue_trailing_90d (quarter, by segment)
WITH "t7" AS (
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t1"."period_start",
        "t1"."segment",
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
          COALESCE("t0"."segment", '(none)') AS "segment",
          "t0"."region",
          "t0"."lost_reason",
          "t0"."closed_at" AS "__c_closed_at",
          "t0"."segment" AS "__c_segment",
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
        1,
        2
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
        "t2"."segment",
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
          COALESCE("t0"."segment", '(none)') AS "segment",
          "t0"."region",
          "t0"."lost_reason",
          "t0"."closed_at" AS "__c_closed_at",
          "t0"."segment" AS "__c_segment",
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
        1,
        2
    ) AS "t4"
    WHERE
      "t4"."value" IS NOT NULL AND "t4"."period_start" >= MAKE_DATE(2024, 7, 1)
  ) AS "t6"
), "t12" AS (
  SELECT
    "t10"."__k0",
    MIN("t10"."__x") AS "__lo",
    MAKE_DATE(
      CAST(CAST(CAST(FLOOR(
        CAST((
          (
            (
              (
                EXTRACT(year FROM MAX("t10"."__x")) * 12
              ) + EXTRACT(month FROM MAX("t10"."__x"))
            ) - 1
          ) - (
            (
              (
                (
                  (
                    EXTRACT(year FROM MAX("t10"."__x")) * 12
                  ) + EXTRACT(month FROM MAX("t10"."__x"))
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
                EXTRACT(year FROM MAX("t10"."__x")) * 12
              ) + EXTRACT(month FROM MAX("t10"."__x"))
            ) - 1
          ) - (
            (
              (
                (
                  (
                    EXTRACT(year FROM MAX("t10"."__x")) * 12
                  ) + EXTRACT(month FROM MAX("t10"."__x"))
                ) - 1
              ) - 0
            ) % 3
          )
        ) % 12
      ) + 1 AS INT) AS INT),
      CAST(1 AS INT)
    ) + INTERVAL '3 MONTH' + INTERVAL '-1 DAY' AS "__hi"
  FROM (
    SELECT
      "t8"."period_start" AS "__x",
      "t8"."value" AS "__v",
      "t8"."segment" AS "__k0"
    FROM "t7" AS "t8"
  ) AS "t10"
  GROUP BY
    1
), "t15" AS (
  SELECT
    MIN("t13"."__lo") AS "__lo",
    MAX("t13"."__hi") AS "__hi"
  FROM "t12" AS "t13"
), "t24" AS (
  SELECT
    "t23"."__d",
    "t23"."__k0",
    "t23"."__v",
    "t23"."__n",
    SUM("t23"."__v") OVER (
      PARTITION BY "t23"."__k0"
      ORDER BY "t23"."__d" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__c",
    SUM("t23"."__n") OVER (
      PARTITION BY "t23"."__k0"
      ORDER BY "t23"."__d" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__cn"
  FROM (
    SELECT
      "t22"."__d",
      "t22"."__k0",
      COALESCE("t11"."__v", 0.0) AS "__v",
      CASE WHEN "t11"."__x" IS NOT NULL THEN 1 ELSE 0 END AS "__n"
    FROM (
      SELECT
        *
      FROM (
        SELECT
          "t17"."__lo" + MAKE_INTERVAL(days => CAST("t19"."__i" AS INT)) AS "__d",
          "t14"."__k0",
          "t14"."__lo",
          "t14"."__hi"
        FROM (
          SELECT
            UNNEST(
              CASE
                WHEN NULLIF(1, 0) IS NOT NULL
                AND SIGN(1) = SIGN(
                  (
                    CAST(EXTRACT(epoch FROM CAST("t16"."__hi" AS TIMESTAMP) - CAST("t16"."__lo" AS TIMESTAMP)) / 86400 AS BIGINT) + 1
                  ) - 0
                )
                THEN ARRAY_REMOVE(
                  ARRAY(SELECT
                    *
                  FROM GENERATE_SERIES(
                    0,
                    CAST(EXTRACT(epoch FROM CAST("t16"."__hi" AS TIMESTAMP) - CAST("t16"."__lo" AS TIMESTAMP)) / 86400 AS BIGINT) + 1,
                    1
                  )),
                  CAST(EXTRACT(epoch FROM CAST("t16"."__hi" AS TIMESTAMP) - CAST("t16"."__lo" AS TIMESTAMP)) / 86400 AS BIGINT) + 1
                )
                ELSE CAST(ARRAY[] AS BIGINT[])
              END
            ) AS "__i"
          FROM "t15" AS "t16"
        ) AS "t19"
        CROSS JOIN "t15" AS "t17"
        CROSS JOIN "t12" AS "t14"
      ) AS "t20"
      WHERE
        "t20"."__d" >= "t20"."__lo" AND "t20"."__d" <= "t20"."__hi"
    ) AS "t22"
    LEFT OUTER JOIN (
      SELECT
        "t8"."period_start" AS "__x",
        "t8"."value" AS "__v",
        "t8"."segment" AS "__x__k0"
      FROM "t7" AS "t8"
    ) AS "t11"
      ON "t22"."__d" = "t11"."__x" AND "t22"."__k0" = "t11"."__x__k0"
  ) AS "t23"
)
SELECT
  "t32"."period_start",
  "t32"."segment",
  "t32"."__val" AS "value"
FROM (
  SELECT
    "t31"."__d",
    "t31"."__k0",
    "t31"."__val",
    "t31"."__cnt",
    "t31"."period_start",
    "t31"."segment",
    MAX("t31"."__d") OVER (
      PARTITION BY "t31"."period_start", "t31"."segment"
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "__pick"
  FROM (
    SELECT
      "t30"."__d",
      "t30"."__k0",
      "t30"."__val",
      "t30"."__cnt",
      MAKE_DATE(
        CAST(CAST(CAST(FLOOR(
          CAST((
            (
              (
                (
                  EXTRACT(year FROM "t30"."__d") * 12
                ) + EXTRACT(month FROM "t30"."__d")
              ) - 1
            ) - (
              (
                (
                  (
                    (
                      EXTRACT(year FROM "t30"."__d") * 12
                    ) + EXTRACT(month FROM "t30"."__d")
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
                  EXTRACT(year FROM "t30"."__d") * 12
                ) + EXTRACT(month FROM "t30"."__d")
              ) - 1
            ) - (
              (
                (
                  (
                    (
                      EXTRACT(year FROM "t30"."__d") * 12
                    ) + EXTRACT(month FROM "t30"."__d")
                  ) - 1
                ) - 0
              ) % 3
            )
          ) % 12
        ) + 1 AS INT) AS INT),
        CAST(1 AS INT)
      ) AS "period_start",
      "t30"."__k0" AS "segment"
    FROM (
      SELECT
        "t29"."__d",
        "t29"."__k0",
        "t29"."__c" - COALESCE("t28"."__pc", 0.0) AS "__val",
        "t29"."__cn" - COALESCE("t28"."__pn", 0) AS "__cnt"
      FROM (
        SELECT
          "t25"."__d",
          "t25"."__k0",
          "t25"."__v",
          "t25"."__n",
          "t25"."__c",
          "t25"."__cn",
          "t25"."__d" + INTERVAL '-90 DAY' AS "__back"
        FROM "t24" AS "t25"
      ) AS "t29"
      LEFT OUTER JOIN (
        SELECT
          "t25"."__d" AS "__pd",
          "t25"."__c" AS "__pc",
          "t25"."__cn" AS "__pn",
          "t25"."__k0" AS "__p__k0"
        FROM "t24" AS "t25"
      ) AS "t28"
        ON "t29"."__back" = "t28"."__pd" AND "t29"."__k0" = "t28"."__p__k0"
    ) AS "t30"
    WHERE
      "t30"."__cnt" > 0
  ) AS "t31"
) AS "t32"
WHERE
  "t32"."__d" = "t32"."__pick" AND "t32"."__val" IS NOT NULL
