-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_spend_windows" table
CREATE TABLE `new_spend_windows` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `scope` text NOT NULL, `scope_id` integer NOT NULL, `window` text NOT NULL, `window_start` datetime NOT NULL, `spent` integer NOT NULL DEFAULT (0), `reserved` integer NOT NULL DEFAULT (0), `warned` bool NOT NULL DEFAULT (false), `updated_at` datetime NOT NULL);
-- Set sequence for "new_spend_windows" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_spend_windows", 42949672960);
-- Copy rows from old table "spend_windows" to new temporary table "new_spend_windows"
INSERT INTO `new_spend_windows` (`id`, `scope`, `scope_id`, `window`, `window_start`, `spent`, `reserved`, `updated_at`) SELECT `id`, `scope`, `scope_id`, `window`, `window_start`, `spent`, `reserved`, `updated_at` FROM `spend_windows`;
-- Drop "spend_windows" table after copying rows
DROP TABLE `spend_windows`;
-- Rename temporary table "new_spend_windows" to "spend_windows"
ALTER TABLE `new_spend_windows` RENAME TO `spend_windows`;
-- Create index "spendwindow_scope_scope_id_window_window_start" to table: "spend_windows"
CREATE UNIQUE INDEX `spendwindow_scope_scope_id_window_window_start` ON `spend_windows` (`scope`, `scope_id`, `window`, `window_start`);
-- Create "budget_reservations" table
CREATE TABLE `budget_reservations` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `amount` integer NOT NULL, `window_ids` json NOT NULL);
-- Set sequence for "budget_reservations" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("budget_reservations", 55834574848);
-- Create index "budgetreservation_expires_at" to table: "budget_reservations"
CREATE INDEX `budgetreservation_expires_at` ON `budget_reservations` (`expires_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
