-- Add column "limit_rpm" to table: "api_keys"
ALTER TABLE `api_keys` ADD COLUMN `limit_rpm` integer NULL;
-- Add column "limit_tpm" to table: "api_keys"
ALTER TABLE `api_keys` ADD COLUMN `limit_tpm` integer NULL;
-- Add column "limit_concurrency" to table: "api_keys"
ALTER TABLE `api_keys` ADD COLUMN `limit_concurrency` integer NULL;
-- Add column "limit_rpm" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_rpm` integer NULL;
-- Add column "limit_tpm" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_tpm` integer NULL;
-- Add column "limit_concurrency" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `limit_concurrency` integer NULL;
-- Add column "limit_rpm" to table: "services"
ALTER TABLE `services` ADD COLUMN `limit_rpm` integer NULL;
-- Add column "limit_tpm" to table: "services"
ALTER TABLE `services` ADD COLUMN `limit_tpm` integer NULL;
-- Add column "limit_concurrency" to table: "services"
ALTER TABLE `services` ADD COLUMN `limit_concurrency` integer NULL;
