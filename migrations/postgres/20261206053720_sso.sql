-- Modify "sessions" table
ALTER TABLE "sessions" ADD COLUMN "handoff_hash" character varying NULL;
-- Create index "session_handoff_hash" to table: "sessions"
CREATE INDEX "session_handoff_hash" ON "sessions" ("handoff_hash");
-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "email" character varying NULL, ADD COLUMN "oidc_issuer" character varying NULL, ADD COLUMN "oidc_subject" character varying NULL;
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX "user_email" ON "users" ("email");
-- Create index "user_oidc_issuer_oidc_subject" to table: "users"
CREATE UNIQUE INDEX "user_oidc_issuer_oidc_subject" ON "users" ("oidc_issuer", "oidc_subject");
