package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/migrations"
)

// databaseTarget reads which database cfg names (its URL, else sluice.db
// in the data directory) and returns the path of the generated secrets
// file beside an embedded database, "" for PostgreSQL. A data directory
// that does not exist yet is made, private to the gateway's user: it holds
// the database and the generated secrets.
func databaseTarget(cfg *config.Config) (database.Target, string, error) {
	target, err := database.ParseURL(cfg.DatabaseURL, filepath.Join(cfg.DataDir, "sluice.db"))
	if err != nil {
		return database.Target{}, "", err
	}
	target.MaxConns = cfg.DBMaxConns
	if target.Path == "" {
		return target, "", nil
	}
	dir := filepath.Dir(target.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return database.Target{}, "", fmt.Errorf("create the data directory: %w", err)
	}
	return target, filepath.Join(dir, "sluice.secrets"), nil
}

// openDatabase opens target and, when migrate is set, applies the pending
// migrations, logging each; it returns the ones it applied. A database a
// later release migrated is served as it is, with a warning: migrations
// only add to the schema, so what this binary reads and writes is there.
func openDatabase(ctx context.Context, target database.Target, log *slog.Logger, migrate bool) (*database.DB, []migrations.Migration, error) {
	db, err := database.Open(ctx, target)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range db.Narrowed {
		log.Warn("the database file was readable by other users; made it private (mode 0600)", "file", f)
	}
	if !migrate {
		return db, nil, nil
	}
	ran, err := applyMigrations(ctx, db, log)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	ahead, err := migrations.Ahead(ctx, db.SQL, db.Dialect)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if len(ahead) > 0 {
		log.Warn("the database is ahead of this binary: a later release applied migrations it does not have; starting without them",
			"unknown_migrations", ahead)
	}
	return db, ran, nil
}

// applyMigrations applies the pending migrations, logging each.
func applyMigrations(ctx context.Context, db *database.DB, log *slog.Logger) ([]migrations.Migration, error) {
	ran, err := migrations.Apply(ctx, db.SQL, db.Dialect)
	if err != nil {
		return nil, err
	}
	for _, m := range ran {
		log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	return ran, nil
}

// refuseAhead is the error for a database a later release migrated, when
// this binary was asked to migrate it.
func refuseAhead(ctx context.Context, db *database.DB) error {
	ahead, err := migrations.Ahead(ctx, db.SQL, db.Dialect)
	if err != nil || len(ahead) == 0 {
		return err
	}
	return fmt.Errorf("the database has %d migration(s) this binary does not have (%s): a later release migrated it; run sluice migrate of that release or a newer one (a database is never migrated back)",
		len(ahead), strings.Join(ahead, ", "))
}

// refusePending is the error for a database with migrations still to
// apply, for commands that only read it.
func refusePending(ctx context.Context, db *database.DB) error {
	pending, err := migrations.Pending(ctx, db.SQL, db.Dialect)
	if err != nil || len(pending) == 0 {
		return err
	}
	return fmt.Errorf("the database has %d pending migration(s) (the first %s_%s): run sluice migrate first", len(pending), pending[0].Version, pending[0].Name)
}
