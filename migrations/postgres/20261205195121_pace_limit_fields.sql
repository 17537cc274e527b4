-- Modify "api_keys" table
ALTER TABLE "api_keys" ADD COLUMN "limit_rpm" bigint NULL, ADD COLUMN "limit_tpm" bigint NULL, ADD COLUMN "limit_concurrency" bigint NULL;
-- Modify "organizations" table
ALTER TABLE "organizations" ADD COLUMN "limit_rpm" bigint NULL, ADD COLUMN "limit_tpm" bigint NULL, ADD COLUMN "limit_concurrency" bigint NULL;
-- Modify "services" table
ALTER TABLE "services" ADD COLUMN "limit_rpm" bigint NULL, ADD COLUMN "limit_tpm" bigint NULL, ADD COLUMN "limit_concurrency" bigint NULL;
