-- Drop index "usagerollup_organization_id_hour" from table: "usage_rollups"
DROP INDEX "usagerollup_organization_id_hour";
-- Create index "usagerollup_organization_id_api_key_id_hour" to table: "usage_rollups"
CREATE INDEX "usagerollup_organization_id_api_key_id_hour" ON "usage_rollups" ("organization_id", "api_key_id", "hour");
-- Create index "usagerollup_organization_id_service_id_hour" to table: "usage_rollups"
CREATE INDEX "usagerollup_organization_id_service_id_hour" ON "usage_rollups" ("organization_id", "service_id", "hour");
