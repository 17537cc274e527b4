-- Create index "apikey_service_id" to table: "api_keys"
CREATE INDEX "apikey_service_id" ON "api_keys" ("service_id");
