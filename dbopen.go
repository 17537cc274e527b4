package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

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
// migrations, logging each; it returns the ones it applied.
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
	ran, err := migrations.Apply(ctx, db.SQL, db.Dialect)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	for _, m := range ran {
		log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	return db, ran, nil
}
