-- Create index "apikey_service_id_organization_id" to table: "api_keys"
CREATE INDEX `apikey_service_id_organization_id` ON `api_keys` (`service_id`, `organization_id`);
