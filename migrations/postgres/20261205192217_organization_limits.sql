-- Modify "organizations" table
ALTER TABLE "organizations" ADD COLUMN "limit_cost_hour_warn" bigint NULL, ADD COLUMN "limit_cost_hour_block" bigint NULL, ADD COLUMN "limit_cost_day_warn" bigint NULL, ADD COLUMN "limit_cost_day_block" bigint NULL, ADD COLUMN "limit_cost_month_warn" bigint NULL, ADD COLUMN "limit_cost_month_block" bigint NULL, ADD COLUMN "limit_cost_total_block" bigint NULL;
