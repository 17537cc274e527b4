-- Add column "require_two_factor" to table: "organizations"
ALTER TABLE `organizations` ADD COLUMN `require_two_factor` bool NULL;
-- Add column "totp_ciphertext" to table: "users"
ALTER TABLE `users` ADD COLUMN `totp_ciphertext` blob NULL;
-- Add column "totp_key_id" to table: "users"
ALTER TABLE `users` ADD COLUMN `totp_key_id` text NULL;
-- Add column "totp_enabled_at" to table: "users"
ALTER TABLE `users` ADD COLUMN `totp_enabled_at` datetime NULL;
-- Add column "totp_last_step" to table: "users"
ALTER TABLE `users` ADD COLUMN `totp_last_step` integer NULL;
-- Create "login_challenges" table
CREATE TABLE `login_challenges` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `token_hash` text NOT NULL, `user_id` integer NOT NULL, `organization_id` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL);
-- Set sequence for "login_challenges" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("login_challenges", 98784247808);
-- Create index "login_challenges_token_hash_key" to table: "login_challenges"
CREATE UNIQUE INDEX `login_challenges_token_hash_key` ON `login_challenges` (`token_hash`);
-- Create index "loginchallenge_expires_at" to table: "login_challenges"
CREATE INDEX `loginchallenge_expires_at` ON `login_challenges` (`expires_at`);
-- Create "recovery_codes" table
CREATE TABLE `recovery_codes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `user_id` integer NOT NULL, `code_hash` text NOT NULL);
-- Set sequence for "recovery_codes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("recovery_codes", 103079215104);
-- Create index "recoverycode_user_id_code_hash" to table: "recovery_codes"
CREATE UNIQUE INDEX `recoverycode_user_id_code_hash` ON `recovery_codes` (`user_id`, `code_hash`);
