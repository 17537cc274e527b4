-- Add column "refused_requests" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `refused_requests` integer NULL;
-- Add column "refused_requests" to table: "usage_rollup_days"
ALTER TABLE `usage_rollup_days` ADD COLUMN `refused_requests` integer NULL;
