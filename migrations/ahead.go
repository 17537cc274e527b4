package migrations

import (
	"context"
	"database/sql"
	"sort"
)

// Ahead returns, in version order, the migrations applied to db that this
// binary does not have: a later release migrated the database. Migrations
// only expand the schema (docs/upgrades.md), so such a binary may still
// serve; it must not migrate.
func Ahead(ctx context.Context, db *sql.DB, dialectName string) ([]string, error) {
	all, applied, err := loadApplied(ctx, db, dialectName)
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		delete(applied, m.Version)
	}
	ahead := make([]string, 0, len(applied))
	for v := range applied {
		ahead = append(ahead, v)
	}
	sort.Strings(ahead)
	return ahead, nil
}
