-- pipeline_velocity (month)
SELECT
  *
FROM (
  SELECT
    `t23`.`period_start`,
    (
      COALESCE(`t23`.`__in_opportunities_created`, 0) * `t23`.`__in_average_deal_size` * `t23`.`__in_win_rate`
    ) / NULLIF(`t23`.`__in_sales_cycle_days_mean`, 0) AS `value`
  FROM (
    SELECT
      `t22`.`period_start`,
      MAX(IF(`t22`.`__alias` = 'opportunities_created', `t22`.`__value`, NULL)) AS `__in_opportunities_created`,
      MAX(IF(`t22`.`__alias` = 'average_deal_size', `t22`.`__value`, NULL)) AS `__in_average_deal_size`,
      MAX(IF(`t22`.`__alias` = 'win_rate', `t22`.`__value`, NULL)) AS `__in_win_rate`,
      MAX(IF(`t22`.`__alias` = 'sales_cycle_days_mean', `t22`.`__value`, NULL)) AS `__in_sales_cycle_days_mean`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            `t5`.`period_start`,
            'opportunities_created' AS `__alias`,
            `t5`.`value` AS `__value`
          FROM (
            SELECT
              `t1`.`period_start`,
              CAST(COUNT(*) AS DOUBLE) AS `value`
            FROM (
              SELECT
                `t0`.`opportunity_id`,
                `t0`.`account_id`,
                `t0`.`lead_id`,
                `t0`.`owner_id`,
                `t0`.`created_at`,
                `t0`.`close_date`,
                `t0`.`closed_at`,
                `t0`.`stage`,
                `t0`.`is_closed`,
                `t0`.`is_won`,
                `t0`.`amount`,
                `t0`.`deal_type`,
                `t0`.`lead_source`,
                `t0`.`segment`,
                `t0`.`region`,
                `t0`.`lost_reason`,
                `t0`.`created_at` AS `__c_created_at`,
                `t0`.`deal_type` AS `__c_deal_type`,
                MAKE_DATE(EXTRACT(year FROM `t0`.`created_at`), EXTRACT(month FROM `t0`.`created_at`), 1) AS `period_start`
              FROM `opportunities` AS `t0`
              WHERE
                `t0`.`deal_type` = 'new_business' AND `t0`.`created_at` IS NOT NULL
            ) AS `t1`
            GROUP BY
              1
          ) AS `t5`
          WHERE
            `t5`.`value` IS NOT NULL AND NOT ISNAN(`t5`.`value`)
        ) AS `t10`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            `t6`.`period_start`,
            'average_deal_size' AS `__alias`,
            `t6`.`value` AS `__value`
          FROM (
            SELECT
              `t2`.`period_start`,
              AVG(`t2`.`__v`) AS `value`
            FROM (
              SELECT
                `t0`.`opportunity_id`,
                `t0`.`account_id`,
                `t0`.`lead_id`,
                `t0`.`owner_id`,
                `t0`.`created_at`,
                `t0`.`close_date`,
                `t0`.`closed_at`,
                `t0`.`stage`,
                `t0`.`is_closed`,
                `t0`.`is_won`,
                `t0`.`amount`,
                `t0`.`deal_type`,
                `t0`.`lead_source`,
                `t0`.`segment`,
                `t0`.`region`,
                `t0`.`lost_reason`,
                `t0`.`closed_at` AS `__c_closed_at`,
                `t0`.`amount` AS `__c_amount`,
                `t0`.`is_won` AS `__c_is_won`,
                `t0`.`deal_type` AS `__c_deal_type`,
                `t0`.`amount` AS `__v`,
                MAKE_DATE(EXTRACT(year FROM `t0`.`closed_at`), EXTRACT(month FROM `t0`.`closed_at`), 1) AS `period_start`
              FROM `opportunities` AS `t0`
              WHERE
                `t0`.`is_won`
                AND `t0`.`deal_type` = 'new_business'
                AND `t0`.`closed_at` IS NOT NULL
            ) AS `t2`
            GROUP BY
              1
          ) AS `t6`
          WHERE
            `t6`.`value` IS NOT NULL AND NOT ISNAN(`t6`.`value`)
        ) AS `t11`
      ) AS `t14`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            `t19`.`period_start`,
            'win_rate' AS `__alias`,
            `t19`.`value` AS `__value`
          FROM (
            SELECT
              `t18`.`period_start`,
              COALESCE(`t18`.`__in_num`, 0) / NULLIF(COALESCE(`t18`.`__in_den`, 0), 0) AS `value`
            FROM (
              SELECT
                `t15`.`period_start`,
                MAX(IF(`t15`.`__alias` = 'num', `t15`.`__value`, NULL)) AS `__in_num`,
                MAX(IF(`t15`.`__alias` = 'den', `t15`.`__value`, NULL)) AS `__in_den`
              FROM (
                SELECT
                  *
                FROM (
                  SELECT
                    `t7`.`period_start`,
                    'num' AS `__alias`,
                    `t7`.`value` AS `__value`
                  FROM (
                    SELECT
                      `t3`.`period_start`,
                      CAST(COUNT(*) AS DOUBLE) AS `value`
                    FROM (
                      SELECT
                        `t0`.`opportunity_id`,
                        `t0`.`account_id`,
                        `t0`.`lead_id`,
                        `t0`.`owner_id`,
                        `t0`.`created_at`,
                        `t0`.`close_date`,
                        `t0`.`closed_at`,
                        `t0`.`stage`,
                        `t0`.`is_closed`,
                        `t0`.`is_won`,
                        `t0`.`amount`,
                        `t0`.`deal_type`,
                        `t0`.`lead_source`,
                        `t0`.`segment`,
                        `t0`.`region`,
                        `t0`.`lost_reason`,
                        `t0`.`closed_at` AS `__c_closed_at`,
                        `t0`.`is_won` AS `__c_is_won`,
                        `t0`.`deal_type` AS `__c_deal_type`,
                        MAKE_DATE(EXTRACT(year FROM `t0`.`closed_at`), EXTRACT(month FROM `t0`.`closed_at`), 1) AS `period_start`
                      FROM `opportunities` AS `t0`
                      WHERE
                        `t0`.`is_won`
                        AND `t0`.`deal_type` = 'new_business'
                        AND `t0`.`closed_at` IS NOT NULL
                    ) AS `t3`
                    GROUP BY
                      1
                  ) AS `t7`
                  WHERE
                    `t7`.`value` IS NOT NULL AND NOT ISNAN(`t7`.`value`)
                ) AS `t12`
                UNION ALL
                SELECT
                  *
                FROM (
                  SELECT
                    `t8`.`period_start`,
                    'den' AS `__alias`,
                    `t8`.`value` AS `__value`
                  FROM (
                    SELECT
                      `t4`.`period_start`,
                      CAST(COUNT(*) AS DOUBLE) AS `value`
                    FROM (
                      SELECT
                        `t0`.`opportunity_id`,
                        `t0`.`account_id`,
                        `t0`.`lead_id`,
                        `t0`.`owner_id`,
                        `t0`.`created_at`,
                        `t0`.`close_date`,
                        `t0`.`closed_at`,
                        `t0`.`stage`,
                        `t0`.`is_closed`,
                        `t0`.`is_won`,
                        `t0`.`amount`,
                        `t0`.`deal_type`,
                        `t0`.`lead_source`,
                        `t0`.`segment`,
                        `t0`.`region`,
                        `t0`.`lost_reason`,
                        `t0`.`closed_at` AS `__c_closed_at`,
                        `t0`.`is_closed` AS `__c_is_closed`,
                        `t0`.`deal_type` AS `__c_deal_type`,
                        MAKE_DATE(EXTRACT(year FROM `t0`.`closed_at`), EXTRACT(month FROM `t0`.`closed_at`), 1) AS `period_start`
                      FROM `opportunities` AS `t0`
                      WHERE
                        `t0`.`is_closed`
                        AND `t0`.`deal_type` = 'new_business'
                        AND `t0`.`closed_at` IS NOT NULL
                    ) AS `t4`
                    GROUP BY
                      1
                  ) AS `t8`
                  WHERE
                    `t8`.`value` IS NOT NULL AND NOT ISNAN(`t8`.`value`)
                ) AS `t13`
              ) AS `t15`
              GROUP BY
                1
            ) AS `t18`
          ) AS `t19`
          WHERE
            `t19`.`value` IS NOT NULL AND NOT ISNAN(`t19`.`value`)
        ) AS `t20`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            `t16`.`period_start`,
            'sales_cycle_days_mean' AS `__alias`,
            `t16`.`value` AS `__value`
          FROM (
            SELECT
              `t9`.`period_start`,
              AVG(`t9`.`__v`) AS `value`
            FROM (
              SELECT
                `t0`.`opportunity_id`,
                `t0`.`account_id`,
                `t0`.`lead_id`,
                `t0`.`owner_id`,
                `t0`.`created_at`,
                `t0`.`close_date`,
                `t0`.`closed_at`,
                `t0`.`stage`,
                `t0`.`is_closed`,
                `t0`.`is_won`,
                `t0`.`amount`,
                `t0`.`deal_type`,
                `t0`.`lead_source`,
                `t0`.`segment`,
                `t0`.`region`,
                `t0`.`lost_reason`,
                `t0`.`closed_at` AS `__c_closed_at`,
                `t0`.`created_at` AS `__c_created_at`,
                `t0`.`is_won` AS `__c_is_won`,
                `t0`.`deal_type` AS `__c_deal_type`,
                (
                  CAST(UNIX_TIMESTAMP(CAST(CAST(CAST(`t0`.`closed_at` AS DATE) AS TIMESTAMP) AS TIMESTAMP)) AS DOUBLE) - CAST(UNIX_TIMESTAMP(CAST(CAST(CAST(`t0`.`created_at` AS DATE) AS TIMESTAMP) AS TIMESTAMP)) AS DOUBLE)
                ) / 86400 AS `__v`,
                MAKE_DATE(EXTRACT(year FROM `t0`.`closed_at`), EXTRACT(month FROM `t0`.`closed_at`), 1) AS `period_start`
              FROM `opportunities` AS `t0`
              WHERE
                `t0`.`is_won`
                AND `t0`.`deal_type` = 'new_business'
                AND `t0`.`closed_at` IS NOT NULL
            ) AS `t9`
            GROUP BY
              1
          ) AS `t16`
          WHERE
            `t16`.`value` IS NOT NULL AND NOT ISNAN(`t16`.`value`)
        ) AS `t17`
      ) AS `t21`
    ) AS `t22`
    GROUP BY
      1
  ) AS `t23`
) AS `t24`
WHERE
  `t24`.`value` IS NOT NULL AND NOT ISNAN(`t24`.`value`)
