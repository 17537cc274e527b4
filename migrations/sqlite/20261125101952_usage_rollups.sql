-- Create "usage_rollups" table
CREATE TABLE `usage_rollups` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `hour` datetime NOT NULL, `organization_id` integer NOT NULL, `service_id` integer NOT NULL, `api_key_id` integer NOT NULL, `model` text NOT NULL, `requests` integer NOT NULL DEFAULT (0), `errors` integer NOT NULL DEFAULT (0), `unpriced_requests` integer NOT NULL DEFAULT (0), `input_tokens` integer NOT NULL DEFAULT (0), `output_tokens` integer NOT NULL DEFAULT (0), `cached_input_tokens` integer NOT NULL DEFAULT (0), `cost` integer NOT NULL DEFAULT (0), `latency_us_sum` integer NOT NULL DEFAULT (0));
-- Set sequence for "usage_rollups" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("usage_rollups", 60129542144);
-- Create index "usagerollup_hour_organization_id_service_id_api_key_id_model" to table: "usage_rollups"
CREATE UNIQUE INDEX `usagerollup_hour_organization_id_service_id_api_key_id_model` ON `usage_rollups` (`hour`, `organization_id`, `service_id`, `api_key_id`, `model`);
-- Create index "usagerollup_organization_id_hour" to table: "usage_rollups"
CREATE INDEX `usagerollup_organization_id_hour` ON `usage_rollups` (`organization_id`, `hour`);
