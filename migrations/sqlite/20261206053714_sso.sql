-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_users" table
CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `username` text NOT NULL, `password_hash` text NOT NULL, `last_login_at` datetime NULL, `last_organization_id` integer NULL, `email` text NULL, `oidc_issuer` text NULL, `oidc_subject` text NULL);
-- Set sequence for "new_users" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_users", 51539607552);
-- Copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `created_at`, `updated_at`, `username`, `password_hash`, `last_login_at`, `last_organization_id`) SELECT `id`, `created_at`, `updated_at`, `username`, `password_hash`, `last_login_at`, `last_organization_id` FROM `users`;
-- Drop "users" table after copying rows
DROP TABLE `users`;
-- Rename temporary table "new_users" to "users"
ALTER TABLE `new_users` RENAME TO `users`;
-- Create index "users_username_key" to table: "users"
CREATE UNIQUE INDEX `users_username_key` ON `users` (`username`);
-- Create index "user_oidc_issuer_oidc_subject" to table: "users"
CREATE UNIQUE INDEX `user_oidc_issuer_oidc_subject` ON `users` (`oidc_issuer`, `oidc_subject`);
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX `user_email` ON `users` (`email`);
-- Create "new_sessions" table
CREATE TABLE `new_sessions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `user_id` integer NOT NULL, `organization_id` integer NOT NULL, `created_at` datetime NOT NULL, `last_seen_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `ended_at` datetime NULL, `client_ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `handoff_hash` text NULL);
-- Set sequence for "new_sessions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_sessions", 94489280512);
-- Copy rows from old table "sessions" to new temporary table "new_sessions"
INSERT INTO `new_sessions` (`id`, `user_id`, `organization_id`, `created_at`, `last_seen_at`, `expires_at`, `ended_at`, `client_ip`, `user_agent`) SELECT `id`, `user_id`, `organization_id`, `created_at`, `last_seen_at`, `expires_at`, `ended_at`, `client_ip`, `user_agent` FROM `sessions`;
-- Drop "sessions" table after copying rows
DROP TABLE `sessions`;
-- Rename temporary table "new_sessions" to "sessions"
ALTER TABLE `new_sessions` RENAME TO `sessions`;
-- Create index "session_user_id_ended_at" to table: "sessions"
CREATE INDEX `session_user_id_ended_at` ON `sessions` (`user_id`, `ended_at`);
-- Create index "session_expires_at" to table: "sessions"
CREATE INDEX `session_expires_at` ON `sessions` (`expires_at`);
-- Create index "session_handoff_hash" to table: "sessions"
CREATE INDEX `session_handoff_hash` ON `sessions` (`handoff_hash`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
