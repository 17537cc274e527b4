// Package database opens Sluice's database: an embedded SQLite file by
// default (modernc.org/sqlite, no cgo) or PostgreSQL through lib/pq for
// production and several replicas. Both come back as one ent client over a
// *sql.DB, migrated by package migrations.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "modernc.org/sqlite" // SQLite driver, registered as "sqlite".

	"github.com/sluicehq/sluice/changehook"
	"github.com/sluicehq/sluice/ent"
	_ "github.com/sluicehq/sluice/ent/runtime" // the schema's defaults, validators and hooks
	"github.com/sluicehq/sluice/orgscope"
)

// DB is an open database: the ent client for the data layer and the raw
// *sql.DB for what ent does not do (migrations, atomic budget updates,
// LISTEN/NOTIFY).
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres
	// DSN is the connection string actually used, for components that need
	// a connection of their own (lib/pq's listener).
	DSN string

	// Narrowed lists the SQLite files whose mode Open narrowed to 0600
	// because others could read them, for the caller to log.
	Narrowed []string

	stmts stmtCache // Prepared's statements
}

// Close closes the prepared statements, the ent client and the connection
// pool under it.
func (d *DB) Close() error {
	d.stmts.closeStatements()
	return d.Client.Close()
}

// Ping reports whether the database answers, for /readyz.
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

// Target describes where a database URL points, parsed without connecting.
type Target struct {
	Dialect string
	DSN     string
	// Path is the SQLite file, empty for PostgreSQL or an in-memory SQLite.
	Path string
	// MaxConns caps the PostgreSQL pool; zero means 10. Every replica
	// and tool shares the server's max_connections (100 by default), so a
	// pool that grew with the load would refuse connections to the others.
	MaxConns int
}

// ParseURL turns DATABASE_URL into a Target. An empty URL means the embedded
// default, the SQLite file defaultPath. Accepted forms: postgres:// and
// postgresql:// URLs, sqlite:path or sqlite://path, and file: URIs.
// Errors name the problem and the accepted forms without echoing a password.
func ParseURL(raw, defaultPath string) (Target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return sqliteTarget(defaultPath, ""), nil
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return Target{}, errors.New("DATABASE_URL has no scheme; use postgres://user@host:5432/dbname or sqlite:path/to/file.db")
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil {
			return Target{}, fmt.Errorf("DATABASE_URL is not a valid postgres URL (%s); expected postgres://user:password@host:5432/dbname?sslmode=disable", redactedURLError(err))
		}
		if u.Host == "" {
			return Target{}, errors.New("DATABASE_URL has no host; expected postgres://user:password@host:5432/dbname")
		}
		if strings.Trim(u.Path, "/") == "" {
			return Target{}, errors.New("DATABASE_URL names no database; expected postgres://user:password@host:5432/dbname")
		}
		return Target{Dialect: dialect.Postgres, DSN: raw}, nil
	case "sqlite", "sqlite3":
		path := strings.TrimPrefix(rest, "//")
		path, query, _ := strings.Cut(path, "?")
		if path == "" {
			return Target{}, errors.New("DATABASE_URL names no SQLite file; expected sqlite:path/to/file.db")
		}
		return sqliteTarget(path, query), nil
	case "file":
		path, query, _ := strings.Cut(rest, "?")
		return sqliteTarget(path, query), nil
	default:
		return Target{}, fmt.Errorf("DATABASE_URL scheme %q is not supported; use postgres:// (PostgreSQL) or sqlite: (embedded SQLite)", scheme)
	}
}

// redactedURLError reports why a URL did not parse without repeating the
// URL, which may hold a password.
func redactedURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "malformed URL"
}

// sqliteTarget builds the modernc DSN: foreign keys on (ent needs them),
// WAL so readers do not wait for the writer, a busy timeout instead of
// immediate SQLITE_BUSY, immediate transactions so that a transaction
// that will write takes the write lock at BEGIN and cannot deadlock on
// upgrade, and temporary storage in memory: a multi-row INSERT inside a
// transaction keeps a statement journal, which SQLite spills to a
// temporary file past 64 KiB, and the usage writer's 100-row INSERTs
// spilled every time: a write system call per page, which in memory
// BenchmarkWriteBatch no longer pays (docs/benchmarks.md has the figures).
// Times are stored as integer microseconds since 1970 UTC, read back as
// time.Time: 8 bytes in a row and in every index that holds a time,
// instead of about 36 characters of text, and compared as integers.
// Large sorts without an index, big migrations' journals and VACUUM then
// use memory instead of temporary files as well; the dashboard's reports
// read the hourly roll-ups, and its lists read a page at a time (sorting
// for a LIMIT, SQLite keeps only that many rows).
func sqliteTarget(path, extra string) Target {
	q := "_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_txlock=immediate" +
		"&_time_integer_format=unix_micro&_inttotime=1"
	if extra != "" {
		q += "&" + extra
	}
	t := Target{Dialect: dialect.SQLite, DSN: "file:" + path + "?" + q}
	if !strings.Contains(path, ":memory:") && !strings.Contains(extra, "mode=memory") {
		t.Path = path
	}
	return t
}

// Open connects to the target and checks that it answers. An SQLite file
// is created, or narrowed, to mode 0600 first.
func Open(ctx context.Context, t Target) (*DB, error) {
	var narrowed []string
	if t.Dialect == dialect.SQLite {
		if t.Path != "" {
			var err error
			if narrowed, err = makePrivate(t.Path); err != nil {
				return nil, err
			}
		}
	}
	var db *sql.DB
	if t.Dialect == dialect.SQLite {
		var err error
		if db, err = sql.Open("sqlite", t.DSN); err != nil {
			return nil, fmt.Errorf("open %s database: %w", t.Dialect, err)
		}
	} else {
		c, err := newPGConnector(t.DSN)
		if err != nil {
			return nil, fmt.Errorf("open %s database: %w", t.Dialect, err)
		}
		db = sql.OpenDB(c)
	}
	if t.Dialect == dialect.SQLite {
		// One writer at a time is SQLite's rule; a small pool keeps readers
		// concurrent under WAL without piling up writers on the busy timeout.
		db.SetMaxOpenConns(8)
	} else {
		n := t.MaxConns
		if n <= 0 {
			n = 10
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", t.Dialect, err)
	}
	drv := entsql.OpenDB(t.Dialect, db)
	return &DB{Client: newClient(drv), SQL: db, Dialect: t.Dialect, DSN: t.DSN, Narrowed: narrowed}, nil
}

// newClient is the ent client on drv with the data layer's rules: reads
// of organization-owned data scoped to the context's organization
// (orgscope), and committed changes to cached data announced on the change
// feed (changehook).
func newClient(drv *entsql.Driver) *ent.Client {
	client := ent.NewClient(ent.Driver(drv))
	client.Intercept(orgscope.Interceptor())
	client.Use(changehook.Hook())
	return client
}

// InTx runs fn in a transaction of client, committed when fn succeeds and
// rolled back when it fails; inside a transaction ctx already carries
// (ent.NewTxContext), fn joins it, so that a caller's transaction holds
// everything or nothing.
func InTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return fn(tx)
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
