-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_usage_records" table
CREATE TABLE `new_usage_records` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `request_id` blob NOT NULL, `organization_id` integer NOT NULL, `service_id` integer NOT NULL, `api_key_id` integer NOT NULL, `credential_id` integer NULL, `protocol` integer NOT NULL, `endpoint` integer NOT NULL, `model` text NOT NULL, `input_tokens` integer NOT NULL DEFAULT (0), `output_tokens` integer NOT NULL DEFAULT (0), `cached_input_tokens` integer NOT NULL DEFAULT (0), `cost` integer NOT NULL DEFAULT (0), `priced` bool NOT NULL DEFAULT (true), `status` integer NOT NULL, `error` text NULL, `latency_us` integer NOT NULL DEFAULT (0), `ttfb_us` integer NULL, `streamed` bool NOT NULL DEFAULT (false), `partial` bool NOT NULL DEFAULT (false), `attempts` json NULL, `cache_write_tokens` integer NULL, `cache_write_1h_tokens` integer NULL, `provider_protocol` integer NULL);
-- Set sequence for "new_usage_records" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_usage_records", 47244640256);
-- Copy rows from old table "usage_records" to new temporary table "new_usage_records",
-- request IDs, protocols and endpoints in their stored forms (packages
-- requestid and wirecode); a rebuild writes every row and index again
INSERT INTO `new_usage_records` (`id`, `created_at`, `request_id`, `organization_id`, `service_id`, `api_key_id`, `credential_id`, `protocol`, `endpoint`, `model`, `input_tokens`, `output_tokens`, `cached_input_tokens`, `cost`, `priced`, `status`, `error`, `latency_us`, `ttfb_us`, `streamed`, `partial`, `attempts`, `cache_write_tokens`, `cache_write_1h_tokens`, `provider_protocol`) SELECT `id`, `created_at`, CASE WHEN length(`request_id`) = 36 AND substr(`request_id`, 1, 4) = 'req_' AND substr(`request_id`, 5) NOT GLOB '*[^0-9a-f]*' THEN unhex('00' || substr(`request_id`, 5)) ELSE CAST(`request_id` AS BLOB) END, `organization_id`, `service_id`, `api_key_id`, `credential_id`, CASE `protocol` WHEN 'openai' THEN 1 WHEN 'anthropic' THEN 2 WHEN 'gemini' THEN 3 WHEN 'cohere' THEN 4 ELSE 0 END, CASE `endpoint` WHEN '/v1/chat/completions' THEN 1 WHEN '/v1/completions' THEN 2 WHEN '/v1/responses' THEN 3 WHEN '/v1/embeddings' THEN 4 WHEN '/v1/messages' THEN 5 WHEN '/v1/messages/count_tokens' THEN 6 WHEN '/v2/chat' THEN 7 WHEN '/v2/embed' THEN 8 WHEN '/v1beta/models/{model}:generateContent' THEN 9 WHEN '/v1beta/models/{model}:streamGenerateContent' THEN 10 WHEN '/v1beta/models/{model}:countTokens' THEN 11 WHEN '/v1beta/models/{model}:embedContent' THEN 12 WHEN '/v1beta/models/{model}:batchEmbedContents' THEN 13 WHEN '/v1/models/{model}:generateContent' THEN 14 WHEN '/v1/models/{model}:streamGenerateContent' THEN 15 WHEN '/v1/models/{model}:countTokens' THEN 16 WHEN '/v1/models/{model}:embedContent' THEN 17 WHEN '/v1/models/{model}:batchEmbedContents' THEN 18 ELSE 0 END, `model`, `input_tokens`, `output_tokens`, `cached_input_tokens`, `cost`, `priced`, `status`, `error`, `latency_us`, `ttfb_us`, `streamed`, `partial`, `attempts`, `cache_write_tokens`, `cache_write_1h_tokens`, CASE WHEN `provider_protocol` IS NULL OR `provider_protocol` = '' THEN NULL ELSE (CASE `provider_protocol` WHEN 'openai' THEN 1 WHEN 'anthropic' THEN 2 WHEN 'gemini' THEN 3 WHEN 'cohere' THEN 4 ELSE 0 END) END FROM `usage_records`;
-- Drop "usage_records" table after copying rows
DROP TABLE `usage_records`;
-- Rename temporary table "new_usage_records" to "usage_records"
ALTER TABLE `new_usage_records` RENAME TO `usage_records`;
-- Create index "usagerecord_organization_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_organization_id_created_at` ON `usage_records` (`organization_id`, `created_at`);
-- Create index "usagerecord_service_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_service_id_created_at` ON `usage_records` (`service_id`, `created_at`);
-- Create index "usagerecord_api_key_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_api_key_id_created_at` ON `usage_records` (`api_key_id`, `created_at`);
-- Create index "usagerecord_organization_id_model_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_organization_id_model_created_at` ON `usage_records` (`organization_id`, `model`, `created_at`);
-- Create index "usagerecord_errors_organization_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_errors_organization_id_created_at` ON `usage_records` (`organization_id`, `created_at`) WHERE status >= 400;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
