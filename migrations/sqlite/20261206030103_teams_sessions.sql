-- Add column "last_organization_id" to table: "users"
ALTER TABLE `users` ADD COLUMN `last_organization_id` integer NULL;
-- Create "invitations" table
CREATE TABLE `invitations` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `organization_id` integer NOT NULL, `role` text NOT NULL DEFAULT ('member'), `token_hash` text NOT NULL, `note` text NOT NULL DEFAULT (''), `created_by` integer NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `accepted_at` datetime NULL, `accepted_by` integer NULL, `revoked_at` datetime NULL);
-- Set sequence for "invitations" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("invitations", 90194313216);
-- Create index "invitations_token_hash_key" to table: "invitations"
CREATE UNIQUE INDEX `invitations_token_hash_key` ON `invitations` (`token_hash`);
-- Create index "invitation_organization_id_created_at" to table: "invitations"
CREATE INDEX `invitation_organization_id_created_at` ON `invitations` (`organization_id`, `created_at`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `user_id` integer NOT NULL, `organization_id` integer NOT NULL, `created_at` datetime NOT NULL, `last_seen_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `ended_at` datetime NULL, `client_ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''));
-- Set sequence for "sessions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("sessions", 94489280512);
-- Create index "session_user_id_ended_at" to table: "sessions"
CREATE INDEX `session_user_id_ended_at` ON `sessions` (`user_id`, `ended_at`);
-- Create index "session_expires_at" to table: "sessions"
CREATE INDEX `session_expires_at` ON `sessions` (`expires_at`);
