-- Add column "body_capture" to table: "services"
ALTER TABLE `services` ADD COLUMN `body_capture` json NULL;
-- Create "request_bodies" table
CREATE TABLE `request_bodies` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `request_id` blob NOT NULL, `organization_id` integer NOT NULL, `service_id` integer NOT NULL, `expires_at` datetime NOT NULL, `key_id` text NOT NULL, `ciphertext` blob NOT NULL, `request_truncated` bool NOT NULL DEFAULT (false), `response_truncated` bool NOT NULL DEFAULT (false));
-- Set sequence for "request_bodies" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("request_bodies", 107374182400);
-- Create index "requestbody_request_id" to table: "request_bodies"
CREATE INDEX `requestbody_request_id` ON `request_bodies` (`request_id`);
-- Create index "requestbody_expires_at" to table: "request_bodies"
CREATE INDEX `requestbody_expires_at` ON `request_bodies` (`expires_at`);
