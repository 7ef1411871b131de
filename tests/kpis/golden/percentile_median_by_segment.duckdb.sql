-- sales_cycle_days_median (quarter, by segment)
SELECT
  *
FROM (
  SELECT
    "t1"."period_start",
    "t1"."segment",
    QUANTILE_CONT("t1"."__v", 0.5) AS "value"
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
      "t0"."created_at" AS "__c_created_at",
      "t0"."is_won" AS "__c_is_won",
      "t0"."deal_type" AS "__c_deal_type",
      (
        CAST(EPOCH(CAST(CAST(CAST("t0"."closed_at" AS DATE) AS TIMESTAMP) AS TIMESTAMP)) AS DOUBLE) - CAST(EPOCH(CAST(CAST(CAST("t0"."created_at" AS DATE) AS TIMESTAMP) AS TIMESTAMP)) AS DOUBLE)
      ) / 86400 AS "__v",
      MAKE_DATE(
        CAST(CAST(FLOOR(
          (
            (
              (
                (
                  EXTRACT(year FROM "t0"."closed_at") * 12
                ) + EXTRACT(month FROM "t0"."closed_at")
              ) - 1
            ) - (
              (
                (
                  (
                    (
                      EXTRACT(year FROM "t0"."closed_at") * 12
                    ) + EXTRACT(month FROM "t0"."closed_at")
                  ) - 1
                ) - 0
              ) % 3
            )
          ) / (
            12
          )
        ) AS BIGINT) AS INT),
        CAST((
          (
            (
              (
                (
                  EXTRACT(year FROM "t0"."closed_at") * 12
                ) + EXTRACT(month FROM "t0"."closed_at")
              ) - 1
            ) - (
              (
                (
                  (
                    (
                      EXTRACT(year FROM "t0"."closed_at") * 12
                    ) + EXTRACT(month FROM "t0"."closed_at")
                  ) - 1
                ) - 0
              ) % 3
            )
          ) % 12
        ) + 1 AS INT),
        1
      ) AS "period_start"
    FROM "opportunities" AS "t0"
    WHERE
      "t0"."is_won"
      AND "t0"."deal_type" = 'new_business'
      AND "t0"."closed_at" IS NOT NULL
  ) AS "t1"
  GROUP BY
    1,
    2
) AS "t2"
WHERE
  "t2"."value" IS NOT NULL
