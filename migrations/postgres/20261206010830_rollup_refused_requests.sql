-- Modify "usage_rollup_days" table
ALTER TABLE "usage_rollup_days" ADD COLUMN "refused_requests" bigint NULL;
-- Modify "usage_rollups" table
ALTER TABLE "usage_rollups" ADD COLUMN "refused_requests" bigint NULL;
