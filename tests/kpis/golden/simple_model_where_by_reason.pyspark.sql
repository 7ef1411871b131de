-- mqls_rejected (month, by reason)
SELECT
  *
FROM (
  SELECT
    `t1`.`period_start`,
    `t1`.`reason`,
    CAST(COUNT(*) AS DOUBLE) AS `value`
  FROM (
    SELECT
      `t0`.`event_id`,
      `t0`.`entity_type`,
      `t0`.`entity_id`,
      `t0`.`kind`,
      `t0`.`name`,
      `t0`.`old_value`,
      `t0`.`new_value`,
      COALESCE(`t0`.`reason`, '(none)') AS `reason`,
      `t0`.`actor_id`,
      `t0`.`occurred_at`,
      `t0`.`recorded_at`,
      `t0`.`load_id`,
      `t0`.`time_precision`,
      `t0`.`occurred_at` AS `__c_occurred_at`,
      `t0`.`reason` AS `__c_reason`,
      `t0`.`name` AS `__c_stage`,
      MAKE_DATE(EXTRACT(year FROM `t0`.`occurred_at`), EXTRACT(month FROM `t0`.`occurred_at`), 1) AS `period_start`
    FROM `ledger` AS `t0`
    WHERE
      `t0`.`entity_type` = 'lead'
      AND `t0`.`kind` = 'lifecycle'
      AND `t0`.`name` = 'rejected'
      AND `t0`.`occurred_at` IS NOT NULL
  ) AS `t1`
  GROUP BY
    1,
    2
) AS `t2`
WHERE
  `t2`.`value` IS NOT NULL AND NOT ISNAN(`t2`.`value`)
