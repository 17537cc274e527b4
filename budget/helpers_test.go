package budget_test

import (
	"context"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/migrations"
)

func migrationsApply(ctx context.Context, db *database.DB) ([]migrations.Migration, error) {
	return migrations.Apply(ctx, db.SQL, db.Dialect)
}
