-- Modify "model_prices" table
ALTER TABLE "model_prices" ADD COLUMN "cache_write_per_mtok" bigint NULL, ADD COLUMN "cache_write_1h_per_mtok" bigint NULL;
