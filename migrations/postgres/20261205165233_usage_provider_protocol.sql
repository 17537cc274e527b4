-- Modify "usage_records" table
ALTER TABLE "usage_records" ADD COLUMN "provider_protocol" character varying NULL;
