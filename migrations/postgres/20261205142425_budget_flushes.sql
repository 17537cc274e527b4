-- Create "budget_flushes" table
CREATE TABLE "budget_flushes" ("id" character varying NOT NULL, "seq" bigint NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "budgetflush_updated_at" to table: "budget_flushes"
CREATE INDEX "budgetflush_updated_at" ON "budget_flushes" ("updated_at");
