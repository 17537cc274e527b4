-- Add column "cache_write_tokens" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `cache_write_tokens` integer NULL;
-- Add column "cache_write_1h_tokens" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `cache_write_1h_tokens` integer NULL;
-- Add column "latency_b00" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b00` integer NULL;
-- Add column "latency_b01" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b01` integer NULL;
-- Add column "latency_b02" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b02` integer NULL;
-- Add column "latency_b03" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b03` integer NULL;
-- Add column "latency_b04" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b04` integer NULL;
-- Add column "latency_b05" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b05` integer NULL;
-- Add column "latency_b06" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b06` integer NULL;
-- Add column "latency_b07" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b07` integer NULL;
-- Add column "latency_b08" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b08` integer NULL;
-- Add column "latency_b09" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b09` integer NULL;
-- Add column "latency_b10" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b10` integer NULL;
-- Add column "latency_b11" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b11` integer NULL;
-- Add column "latency_b12" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b12` integer NULL;
-- Add column "latency_b13" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b13` integer NULL;
-- Add column "latency_b14" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b14` integer NULL;
-- Add column "latency_b15" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b15` integer NULL;
-- Add column "latency_b16" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b16` integer NULL;
-- Add column "latency_b17" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b17` integer NULL;
-- Add column "latency_b18" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b18` integer NULL;
-- Add column "latency_b19" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b19` integer NULL;
-- Add column "latency_b20" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b20` integer NULL;
-- Add column "latency_b21" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b21` integer NULL;
-- Add column "latency_b22" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b22` integer NULL;
-- Add column "latency_b23" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b23` integer NULL;
-- Add column "latency_b24" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b24` integer NULL;
-- Add column "latency_b25" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b25` integer NULL;
-- Add column "latency_b26" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b26` integer NULL;
-- Add column "latency_b27" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b27` integer NULL;
-- Add column "latency_b28" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b28` integer NULL;
-- Add column "latency_b29" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b29` integer NULL;
-- Add column "latency_b30" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b30` integer NULL;
-- Add column "latency_b31" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b31` integer NULL;
-- Add column "latency_b32" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b32` integer NULL;
-- Add column "latency_b33" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b33` integer NULL;
-- Add column "latency_b34" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b34` integer NULL;
-- Add column "latency_b35" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b35` integer NULL;
-- Add column "latency_b36" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b36` integer NULL;
-- Add column "latency_b37" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b37` integer NULL;
-- Add column "latency_b38" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b38` integer NULL;
-- Add column "latency_b39" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b39` integer NULL;
-- Add column "latency_b40" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b40` integer NULL;
-- Add column "latency_b41" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b41` integer NULL;
-- Add column "latency_b42" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b42` integer NULL;
-- Add column "latency_b43" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b43` integer NULL;
-- Add column "latency_b44" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b44` integer NULL;
-- Add column "latency_b45" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b45` integer NULL;
-- Add column "latency_b46" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b46` integer NULL;
-- Add column "latency_b47" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b47` integer NULL;
-- Add column "latency_b48" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b48` integer NULL;
-- Add column "latency_b49" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b49` integer NULL;
-- Add column "latency_b50" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b50` integer NULL;
-- Add column "latency_b51" to table: "usage_rollups"
ALTER TABLE `usage_rollups` ADD COLUMN `latency_b51` integer NULL;
