-- win_rate (month)
SELECT
  *
FROM (
  SELECT
    `t8`.`period_start`,
    COALESCE(`t8`.`__in_num`, 0) / NULLIF(COALESCE(`t8`.`__in_den`, 0), 0) AS `value`
  FROM (
    SELECT
      `t7`.`period_start`,
      MAX(IF(`t7`.`__alias` = 'num', `t7`.`__value`, NULL)) AS `__in_num`,
      MAX(IF(`t7`.`__alias` = 'den', `t7`.`__value`, NULL)) AS `__in_den`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t3`.`period_start`,
          'num' AS `__alias`,
          `t3`.`value` AS `__value`
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
              `t0`.`closed_at` AS `__c_closed_at`,
              `t0`.`is_won` AS `__c_is_won`,
              `t0`.`deal_type` AS `__c_deal_type`,
              MAKE_DATE(EXTRACT(year FROM `t0`.`closed_at`), EXTRACT(month FROM `t0`.`closed_at`), 1) AS `period_start`
            FROM `opportunities` AS `t0`
            WHERE
              `t0`.`is_won`
              AND `t0`.`deal_type` = 'new_business'
              AND `t0`.`closed_at` IS NOT NULL
          ) AS `t1`
          GROUP BY
            1
        ) AS `t3`
        WHERE
          `t3`.`value` IS NOT NULL AND NOT ISNAN(`t3`.`value`)
      ) AS `t5`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          `t4`.`period_start`,
          'den' AS `__alias`,
          `t4`.`value` AS `__value`
        FROM (
          SELECT
            `t2`.`period_start`,
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
          ) AS `t2`
          GROUP BY
            1
        ) AS `t4`
        WHERE
          `t4`.`value` IS NOT NULL AND NOT ISNAN(`t4`.`value`)
      ) AS `t6`
    ) AS `t7`
    GROUP BY
      1
  ) AS `t8`
) AS `t9`
WHERE
  `t9`.`value` IS NOT NULL AND NOT ISNAN(`t9`.`value`)
