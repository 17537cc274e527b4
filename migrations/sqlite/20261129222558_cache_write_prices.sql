-- Add column "cache_write_per_mtok" to table: "model_prices"
ALTER TABLE `model_prices` ADD COLUMN `cache_write_per_mtok` integer NULL;
-- Add column "cache_write_1h_per_mtok" to table: "model_prices"
ALTER TABLE `model_prices` ADD COLUMN `cache_write_1h_per_mtok` integer NULL;
