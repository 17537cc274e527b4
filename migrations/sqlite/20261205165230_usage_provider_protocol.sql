-- Add column "provider_protocol" to table: "usage_records"
ALTER TABLE `usage_records` ADD COLUMN `provider_protocol` text NULL;
