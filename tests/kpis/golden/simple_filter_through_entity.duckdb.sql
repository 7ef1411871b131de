-- marketing_influenced_pipeline (month)
SELECT
  *
FROM (
  SELECT
    "t19"."period_start",
    SUM("t19"."__v") AS "value"
  FROM (
    SELECT
      "t18"."opportunity_id",
      "t18"."account_id",
      "t18"."lead_id",
      "t18"."owner_id",
      "t18"."created_at",
      "t18"."close_date",
      "t18"."closed_at",
      "t18"."stage",
      "t18"."is_closed",
      "t18"."is_won",
      "t18"."amount",
      "t18"."deal_type",
      "t18"."lead_source",
      "t18"."segment",
      "t18"."region",
      "t18"."lost_reason",
      "t18"."__c_created_at",
      "t18"."__c_amount",
      "t18"."__c_deal_type",
      "t18"."__j_lead_lead__first_marketing_touch_at",
      "t18"."__c_amount" AS "__v",
      MAKE_DATE(
        EXTRACT(year FROM "t18"."__c_created_at"),
        EXTRACT(month FROM "t18"."__c_created_at"),
        1
      ) AS "period_start"
    FROM (
      SELECT
        "t17".*
        EXCLUDE ("__k")
      FROM (
        SELECT
          "t6"."opportunity_id",
          "t6"."account_id",
          "t6"."lead_id",
          "t6"."owner_id",
          "t6"."created_at",
          "t6"."close_date",
          "t6"."closed_at",
          "t6"."stage",
          "t6"."is_closed",
          "t6"."is_won",
          "t6"."amount",
          "t6"."deal_type",
          "t6"."lead_source",
          "t6"."segment",
          "t6"."region",
          "t6"."lost_reason",
          "t6"."__c_created_at",
          "t6"."__c_amount",
          "t6"."__c_deal_type",
          "t16"."__k",
          "t16"."__j_lead_lead__first_marketing_touch_at"
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
            "t0"."created_at" AS "__c_created_at",
            "t0"."amount" AS "__c_amount",
            "t0"."deal_type" AS "__c_deal_type"
          FROM "opportunities" AS "t0"
        ) AS "t6"
        LEFT OUTER JOIN (
          SELECT
            "t14"."lead_id" AS "__k",
            "t14"."__j_lead_lead__first_marketing_touch_at"
          FROM (
            SELECT
              "t13".*
              EXCLUDE ("__k")
            FROM (
              SELECT
                "t3"."lead_id",
                "t3"."account_id",
                "t3"."email",
                "t3"."created_at",
                "t3"."lead_source",
                "t3"."lead_source_detail",
                "t3"."campaign_id",
                "t3"."owner_id",
                "t3"."segment",
                "t3"."region",
                "t3"."industry",
                "t3"."lifecycle_stage",
                "t3"."score",
                "t3"."is_converted",
                "t3"."job_level",
                "t3"."job_function",
                "t12"."__k",
                "t12"."__j_lead_lead__first_marketing_touch_at"
              FROM "leads" AS "t3"
              LEFT OUTER JOIN (
                SELECT
                  "t10"."lead_id" AS "__k",
                  "t10"."first_marketing_touch_at" AS "__j_lead_lead__first_marketing_touch_at"
                FROM (
                  SELECT
                    "t7"."lead_id",
                    "t7"."created_at",
                    "t9"."first_touch_at",
                    "t9"."first_marketing_touch_at",
                    "t9"."first_sales_touch_at",
                    COALESCE("t9"."touches", 0) AS "touches"
                  FROM (
                    SELECT
                      "t1"."lead_id",
                      "t1"."created_at"
                    FROM "leads" AS "t1"
                  ) AS "t7"
                  LEFT OUTER JOIN (
                    SELECT
                      "t2"."lead_id",
                      MIN("t2"."occurred_at") AS "first_touch_at",
                      MIN("t2"."occurred_at") FILTER(WHERE
                        "t2"."touch_type" = 'marketing') AS "first_marketing_touch_at",
                      MIN("t2"."occurred_at") FILTER(WHERE
                        "t2"."touch_type" = 'sales') AS "first_sales_touch_at",
                      COUNT(*) AS "touches"
                    FROM "touchpoints" AS "t2"
                    GROUP BY
                      1
                  ) AS "t9"
                    ON "t7"."lead_id" = "t9"."lead_id"
                ) AS "t10"
              ) AS "t12"
                ON CAST("t3"."lead_id" AS TEXT) = "t12"."__k"
            ) AS "t13"
          ) AS "t14"
        ) AS "t16"
          ON "t6"."lead_id" = "t16"."__k"
      ) AS "t17"
    ) AS "t18"
    WHERE
      "t18"."__c_deal_type" = 'new_business'
      AND "t18"."__j_lead_lead__first_marketing_touch_at" IS NOT NULL
      AND "t18"."__j_lead_lead__first_marketing_touch_at" <= "t18"."__c_created_at"
      AND "t18"."__c_created_at" IS NOT NULL
  ) AS "t19"
  GROUP BY
    1
) AS "t20"
WHERE
  "t20"."value" IS NOT NULL
