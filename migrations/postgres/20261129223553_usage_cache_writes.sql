-- Modify "usage_records" table
ALTER TABLE "usage_records" ADD COLUMN "cache_write_tokens" bigint NULL, ADD COLUMN "cache_write_1h_tokens" bigint NULL;
