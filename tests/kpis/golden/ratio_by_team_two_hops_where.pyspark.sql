-- win_rate (quarter, by team)
SELECT
  *
FROM (
  SELECT
    `t19`.`period_start`,
    `t19`.`team`,
    COALESCE(`t19`.`__in_num`, 0) / NULLIF(COALESCE(`t19`.`__in_den`, 0), 0) AS `value`
  FROM (
    SELECT
      `t18`.`period_start`,
      `t18`.`team`,
      MAX(IF(`t18`.`__alias` = 'num', `t18`.`__value`, NULL)) AS `__in_num`,
      MAX(IF(`t18`.`__alias` = 'den', `t18`.`__value`, NULL)) AS `__in_den`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t14`.`period_start`,
          `t14`.`team`,
          'num' AS `__alias`,
          `t14`.`value` AS `__value`
        FROM (
          SELECT
            `t12`.`period_start`,
            `t12`.`team`,
            CAST(COUNT(*) AS DOUBLE) AS `value`
          FROM (
            SELECT
              `t10`.`opportunity_id`,
              `t10`.`account_id`,
              `t10`.`lead_id`,
              `t10`.`owner_id`,
              `t10`.`created_at`,
              `t10`.`close_date`,
              `t10`.`closed_at`,
              `t10`.`stage`,
              `t10`.`is_closed`,
              `t10`.`is_won`,
              `t10`.`amount`,
              `t10`.`deal_type`,
              `t10`.`lead_source`,
              `t10`.`segment`,
              `t10`.`region`,
              `t10`.`lost_reason`,
              `t10`.`__c_closed_at`,
              `t10`.`__c_is_won`,
              `t10`.`__c_deal_type`,
              `t10`.`__c_segment`,
              `t10`.`__j_owner_team`,
              MAKE_DATE(
                CAST(CAST(FLOOR(
                  (
                    (
                      (
                        (
                          EXTRACT(year FROM `t10`.`__c_closed_at`) * 12
                        ) + EXTRACT(month FROM `t10`.`__c_closed_at`)
                      ) - 1
                    ) - (
                      (
                        (
                          (
                            (
                              EXTRACT(year FROM `t10`.`__c_closed_at`) * 12
                            ) + EXTRACT(month FROM `t10`.`__c_closed_at`)
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
                          EXTRACT(year FROM `t10`.`__c_closed_at`) * 12
                        ) + EXTRACT(month FROM `t10`.`__c_closed_at`)
                      ) - 1
                    ) - (
                      (
                        (
                          (
                            (
                              EXTRACT(year FROM `t10`.`__c_closed_at`) * 12
                            ) + EXTRACT(month FROM `t10`.`__c_closed_at`)
                          ) - 1
                        ) - 0
                      ) % 3
                    )
                  ) % 12
                ) + 1 AS INT),
                1
              ) AS `period_start`,
              COALESCE(`t10`.`__j_owner_team`, '(none)') AS `team`
            FROM (
              SELECT
                `t8`.`opportunity_id`,
                `t8`.`account_id`,
                `t8`.`lead_id`,
                `t8`.`owner_id`,
                `t8`.`created_at`,
                `t8`.`close_date`,
                `t8`.`closed_at`,
                `t8`.`stage`,
                `t8`.`is_closed`,
                `t8`.`is_won`,
                `t8`.`amount`,
                `t8`.`deal_type`,
                `t8`.`lead_source`,
                `t8`.`segment`,
                `t8`.`region`,
                `t8`.`lost_reason`,
                `t8`.`__c_closed_at`,
                `t8`.`__c_is_won`,
                `t8`.`__c_deal_type`,
                `t8`.`__c_segment`,
                `t8`.`__j_owner_team`
              FROM (
                SELECT
                  `t4`.`opportunity_id`,
                  `t4`.`account_id`,
                  `t4`.`lead_id`,
                  `t4`.`owner_id`,
                  `t4`.`created_at`,
                  `t4`.`close_date`,
                  `t4`.`closed_at`,
                  `t4`.`stage`,
                  `t4`.`is_closed`,
                  `t4`.`is_won`,
                  `t4`.`amount`,
                  `t4`.`deal_type`,
                  `t4`.`lead_source`,
                  `t4`.`segment`,
                  `t4`.`region`,
                  `t4`.`lost_reason`,
                  `t4`.`__c_closed_at`,
                  `t4`.`__c_is_won`,
                  `t4`.`__c_deal_type`,
                  `t4`.`__c_segment`,
                  `t7`.`__k`,
                  `t7`.`__j_owner_team`
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
                    `t0`.`segment` AS `__c_segment`
                  FROM `opportunities` AS `t0`
                ) AS `t4`
                LEFT OUTER JOIN (
                  SELECT
                    CAST(`t1`.`user_id` AS STRING) AS `__k`,
                    `t1`.`team_id` AS `__j_owner_team`
                  FROM `users` AS `t1`
                ) AS `t7`
                  ON `t4`.`owner_id` = `t7`.`__k`
              ) AS `t8`
            ) AS `t10`
            WHERE
              `t10`.`__c_is_won`
              AND `t10`.`__c_deal_type` = 'new_business'
              AND `t10`.`__c_segment` = 'smb'
              AND `t10`.`__c_closed_at` IS NOT NULL
          ) AS `t12`
          GROUP BY
            1,
            2
        ) AS `t14`
        WHERE
          `t14`.`value` IS NOT NULL AND NOT ISNAN(`t14`.`value`)
      ) AS `t16`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          `t15`.`period_start`,
          `t15`.`team`,
          'den' AS `__alias`,
          `t15`.`value` AS `__value`
        FROM (
          SELECT
            `t13`.`period_start`,
            `t13`.`team`,
            CAST(COUNT(*) AS DOUBLE) AS `value`
          FROM (
            SELECT
              `t11`.`opportunity_id`,
              `t11`.`account_id`,
              `t11`.`lead_id`,
              `t11`.`owner_id`,
              `t11`.`created_at`,
              `t11`.`close_date`,
              `t11`.`closed_at`,
              `t11`.`stage`,
              `t11`.`is_closed`,
              `t11`.`is_won`,
              `t11`.`amount`,
              `t11`.`deal_type`,
              `t11`.`lead_source`,
              `t11`.`segment`,
              `t11`.`region`,
              `t11`.`lost_reason`,
              `t11`.`__c_closed_at`,
              `t11`.`__c_is_closed`,
              `t11`.`__c_deal_type`,
              `t11`.`__c_segment`,
              `t11`.`__j_owner_team`,
              MAKE_DATE(
                CAST(CAST(FLOOR(
                  (
                    (
                      (
                        (
                          EXTRACT(year FROM `t11`.`__c_closed_at`) * 12
                        ) + EXTRACT(month FROM `t11`.`__c_closed_at`)
                      ) - 1
                    ) - (
                      (
                        (
                          (
                            (
                              EXTRACT(year FROM `t11`.`__c_closed_at`) * 12
                            ) + EXTRACT(month FROM `t11`.`__c_closed_at`)
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
                          EXTRACT(year FROM `t11`.`__c_closed_at`) * 12
                        ) + EXTRACT(month FROM `t11`.`__c_closed_at`)
                      ) - 1
                    ) - (
                      (
                        (
                          (
                            (
                              EXTRACT(year FROM `t11`.`__c_closed_at`) * 12
                            ) + EXTRACT(month FROM `t11`.`__c_closed_at`)
                          ) - 1
                        ) - 0
                      ) % 3
                    )
                  ) % 12
                ) + 1 AS INT),
                1
              ) AS `period_start`,
              COALESCE(`t11`.`__j_owner_team`, '(none)') AS `team`
            FROM (
              SELECT
                `t9`.`opportunity_id`,
                `t9`.`account_id`,
                `t9`.`lead_id`,
                `t9`.`owner_id`,
                `t9`.`created_at`,
                `t9`.`close_date`,
                `t9`.`closed_at`,
                `t9`.`stage`,
                `t9`.`is_closed`,
                `t9`.`is_won`,
                `t9`.`amount`,
                `t9`.`deal_type`,
                `t9`.`lead_source`,
                `t9`.`segment`,
                `t9`.`region`,
                `t9`.`lost_reason`,
                `t9`.`__c_closed_at`,
                `t9`.`__c_is_closed`,
                `t9`.`__c_deal_type`,
                `t9`.`__c_segment`,
                `t9`.`__j_owner_team`
              FROM (
                SELECT
                  `t5`.`opportunity_id`,
                  `t5`.`account_id`,
                  `t5`.`lead_id`,
                  `t5`.`owner_id`,
                  `t5`.`created_at`,
                  `t5`.`close_date`,
                  `t5`.`closed_at`,
                  `t5`.`stage`,
                  `t5`.`is_closed`,
                  `t5`.`is_won`,
                  `t5`.`amount`,
                  `t5`.`deal_type`,
                  `t5`.`lead_source`,
                  `t5`.`segment`,
                  `t5`.`region`,
                  `t5`.`lost_reason`,
                  `t5`.`__c_closed_at`,
                  `t5`.`__c_is_closed`,
                  `t5`.`__c_deal_type`,
                  `t5`.`__c_segment`,
                  `t7`.`__k`,
                  `t7`.`__j_owner_team`
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
                    `t0`.`segment` AS `__c_segment`
                  FROM `opportunities` AS `t0`
                ) AS `t5`
                LEFT OUTER JOIN (
                  SELECT
                    CAST(`t1`.`user_id` AS STRING) AS `__k`,
                    `t1`.`team_id` AS `__j_owner_team`
                  FROM `users` AS `t1`
                ) AS `t7`
                  ON `t5`.`owner_id` = `t7`.`__k`
              ) AS `t9`
            ) AS `t11`
            WHERE
              `t11`.`__c_is_closed`
              AND `t11`.`__c_deal_type` = 'new_business'
              AND `t11`.`__c_segment` = 'smb'
              AND `t11`.`__c_closed_at` IS NOT NULL
          ) AS `t13`
          GROUP BY
            1,
            2
        ) AS `t15`
        WHERE
          `t15`.`value` IS NOT NULL AND NOT ISNAN(`t15`.`value`)
      ) AS `t17`
    ) AS `t18`
    GROUP BY
      1,
      2
  ) AS `t19`
) AS `t20`
WHERE
  `t20`.`value` IS NOT NULL AND NOT ISNAN(`t20`.`value`)
