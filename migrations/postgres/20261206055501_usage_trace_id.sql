-- Modify "usage_records" table
ALTER TABLE "usage_records" ADD COLUMN "trace_id" bytea NULL;
