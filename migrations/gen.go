//go:build ignore

// gen.go writes a new versioned migration into postgres/ and sqlite/ when
// the ent schema has changed since the last one, by replaying the existing
// migrations into an empty development database and diffing the result
// against ent/schema. It runs from `go generate ./...`; with no schema
// change it writes nothing, which is what CI's drift check relies on.
//
// SQLite needs nothing: its development database lives in memory. PostgreSQL
// needs a server (SLUICE_DEV_POSTGRES, default the local trust-auth one);
// a scratch database is created there and dropped afterwards.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/sluicehq/sluice/ent/migrate"
)

func main() {
	name := flag.String("name", "changes", "name of the migration, if one is needed")
	flag.Parse()
	// Atlas opens its SQLite development database by the driver name
	// sqlite3; modernc registers itself only as sqlite.
	sql.Register("sqlite3", &sqlite.Driver{})
	ctx := context.Background()

	if err := diff(ctx, "sqlite", dialect.SQLite, "sqlite://dev?mode=memory&_fk=1", *name); err != nil {
		log.Fatalf("sqlite: %v", err)
	}

	base := os.Getenv("SLUICE_DEV_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	devURL, drop, err := scratchDatabase(ctx, base)
	if err != nil {
		log.Fatalf("postgres: %v (set SLUICE_DEV_POSTGRES to a server where the user may create databases)", err)
	}
	defer drop()
	if err := diff(ctx, "postgres", dialect.Postgres, devURL, *name); err != nil {
		drop()
		log.Fatalf("postgres: %v", err)
	}
}

// diff writes a migration into dir for whatever the ent schema has that the
// replayed migrations do not.
func diff(ctx context.Context, dir, dialectName, devURL, name string) error {
	local, err := atlasmigrate.NewLocalDir(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	// Hand-written data migrations (such as the API standards seed) join
	// the directory without Atlas; rehash so that it accepts them.
	sum, err := local.Checksum()
	if err != nil {
		return fmt.Errorf("checksum %s: %w", dir, err)
	}
	if err := atlasmigrate.WriteSumFile(local, sum); err != nil {
		return fmt.Errorf("write %s/atlas.sum: %w", dir, err)
	}
	return migrate.NamedDiff(ctx, devURL, name,
		schema.WithDir(local),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialectName),
		schema.WithFormatter(atlasmigrate.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
}

// scratchDatabase creates an empty database on the server of base and
// returns a URL to it, schema-scoped to public so that Atlas writes
// unqualified table names (the migrations then apply to any schema).
func scratchDatabase(ctx context.Context, base string) (string, func(), error) {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	db := "sluice_migrate_dev_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+db); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create scratch database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + db
	q := u.Query()
	q.Set("search_path", "public")
	u.RawQuery = q.Encode()
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}
