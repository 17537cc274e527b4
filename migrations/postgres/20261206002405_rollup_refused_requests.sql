-- Modify "usage_rollups" table
ALTER TABLE "usage_rollups" ADD COLUMN "refused_requests" bigint NULL;
