-- sales_headcount (quarter, by team)
WITH "t1" AS (
  SELECT
    "t0"."user_id",
    "t0"."name",
    "t0"."email",
    "t0"."role",
    "t0"."department",
    "t0"."team_id",
    "t0"."manager_id",
    "t0"."hired_at",
    "t0"."hired_at" AS "__c_hired_at",
    "t0"."team_id" AS "__c_team",
    "t0"."department" AS "__c_user_department",
    "t0"."hired_at" AS "__from",
    CAST(NULL AS DATE) AS "__to"
  FROM "users" AS "t0"
  WHERE
    "t0"."department" = 'sales' AND "t0"."hired_at" IS NOT NULL
)
SELECT
  *
FROM (
  SELECT
    "t11"."period_start",
    "t11"."team",
    CAST(COUNT(*) AS DOUBLE PRECISION) AS "value"
  FROM (
    SELECT
      "t10"."user_id",
      "t10"."name",
      "t10"."email",
      "t10"."role",
      "t10"."department",
      "t10"."team_id",
      "t10"."manager_id",
      "t10"."hired_at",
      "t10"."__c_hired_at",
      "t10"."__c_team",
      "t10"."__c_user_department",
      "t10"."__from",
      "t10"."__to",
      "t10"."period_start",
      "t10"."__next",
      COALESCE("t10"."__c_team", '(none)') AS "team"
    FROM (
      SELECT
        "t3"."user_id",
        "t3"."name",
        "t3"."email",
        "t3"."role",
        "t3"."department",
        "t3"."team_id",
        "t3"."manager_id",
        "t3"."hired_at",
        "t3"."__c_hired_at",
        "t3"."__c_team",
        "t3"."__c_user_department",
        "t3"."__from",
        "t3"."__to",
        "t9"."period_start",
        "t9"."__next"
      FROM "t1" AS "t3"
      CROSS JOIN (
        SELECT
          "t7"."period_start",
          "t7"."period_start" + INTERVAL '3 MONTH' AS "__next"
        FROM (
          SELECT DISTINCT
            MAKE_DATE(
              CAST(CAST(CAST(FLOOR(
                CAST((
                  (
                    (
                      (
                        EXTRACT(year FROM MAKE_DATE(
                          CAST(CAST(CAST(FLOOR(CAST((
                            "t6"."__i"
                          ) AS DOUBLE PRECISION) / (
                            12
                          )) AS BIGINT) AS INT) AS INT),
                          CAST(CAST((
                            "t6"."__i" % 12
                          ) + 1 AS INT) AS INT),
                          CAST(1 AS INT)
                        )) * 12
                      ) + EXTRACT(month FROM MAKE_DATE(
                        CAST(CAST(CAST(FLOOR(CAST((
                          "t6"."__i"
                        ) AS DOUBLE PRECISION) / (
                          12
                        )) AS BIGINT) AS INT) AS INT),
                        CAST(CAST((
                          "t6"."__i" % 12
                        ) + 1 AS INT) AS INT),
                        CAST(1 AS INT)
                      ))
                    ) - 1
                  ) - (
                    (
                      (
                        (
                          (
                            EXTRACT(year FROM MAKE_DATE(
                              CAST(CAST(CAST(FLOOR(CAST((
                                "t6"."__i"
                              ) AS DOUBLE PRECISION) / (
                                12
                              )) AS BIGINT) AS INT) AS INT),
                              CAST(CAST((
                                "t6"."__i" % 12
                              ) + 1 AS INT) AS INT),
                              CAST(1 AS INT)
                            )) * 12
                          ) + EXTRACT(month FROM MAKE_DATE(
                            CAST(CAST(CAST(FLOOR(CAST((
                              "t6"."__i"
                            ) AS DOUBLE PRECISION) / (
                              12
                            )) AS BIGINT) AS INT) AS INT),
                            CAST(CAST((
                              "t6"."__i" % 12
                            ) + 1 AS INT) AS INT),
                            CAST(1 AS INT)
                          ))
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
                        EXTRACT(year FROM MAKE_DATE(
                          CAST(CAST(CAST(FLOOR(CAST((
                            "t6"."__i"
                          ) AS DOUBLE PRECISION) / (
                            12
                          )) AS BIGINT) AS INT) AS INT),
                          CAST(CAST((
                            "t6"."__i" % 12
                          ) + 1 AS INT) AS INT),
                          CAST(1 AS INT)
                        )) * 12
                      ) + EXTRACT(month FROM MAKE_DATE(
                        CAST(CAST(CAST(FLOOR(CAST((
                          "t6"."__i"
                        ) AS DOUBLE PRECISION) / (
                          12
                        )) AS BIGINT) AS INT) AS INT),
                        CAST(CAST((
                          "t6"."__i" % 12
                        ) + 1 AS INT) AS INT),
                        CAST(1 AS INT)
                      ))
                    ) - 1
                  ) - (
                    (
                      (
                        (
                          (
                            EXTRACT(year FROM MAKE_DATE(
                              CAST(CAST(CAST(FLOOR(CAST((
                                "t6"."__i"
                              ) AS DOUBLE PRECISION) / (
                                12
                              )) AS BIGINT) AS INT) AS INT),
                              CAST(CAST((
                                "t6"."__i" % 12
                              ) + 1 AS INT) AS INT),
                              CAST(1 AS INT)
                            )) * 12
                          ) + EXTRACT(month FROM MAKE_DATE(
                            CAST(CAST(CAST(FLOOR(CAST((
                              "t6"."__i"
                            ) AS DOUBLE PRECISION) / (
                              12
                            )) AS BIGINT) AS INT) AS INT),
                            CAST(CAST((
                              "t6"."__i" % 12
                            ) + 1 AS INT) AS INT),
                            CAST(1 AS INT)
                          ))
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
              UNNEST(
                CASE
                  WHEN NULLIF(1, 0) IS NOT NULL
                  AND SIGN(1) = SIGN((
                    "t5"."__hi_i" + 1
                  ) - "t5"."__lo_i")
                  THEN ARRAY_REMOVE(
                    ARRAY(SELECT
                      *
                    FROM GENERATE_SERIES("t5"."__lo_i", "t5"."__hi_i" + 1, 1)),
                    "t5"."__hi_i" + 1
                  )
                  ELSE CAST(ARRAY[] AS BIGINT[])
                END
              ) AS "__i"
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
                  MAKE_DATE(
                    CAST(CAST(CAST(FLOOR(
                      CAST((
                        (
                          (
                            (
                              EXTRACT(year FROM MIN("t2"."__from")) * 12
                            ) + EXTRACT(month FROM MIN("t2"."__from"))
                          ) - 1
                        ) - (
                          (
                            (
                              (
                                (
                                  EXTRACT(year FROM MIN("t2"."__from")) * 12
                                ) + EXTRACT(month FROM MIN("t2"."__from"))
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
                              EXTRACT(year FROM MIN("t2"."__from")) * 12
                            ) + EXTRACT(month FROM MIN("t2"."__from"))
                          ) - 1
                        ) - (
                          (
                            (
                              (
                                (
                                  EXTRACT(year FROM MIN("t2"."__from")) * 12
                                ) + EXTRACT(month FROM MIN("t2"."__from"))
                              ) - 1
                            ) - 0
                          ) % 3
                        )
                      ) % 12
                    ) + 1 AS INT) AS INT),
                    CAST(1 AS INT)
                  ) AS "__lo",
                  CASE
                    WHEN BOOL_OR("t2"."__to" IS NULL)
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
    1,
    2
) AS "t12"
WHERE
  "t12"."value" IS NOT NULL
