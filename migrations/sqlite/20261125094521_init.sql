-- Create "api_keys" table
CREATE TABLE `api_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `limit_cost_hour_warn` integer NULL, `limit_cost_hour_block` integer NULL, `limit_cost_day_warn` integer NULL, `limit_cost_day_block` integer NULL, `limit_cost_month_warn` integer NULL, `limit_cost_month_block` integer NULL, `limit_cost_total_block` integer NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `key_hash` text NOT NULL, `key_prefix` text NOT NULL, `key_last_four` text NOT NULL, `expires_at` datetime NULL, `is_active` bool NOT NULL DEFAULT (true), `is_management_key` bool NOT NULL DEFAULT (false), `last_used_at` datetime NULL, `organization_id` integer NOT NULL, `service_id` integer NULL, CONSTRAINT `api_keys_organizations_api_keys` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `api_keys_services_api_keys` FOREIGN KEY (`service_id`) REFERENCES `services` (`id`) ON DELETE SET NULL);
-- Create index "api_keys_key_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_key_hash_key` ON `api_keys` (`key_hash`);
-- Create index "apikey_organization_id_name" to table: "api_keys"
CREATE UNIQUE INDEX `apikey_organization_id_name` ON `api_keys` (`organization_id`, `name`);
-- Create "api_standards" table
CREATE TABLE `api_standards` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `api_standard_handle` text NOT NULL, `description` text NOT NULL, `key_method` text NOT NULL, `key_field` text NOT NULL DEFAULT (''));
-- Set sequence for "api_standards" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("api_standards", 4294967296);
-- Create index "api_standards_api_standard_handle_key" to table: "api_standards"
CREATE UNIQUE INDEX `api_standards_api_standard_handle_key` ON `api_standards` (`api_standard_handle`);
-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `organization_id` integer NULL, `actor_type` text NOT NULL, `actor_id` integer NULL, `actor_name` text NOT NULL DEFAULT (''), `action` text NOT NULL, `target_type` text NOT NULL DEFAULT (''), `target_id` text NOT NULL DEFAULT (''), `target_name` text NOT NULL DEFAULT (''), `changes` json NULL, `outcome` text NOT NULL, `error` text NOT NULL DEFAULT (''), `client_ip` text NOT NULL DEFAULT (''));
-- Set sequence for "audit_events" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("audit_events", 8589934592);
-- Create index "auditevent_organization_id_created_at" to table: "audit_events"
CREATE INDEX `auditevent_organization_id_created_at` ON `audit_events` (`organization_id`, `created_at`);
-- Create index "auditevent_actor_type_actor_id" to table: "audit_events"
CREATE INDEX `auditevent_actor_type_actor_id` ON `audit_events` (`actor_type`, `actor_id`);
-- Create index "auditevent_target_type_target_id" to table: "audit_events"
CREATE INDEX `auditevent_target_type_target_id` ON `audit_events` (`target_type`, `target_id`);
-- Create "balances" table
CREATE TABLE `balances` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `current_balance` integer NOT NULL DEFAULT (0), `currency` text NOT NULL DEFAULT ('USD'), `enforced` bool NOT NULL DEFAULT (false), `organization_id` integer NOT NULL, CONSTRAINT `balances_organizations_balance` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Set sequence for "balances" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("balances", 12884901888);
-- Create index "balances_organization_id_key" to table: "balances"
CREATE UNIQUE INDEX `balances_organization_id_key` ON `balances` (`organization_id`);
-- Create "memberships" table
CREATE TABLE `memberships` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `role` text NOT NULL DEFAULT ('member'), `organization_id` integer NOT NULL, `user_id` integer NOT NULL, CONSTRAINT `memberships_organizations_memberships` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `memberships_users_memberships` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Set sequence for "memberships" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("memberships", 17179869184);
-- Create index "membership_user_id_organization_id" to table: "memberships"
CREATE UNIQUE INDEX `membership_user_id_organization_id` ON `memberships` (`user_id`, `organization_id`);
-- Create "model_prices" table
CREATE TABLE `model_prices` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `provider` text NOT NULL, `model` text NOT NULL, `input_per_mtok` integer NOT NULL DEFAULT (0), `output_per_mtok` integer NOT NULL DEFAULT (0), `cached_input_per_mtok` integer NULL, `kind` text NOT NULL DEFAULT ('text'), `max_output_tokens` integer NOT NULL DEFAULT (0), `description` text NOT NULL DEFAULT (''), `customized` bool NOT NULL DEFAULT (false));
-- Set sequence for "model_prices" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("model_prices", 21474836480);
-- Create index "modelprice_provider_model" to table: "model_prices"
CREATE UNIQUE INDEX `modelprice_provider_model` ON `model_prices` (`provider`, `model`);
-- Create "organizations" table
CREATE TABLE `organizations` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `is_default` bool NOT NULL DEFAULT (false));
-- Set sequence for "organizations" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("organizations", 25769803776);
-- Create "project_settings" table
CREATE TABLE `project_settings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `allow_overwrite` bool NOT NULL DEFAULT (true), `alert_webhook_url` text NULL, `organization_id` integer NOT NULL, CONSTRAINT `project_settings_organizations_settings` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Set sequence for "project_settings" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("project_settings", 30064771072);
-- Create index "project_settings_organization_id_key" to table: "project_settings"
CREATE UNIQUE INDEX `project_settings_organization_id_key` ON `project_settings` (`organization_id`);
-- Create "provider_credentials" table
CREATE TABLE `provider_credentials` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `provider` text NOT NULL, `account_key` text NOT NULL, `display_name` text NOT NULL, `api_key_ciphertext` blob NULL, `api_key_key_id` text NULL, `api_key_last_four` text NULL, `base_url` text NULL, `active` bool NOT NULL DEFAULT (true), `api_standard_id` integer NULL, `organization_id` integer NOT NULL, CONSTRAINT `provider_credentials_api_standards_provider_credentials` FOREIGN KEY (`api_standard_id`) REFERENCES `api_standards` (`id`) ON DELETE SET NULL, CONSTRAINT `provider_credentials_organizations_provider_credentials` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Set sequence for "provider_credentials" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("provider_credentials", 34359738368);
-- Create index "providercredential_organization_id_provider_account_key" to table: "provider_credentials"
CREATE UNIQUE INDEX `providercredential_organization_id_provider_account_key` ON `provider_credentials` (`organization_id`, `provider`, `account_key`);
-- Create "services" table
CREATE TABLE `services` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `limit_cost_hour_warn` integer NULL, `limit_cost_hour_block` integer NULL, `limit_cost_day_warn` integer NULL, `limit_cost_day_block` integer NULL, `limit_cost_month_warn` integer NULL, `limit_cost_month_block` integer NULL, `limit_cost_total_block` integer NULL, `service_name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `provider` text NOT NULL, `models_enabled` json NOT NULL, `allow_unpriced_models` bool NOT NULL DEFAULT (false), `request_defaults` json NULL, `active` bool NOT NULL DEFAULT (true), `organization_id` integer NOT NULL, `credential_id` integer NULL, CONSTRAINT `services_organizations_services` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `services_provider_credentials_services` FOREIGN KEY (`credential_id`) REFERENCES `provider_credentials` (`id`) ON DELETE SET NULL);
-- Set sequence for "services" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("services", 38654705664);
-- Create index "service_organization_id_service_name" to table: "services"
CREATE UNIQUE INDEX `service_organization_id_service_name` ON `services` (`organization_id`, `service_name`);
-- Create "spend_windows" table
CREATE TABLE `spend_windows` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `scope` text NOT NULL, `scope_id` integer NOT NULL, `window` text NOT NULL, `window_start` datetime NOT NULL, `spent` integer NOT NULL DEFAULT (0), `reserved` integer NOT NULL DEFAULT (0), `updated_at` datetime NOT NULL);
-- Set sequence for "spend_windows" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("spend_windows", 42949672960);
-- Create index "spendwindow_scope_scope_id_window_window_start" to table: "spend_windows"
CREATE UNIQUE INDEX `spendwindow_scope_scope_id_window_window_start` ON `spend_windows` (`scope`, `scope_id`, `window`, `window_start`);
-- Create "usage_records" table
CREATE TABLE `usage_records` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `request_id` text NOT NULL, `organization_id` integer NOT NULL, `service_id` integer NOT NULL, `api_key_id` integer NOT NULL, `credential_id` integer NULL, `protocol` text NOT NULL, `endpoint` text NOT NULL, `model` text NOT NULL, `input_tokens` integer NOT NULL DEFAULT (0), `output_tokens` integer NOT NULL DEFAULT (0), `cached_input_tokens` integer NOT NULL DEFAULT (0), `cost` integer NOT NULL DEFAULT (0), `priced` bool NOT NULL DEFAULT (true), `status` integer NOT NULL, `error` text NULL, `latency_us` integer NOT NULL DEFAULT (0), `ttfb_us` integer NULL, `streamed` bool NOT NULL DEFAULT (false), `partial` bool NOT NULL DEFAULT (false));
-- Set sequence for "usage_records" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("usage_records", 47244640256);
-- Create index "usagerecord_organization_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_organization_id_created_at` ON `usage_records` (`organization_id`, `created_at`);
-- Create index "usagerecord_service_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_service_id_created_at` ON `usage_records` (`service_id`, `created_at`);
-- Create index "usagerecord_api_key_id_created_at" to table: "usage_records"
CREATE INDEX `usagerecord_api_key_id_created_at` ON `usage_records` (`api_key_id`, `created_at`);
-- Create "users" table
CREATE TABLE `users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `username` text NOT NULL, `password_hash` text NOT NULL, `last_login_at` datetime NULL);
-- Set sequence for "users" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("users", 51539607552);
-- Create index "users_username_key" to table: "users"
CREATE UNIQUE INDEX `users_username_key` ON `users` (`username`);
