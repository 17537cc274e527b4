-- Create "budget_flushes" table
CREATE TABLE `budget_flushes` (`id` text NOT NULL, `seq` integer NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Set sequence for "budget_flushes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("budget_flushes", 68719476736);
-- Create index "budgetflush_updated_at" to table: "budget_flushes"
CREATE INDEX `budgetflush_updated_at` ON `budget_flushes` (`updated_at`);
