-- Create index "usagerecord_errors_api_key_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_errors_api_key_id_created_at` ON `usage_records` (`api_key_id`, `created_at`) WHERE status >= 400;
-- Create index "usagerecord_errors_service_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_errors_service_id_created_at` ON `usage_records` (`service_id`, `created_at`) WHERE status >= 400;
