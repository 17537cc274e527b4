package database_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/sluicehq/sluice/database"
)

// TestSQLiteFilesArePrivate: the SQLite file and its -wal and -shm files
// hold password and key hashes, so they are mode 0600 after Open, whether
// Open created them or found them readable by others (which it reports).
func TestSQLiteFilesArePrivate(t *testing.T) {
	// The usual umask, which left the file 0644 when SQLite created it.
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	cases := []struct {
		name     string
		existing os.FileMode // 0: no files before Open
		narrowed []string
	}{
		{"created", 0, nil},
		{"existing 0644", 0o644, []string{"sluice.db", "sluice.db-wal", "sluice.db-shm"}},
		{"existing 0666", 0o666, []string{"sluice.db", "sluice.db-wal", "sluice.db-shm"}},
		{"existing 0600", 0o600, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, "sluice.db")
			if c.existing != 0 {
				seed(t, path)
				for _, p := range []string{path, path + "-wal", path + "-shm"} {
					f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, c.existing)
					if err != nil {
						t.Fatal(err)
					}
					f.Close()
					if err := os.Chmod(p, c.existing); err != nil {
						t.Fatal(err)
					}
				}
			}
			target, err := database.ParseURL("", path)
			if err != nil {
				t.Fatal(err)
			}
			db, err := database.Open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// A write makes SQLite open the -wal and -shm files.
			if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS t (x INTEGER); INSERT INTO t VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(p), err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("%s mode %v, want -rw-------", filepath.Base(p), st.Mode().Perm())
				}
			}
			var narrowed []string
			for _, p := range db.Narrowed {
				narrowed = append(narrowed, filepath.Base(p))
			}
			if !slices.Equal(narrowed, c.narrowed) {
				t.Errorf("Narrowed = %v, want %v", narrowed, c.narrowed)
			}
		})
	}
}

// seed leaves a real SQLite database at path, closed.
func seed(t *testing.T, path string) {
	t.Helper()
	target, _ := database.ParseURL("", path)
	db, err := database.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
}
