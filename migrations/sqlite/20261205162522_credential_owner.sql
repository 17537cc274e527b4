-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_provider_credentials" table
CREATE TABLE `new_provider_credentials` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `provider` text NOT NULL, `account_key` text NOT NULL, `display_name` text NOT NULL, `api_key_ciphertext` blob NULL, `api_key_key_id` text NULL, `api_key_last_four` text NULL, `base_url` text NULL, `active` bool NOT NULL DEFAULT (true), `api_standard_id` integer NULL, `organization_id` integer NOT NULL, `owner_service_id` integer NULL, CONSTRAINT `provider_credentials_api_standards_provider_credentials` FOREIGN KEY (`api_standard_id`) REFERENCES `api_standards` (`id`) ON DELETE SET NULL, CONSTRAINT `provider_credentials_organizations_provider_credentials` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `provider_credentials_services_own_credential` FOREIGN KEY (`owner_service_id`) REFERENCES `services` (`id`) ON DELETE CASCADE);
-- Set sequence for "new_provider_credentials" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_provider_credentials", 34359738368);
-- Copy rows from old table "provider_credentials" to new temporary table "new_provider_credentials"
INSERT INTO `new_provider_credentials` (`id`, `created_at`, `updated_at`, `provider`, `account_key`, `display_name`, `api_key_ciphertext`, `api_key_key_id`, `api_key_last_four`, `base_url`, `active`, `api_standard_id`, `organization_id`) SELECT `id`, `created_at`, `updated_at`, `provider`, `account_key`, `display_name`, `api_key_ciphertext`, `api_key_key_id`, `api_key_last_four`, `base_url`, `active`, `api_standard_id`, `organization_id` FROM `provider_credentials`;
-- Drop "provider_credentials" table after copying rows
DROP TABLE `provider_credentials`;
-- Rename temporary table "new_provider_credentials" to "provider_credentials"
ALTER TABLE `new_provider_credentials` RENAME TO `provider_credentials`;
-- Create index "provider_credentials_owner_service_id_key" to table: "provider_credentials"
CREATE UNIQUE INDEX `provider_credentials_owner_service_id_key` ON `provider_credentials` (`owner_service_id`);
-- Create index "providercredential_organization_id_provider_account_key" to table: "provider_credentials"
CREATE UNIQUE INDEX `providercredential_organization_id_provider_account_key` ON `provider_credentials` (`organization_id`, `provider`, `account_key`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- A service's own credential was found by its account key "service:<name>",
-- which a rename broke. Each such credential now belongs to the service of
-- that name, provider and organization by id.
UPDATE provider_credentials
SET owner_service_id = (
  SELECT s.id FROM services s
  WHERE s.organization_id = provider_credentials.organization_id
    AND s.provider = provider_credentials.provider
    AND provider_credentials.account_key = 'service:' || s.service_name)
WHERE substr(account_key, 1, 8) = 'service:';
-- Own credentials whose service was renamed away stayed behind when it was
-- deleted, with their encrypted keys: remove those nothing uses.
DELETE FROM provider_credentials
WHERE substr(account_key, 1, 8) = 'service:' AND owner_service_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM services s WHERE s.credential_id = provider_credentials.id)
  AND NOT EXISTS (SELECT 1 FROM service_targets t WHERE t.credential_id = provider_credentials.id);
