-- Create "pace_slots" table
CREATE TABLE `pace_slots` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `holder` text NOT NULL, `scope` text NOT NULL, `scope_id` integer NOT NULL, `held` integer NOT NULL, `expires_at` datetime NOT NULL);
-- Set sequence for "pace_slots" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("pace_slots", 73014444032);
-- Create index "paceslot_holder_scope_scope_id" to table: "pace_slots"
CREATE UNIQUE INDEX `paceslot_holder_scope_scope_id` ON `pace_slots` (`holder`, `scope`, `scope_id`);
-- Create index "paceslot_scope_scope_id" to table: "pace_slots"
CREATE INDEX `paceslot_scope_scope_id` ON `pace_slots` (`scope`, `scope_id`);
-- Create index "paceslot_expires_at" to table: "pace_slots"
CREATE INDEX `paceslot_expires_at` ON `pace_slots` (`expires_at`);
-- Create "pace_windows" table
CREATE TABLE `pace_windows` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `scope` text NOT NULL, `scope_id` integer NOT NULL, `kind` text NOT NULL, `head` integer NOT NULL DEFAULT (0), `counts` json NOT NULL, `updated_at` datetime NOT NULL);
-- Set sequence for "pace_windows" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("pace_windows", 77309411328);
-- Create index "pacewindow_scope_scope_id_kind" to table: "pace_windows"
CREATE UNIQUE INDEX `pacewindow_scope_scope_id_kind` ON `pace_windows` (`scope`, `scope_id`, `kind`);
