-- golden_revenue_qtd (month, by region)
WITH `t7` AS (
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t1`.`period_start`,
        `t1`.`region`,
        SUM(`t1`.`__v`) AS `value`
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
          COALESCE(`t0`.`region`, '(none)') AS `region`,
          `t0`.`lost_reason`,
          `t0`.`closed_at` AS `__c_closed_at`,
          `t0`.`region` AS `__c_region`,
          `t0`.`amount` AS `__c_amount`,
          `t0`.`is_won` AS `__c_opportunity__is_won`,
          `t0`.`deal_type` AS `__c_opportunity__deal_type`,
          `t0`.`amount` AS `__v`,
          CAST(`t0`.`closed_at` AS DATE) AS `period_start`
        FROM `opportunities` AS `t0`
        WHERE
          `t0`.`is_won`
          AND `t0`.`deal_type` IN ('new_business', 'renewal')
          AND `t0`.`closed_at` IS NOT NULL
      ) AS `t1`
      GROUP BY
        1,
        2
    ) AS `t3`
    WHERE
      (
        `t3`.`value` IS NOT NULL AND NOT ISNAN(`t3`.`value`)
      )
      AND `t3`.`period_start` < MAKE_DATE(2024, 7, 1)
  ) AS `t5`
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t2`.`period_start`,
        `t2`.`region`,
        SUM(`t2`.`__v`) AS `value`
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
          COALESCE(`t0`.`region`, '(none)') AS `region`,
          `t0`.`lost_reason`,
          `t0`.`closed_at` AS `__c_closed_at`,
          `t0`.`region` AS `__c_region`,
          `t0`.`amount` AS `__c_amount`,
          `t0`.`is_won` AS `__c_opportunity__is_won`,
          `t0`.`deal_type` AS `__c_opportunity__deal_type`,
          `t0`.`amount` AS `__v`,
          CAST(`t0`.`closed_at` AS DATE) AS `period_start`
        FROM `opportunities` AS `t0`
        WHERE
          `t0`.`is_won`
          AND `t0`.`deal_type` = 'new_business'
          AND `t0`.`closed_at` IS NOT NULL
      ) AS `t2`
      GROUP BY
        1,
        2
    ) AS `t4`
    WHERE
      (
        `t4`.`value` IS NOT NULL AND NOT ISNAN(`t4`.`value`)
      )
      AND `t4`.`period_start` >= MAKE_DATE(2024, 7, 1)
  ) AS `t6`
), `t12` AS (
  SELECT
    `t10`.`__k0`,
    MIN(`t10`.`__x`) AS `__lo`,
    MAKE_DATE(EXTRACT(year FROM MAX(`t10`.`__x`)), EXTRACT(month FROM MAX(`t10`.`__x`)), 1) + INTERVAL '1' MONTH + INTERVAL '-1' DAY AS `__hi`
  FROM (
    SELECT
      `t8`.`period_start` AS `__x`,
      `t8`.`value` AS `__v`,
      `t8`.`region` AS `__k0`
    FROM `t7` AS `t8`
  ) AS `t10`
  GROUP BY
    1
), `t15` AS (
  SELECT
    MIN(`t13`.`__lo`) AS `__lo`,
    MAX(`t13`.`__hi`) AS `__hi`
  FROM `t12` AS `t13`
)
SELECT
  `t27`.`period_start`,
  `t27`.`region`,
  `t27`.`__val` AS `value`
FROM (
  SELECT
    `t26`.`__d`,
    `t26`.`__k0`,
    `t26`.`__val`,
    `t26`.`__cnt`,
    `t26`.`period_start`,
    `t26`.`region`,
    MIN(`t26`.`__d`) OVER (
      PARTITION BY `t26`.`period_start`, `t26`.`region`
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS `__pick`
  FROM (
    SELECT
      `t25`.`__d`,
      `t25`.`__k0`,
      `t25`.`__c` AS `__val`,
      `t25`.`__cn` AS `__cnt`,
      MAKE_DATE(EXTRACT(year FROM `t25`.`__d`), EXTRACT(month FROM `t25`.`__d`), 1) AS `period_start`,
      `t25`.`__k0` AS `region`
    FROM (
      SELECT
        `t24`.`__d`,
        `t24`.`__k0`,
        `t24`.`__v`,
        `t24`.`__n`,
        `t24`.`__b`,
        SUM(`t24`.`__v`) OVER (
          PARTITION BY `t24`.`__k0`, `t24`.`__b`
          ORDER BY `t24`.`__d` ASC NULLS LAST
          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS `__c`,
        SUM(`t24`.`__n`) OVER (
          PARTITION BY `t24`.`__k0`, `t24`.`__b`
          ORDER BY `t24`.`__d` ASC NULLS LAST
          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS `__cn`
      FROM (
        SELECT
          `t23`.`__d`,
          `t23`.`__k0`,
          `t23`.`__v`,
          `t23`.`__n`,
          MAKE_DATE(
            CAST(CAST(FLOOR(
              (
                (
                  (
                    (
                      EXTRACT(year FROM `t23`.`__d`) * 12
                    ) + EXTRACT(month FROM `t23`.`__d`)
                  ) - 1
                ) - (
                  (
                    (
                      (
                        (
                          EXTRACT(year FROM `t23`.`__d`) * 12
                        ) + EXTRACT(month FROM `t23`.`__d`)
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
                      EXTRACT(year FROM `t23`.`__d`) * 12
                    ) + EXTRACT(month FROM `t23`.`__d`)
                  ) - 1
                ) - (
                  (
                    (
                      (
                        (
                          EXTRACT(year FROM `t23`.`__d`) * 12
                        ) + EXTRACT(month FROM `t23`.`__d`)
                      ) - 1
                    ) - 0
                  ) % 3
                )
              ) % 12
            ) + 1 AS INT),
            1
          ) AS `__b`
        FROM (
          SELECT
            `t22`.`__d`,
            `t22`.`__k0`,
            COALESCE(`t11`.`__v`, 0.0) AS `__v`,
            IF(`t11`.`__x` IS NOT NULL, 1, 0) AS `__n`
          FROM (
            SELECT
              *
            FROM (
              SELECT
                `t17`.`__lo` + CAST(CONCAT(`t19`.`__i`, ' days') AS INTERVAL) AS `__d`,
                `t14`.`__k0`,
                `t14`.`__lo`,
                `t14`.`__hi`
              FROM (
                SELECT
                  EXPLODE(
                    IF(
                      (
                        1 <> 0
                      )
                      AND (
                        SIGN(1) = SIGN((
                          DATEDIFF(DAY, `t16`.`__lo`, `t16`.`__hi`) + 1
                        ) - 0)
                      ),
                      IF(
                        ELEMENT_AT(
                          SEQUENCE(0, DATEDIFF(DAY, `t16`.`__lo`, `t16`.`__hi`) + 1, 1),
                          SIZE(SEQUENCE(0, DATEDIFF(DAY, `t16`.`__lo`, `t16`.`__hi`) + 1, 1))
                        ) = (
                          DATEDIFF(DAY, `t16`.`__lo`, `t16`.`__hi`) + 1
                        ),
                        SLICE(
                          SEQUENCE(0, DATEDIFF(DAY, `t16`.`__lo`, `t16`.`__hi`) + 1, 1),
                          1,
                          SIZE(SEQUENCE(0, DATEDIFF(DAY, `t16`.`__lo`, `t16`.`__hi`) + 1, 1)) - 1
                        ),
                        SEQUENCE(0, DATEDIFF(DAY, `t16`.`__lo`, `t16`.`__hi`) + 1, 1)
                      ),
                      ARRAY()
                    )
                  ) AS `__i`
                FROM `t15` AS `t16`
              ) AS `t19`
              CROSS JOIN `t15` AS `t17`
              CROSS JOIN `t12` AS `t14`
            ) AS `t20`
            WHERE
              `t20`.`__d` >= `t20`.`__lo` AND `t20`.`__d` <= `t20`.`__hi`
          ) AS `t22`
          LEFT OUTER JOIN (
            SELECT
              `t8`.`period_start` AS `__x`,
              `t8`.`value` AS `__v`,
              `t8`.`region` AS `__x__k0`
            FROM `t7` AS `t8`
          ) AS `t11`
            ON `t22`.`__d` = `t11`.`__x` AND `t22`.`__k0` = `t11`.`__x__k0`
        ) AS `t23`
      ) AS `t24`
    ) AS `t25`
    WHERE
      `t25`.`__cn` > 0
  ) AS `t26`
) AS `t27`
WHERE
  `t27`.`__d` = `t27`.`__pick`
  AND (
    `t27`.`__val` IS NOT NULL AND NOT ISNAN(`t27`.`__val`)
  )
