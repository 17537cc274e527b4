-- Modify "provider_credentials" table
ALTER TABLE "provider_credentials" ADD COLUMN "owner_service_id" bigint NULL, ADD CONSTRAINT "provider_credentials_services_own_credential" FOREIGN KEY ("owner_service_id") REFERENCES "services" ("id") ON UPDATE NO ACTION ON DELETE CASCADE;
-- Create index "provider_credentials_owner_service_id_key" to table: "provider_credentials"
CREATE UNIQUE INDEX "provider_credentials_owner_service_id_key" ON "provider_credentials" ("owner_service_id");

-- A service's own credential was found by its account key "service:<name>",
-- which a rename broke. Each such credential now belongs to the service of
-- that name, provider and organization by id.
UPDATE provider_credentials
SET owner_service_id = (
  SELECT s.id FROM services s
  WHERE s.organization_id = provider_credentials.organization_id
    AND s.provider = provider_credentials.provider
    AND provider_credentials.account_key = 'service:' || s.service_name)
WHERE substr(account_key, 1, 8) = 'service:';
-- Own credentials whose service was renamed away stayed behind when it was
-- deleted, with their encrypted keys: remove those nothing uses.
DELETE FROM provider_credentials
WHERE substr(account_key, 1, 8) = 'service:' AND owner_service_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM services s WHERE s.credential_id = provider_credentials.id)
  AND NOT EXISTS (SELECT 1 FROM service_targets t WHERE t.credential_id = provider_credentials.id);
