package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/changehook"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/declare"
	"github.com/sluicehq/sluice/ent/organization"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/secrets"
)

// declareTarget is where apply and export work: a running gateway named by
// --server (with the management key in SLUICE_MANAGEMENT_KEY), or else the
// database the settings name, as serve would open it.
type declareTarget struct {
	server, organization string
}

func (t *declareTarget) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.server, "server", "", "base URL of a running gateway, e.g. https://sluice.example.com; its admin API is called with the management key in SLUICE_MANAGEMENT_KEY (without it: the database the other flags name)")
	fs.StringVar(&t.organization, "organization", "", "without --server: the organization to work on (default: the default organization)")
}

// runner is an applier: remote or local.
type runner interface {
	Run(ctx context.Context, f *declare.File, opts declare.Options, dryRun bool) (*declare.Plan, error)
	ReadState(ctx context.Context) (*declare.State, error)
}

// open returns the applier t names, and what to close after it. A local
// database opened readOnly is neither created, migrated nor given the
// price catalog, and one with pending migrations is refused.
func (t *declareTarget) open(ctx context.Context, cfg *config.Config, getenv func(string) string, stderr io.Writer, actor string, readOnly bool) (runner, func(), error) {
	if t.server != "" {
		if t.organization != "" {
			return nil, nil, errors.New("--organization is for the local database; with --server the management key's organization is used")
		}
		key := getenv("SLUICE_MANAGEMENT_KEY")
		if key == "" {
			return nil, nil, errors.New("--server needs a management key in SLUICE_MANAGEMENT_KEY (create one in the dashboard or with createAPIKey(isManagementKey: true))")
		}
		return &declare.Remote{URL: t.server, Key: key, HTTP: &http.Client{Timeout: time.Minute}}, func() {}, nil
	}
	if readOnly {
		if err := existingDatabase(cfg); err != nil {
			return nil, nil, err
		}
	}
	target, secretsPath, err := databaseTarget(cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := ensureMasterKey(cfg, secretsPath, target.Dialect == dialect.SQLite, readOnly); err != nil {
		return nil, nil, err
	}
	master, err := secrets.ParseMasterKey(cfg.MasterKey)
	if err != nil {
		return nil, nil, err
	}
	keyring, err := secrets.NewKeyring(master)
	if err != nil {
		return nil, nil, err
	}
	log := newLogger(cfg, stderr)
	db, _, err := openDatabase(ctx, target, log, !readOnly)
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() { db.Close() }
	if readOnly {
		if err := refusePending(ctx, db); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	orgID, err := t.orgID(ctx, db, readOnly)
	switch {
	case err != nil:
	case readOnly:
		// The catalog is checked as the gateway last loaded it.
	default:
		// Models are checked against the price catalog, as serve loads it.
		_, _, err = pricing.Sync(ctx, db.Client)
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	l := &declare.Local{Client: db.Client, Keyring: keyring, OrgID: orgID, Actor: actor}
	if db.Dialect != dialect.Postgres || readOnly {
		return l, closeAll, nil
	}
	// Running replicas hear the committed changes on the change feed.
	feed, err := changefeed.NewPostgres(ctx, db.SQL, db.DSN, log)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return announcing{l, feed}, func() { feed.Close(); db.Close() }, nil
}

// ensureMasterKey completes cfg's master key from the secrets file beside
// an embedded database, which is written first when missing unless
// readOnly.
func ensureMasterKey(cfg *config.Config, secretsPath string, embedded, readOnly bool) error {
	if readOnly && cfg.MasterKey != "" {
		return nil
	}
	if readOnly && embedded {
		if _, err := os.Stat(secretsPath); err != nil {
			return fmt.Errorf("no master key: set SLUICE_MASTER_KEY or keep the secrets file beside the database (%w)", err)
		}
	}
	_, err := cfg.EnsureSecrets(secretsPath, embedded)
	return err
}

// existingDatabase refuses an SQLite file that is not there, which
// opening would create.
func existingDatabase(cfg *config.Config) error {
	target, err := database.ParseURL(cfg.DatabaseURL, filepath.Join(cfg.DataDir, "sluice.db"))
	if err != nil || target.Path == "" {
		return err
	}
	if _, err := os.Stat(target.Path); err != nil {
		return fmt.Errorf("no database to read at %s: %w", target.Path, err)
	}
	return nil
}

// orgID is the organization t names; readOnly, the default one must exist
// already (and is otherwise created, as the gateway does at start).
func (t *declareTarget) orgID(ctx context.Context, db *database.DB, readOnly bool) (int, error) {
	if t.organization == "" && readOnly {
		org, err := db.Client.Organization.Query().Where(organization.IsDefault(true)).Only(ctx)
		if err != nil {
			return 0, fmt.Errorf("no default organization to read (the gateway makes it at its first start, apply without --dry-run too): %w", err)
		}
		return org.ID, nil
	}
	if t.organization == "" {
		org, err := auth.DefaultOrganization(ctx, db.Client)
		if err != nil {
			return 0, err
		}
		return org.ID, nil
	}
	org, err := db.Client.Organization.Query().Where(organization.Name(t.organization)).Only(ctx)
	if err != nil {
		return 0, fmt.Errorf("organization %q: %w", t.organization, err)
	}
	return org.ID, nil
}

// announcing is a local applier whose changes are announced on a feed.
type announcing struct {
	*declare.Local
	feed changefeed.Feed
}

func (a announcing) Run(ctx context.Context, f *declare.File, opts declare.Options, dryRun bool) (*declare.Plan, error) {
	return a.Local.Run(changehook.Collect(ctx, a.feed, nil), f, opts, dryRun)
}

// applyCommand makes a gateway match a sluice.yaml, or with --dry-run
// prints what it would change.
func applyCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var file string
	var dryRun, prune bool
	var t declareTarget
	cfg, err := config.ParseCommand("sluice apply", args, getenv, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "f", "", "the configuration file (sluice.yaml)")
		fs.BoolVar(&dryRun, "dry-run", false, "print the plan without changing anything")
		fs.BoolVar(&prune, "prune", false, "delete what a section of the file no longer names (without it, such things are left alone)")
		t.flags(fs)
	})
	if err != nil {
		return err
	}
	if file == "" {
		return errors.New("apply needs -f sluice.yaml")
	}
	f, err := declare.LoadFile(file)
	if err != nil {
		return err
	}
	r, done, err := t.open(ctx, cfg, getenv, stderr, "command line: sluice apply -f "+file, dryRun)
	if err != nil {
		return err
	}
	defer done()
	p, err := r.Run(ctx, f, declare.Options{Prune: prune, Getenv: getenv}, dryRun)
	if p != nil && (dryRun || err == nil) {
		p.Write(stdout)
	}
	if err != nil {
		return err
	}
	switch {
	case dryRun:
		fmt.Fprintln(stdout, "(dry run: nothing changed)")
	case !p.Empty():
		fmt.Fprintf(stdout, "applied %d change(s)\n", len(p.Changes))
	}
	return nil
}

// exportCommand writes what a gateway has as a sluice.yaml.
func exportCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var out string
	var t declareTarget
	cfg, err := config.ParseCommand("sluice export", args, getenv, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "o", "", "write the file here (default: standard output)")
		t.flags(fs)
	})
	if err != nil {
		return err
	}
	r, done, err := t.open(ctx, cfg, getenv, stderr, "command line: sluice export", true)
	if err != nil {
		return err
	}
	defer done()
	st, err := r.ReadState(ctx)
	if err != nil {
		return err
	}
	data, err := declare.Export(st)
	if err != nil {
		return err
	}
	if !st.InstanceAdmin {
		fmt.Fprintln(stderr, "sluice export: apiStandards and prices left out: they are shared, and this key is not an instance admin's")
	}
	if out == "" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(stderr, "wrote %s\n", strings.TrimSpace(out))
	return nil
}
