-- Drop index "usagerollup_hour_organization_id_service_id_api_key_id_model" from table: "usage_rollups"
DROP INDEX "usagerollup_hour_organization_id_service_id_api_key_id_model";
-- Drop index "usagerollup_organization_id_api_key_id_hour" from table: "usage_rollups"
DROP INDEX "usagerollup_organization_id_api_key_id_hour";
-- Create index "usagerollup_organization_id_api_key_id_hour_service_id_model" to table: "usage_rollups"
CREATE UNIQUE INDEX "usagerollup_organization_id_api_key_id_hour_service_id_model" ON "usage_rollups" ("organization_id", "api_key_id", "hour", "service_id", "model");
