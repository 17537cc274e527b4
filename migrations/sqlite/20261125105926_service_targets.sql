-- Add column "attempts" to table: "usage_records"
ALTER TABLE `usage_records` ADD COLUMN `attempts` json NULL;
-- Create "service_targets" table
CREATE TABLE `service_targets` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `organization_id` integer NOT NULL, `position` integer NOT NULL DEFAULT (0), `weight` integer NOT NULL DEFAULT (1), `model_map` json NULL, `enabled` bool NOT NULL DEFAULT (true), `credential_id` integer NOT NULL, `service_id` integer NOT NULL, CONSTRAINT `service_targets_provider_credentials_service_targets` FOREIGN KEY (`credential_id`) REFERENCES `provider_credentials` (`id`) ON DELETE NO ACTION, CONSTRAINT `service_targets_services_targets` FOREIGN KEY (`service_id`) REFERENCES `services` (`id`) ON DELETE CASCADE);
-- Set sequence for "service_targets" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("service_targets", 64424509440);
-- Create index "servicetarget_service_id_credential_id" to table: "service_targets"
CREATE UNIQUE INDEX `servicetarget_service_id_credential_id` ON `service_targets` (`service_id`, `credential_id`);
