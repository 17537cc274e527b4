-- Create index "apikey_organization_id_key_prefix" to table: "api_keys"
CREATE INDEX "apikey_organization_id_key_prefix" ON "api_keys" ("organization_id", "key_prefix" varchar_pattern_ops);
-- Create index "apikey_organization_id_name_pattern" to table: "api_keys"
CREATE INDEX "apikey_organization_id_name_pattern" ON "api_keys" ("organization_id", "name" varchar_pattern_ops);
