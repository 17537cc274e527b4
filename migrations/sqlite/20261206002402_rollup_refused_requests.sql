-- Add column "refused_requests" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `refused_requests` integer NULL;
