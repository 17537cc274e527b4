package migrations

// ApplyBefore lets tests stop short of a migration.
var ApplyBefore = applyBefore
