-- Add column "cache_write_tokens" to table: "usage_records"
ALTER TABLE `usage_records` ADD COLUMN `cache_write_tokens` integer NULL;
-- Add column "cache_write_1h_tokens" to table: "usage_records"
ALTER TABLE `usage_records` ADD COLUMN `cache_write_1h_tokens` integer NULL;
