-- Add column "limit_cost_hour_warn" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_cost_hour_warn` integer NULL;
-- Add column "limit_cost_hour_block" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_cost_hour_block` integer NULL;
-- Add column "limit_cost_day_warn" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_cost_day_warn` integer NULL;
-- Add column "limit_cost_day_block" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_cost_day_block` integer NULL;
-- Add column "limit_cost_month_warn" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_cost_month_warn` integer NULL;
-- Add column "limit_cost_month_block" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_cost_month_block` integer NULL;
-- Add column "limit_cost_total_block" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_cost_total_block` integer NULL;
