-- Create "throttle_marks" table
CREATE TABLE `throttle_marks` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `expires_at` datetime NOT NULL);
-- Set sequence for "throttle_marks" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("throttle_marks", 81604378624);
-- Create index "throttlemark_key_expires_at" to table: "throttle_marks"
CREATE INDEX `throttlemark_key_expires_at` ON `throttle_marks` (`key`, `expires_at`);
-- Create index "throttlemark_expires_at" to table: "throttle_marks"
CREATE INDEX `throttlemark_expires_at` ON `throttle_marks` (`expires_at`);
