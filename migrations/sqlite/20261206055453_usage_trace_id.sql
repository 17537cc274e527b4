-- Add column "trace_id" to table: "usage_records"
ALTER TABLE `usage_records` ADD COLUMN `trace_id` blob NULL;
