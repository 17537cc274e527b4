package database

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// privateMode is the mode of the SQLite file and its -wal and -shm
// companions: they hold password hashes, key hashes and sealed provider
// keys, so only the gateway's user may read them.
const privateMode fs.FileMode = 0o600

// makePrivate creates the SQLite file at path with mode 0600 if it does not
// exist (SQLite gives the -wal and -shm files it creates later the mode of
// the database file), and narrows the file and its companions to 0600 where
// an earlier version or an operator left them readable by others. It
// returns the files whose mode it narrowed.
func makePrivate(path string) (narrowed []string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, privateMode)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("create the database file %s: %w", path, err)
		}
		return nil, nil
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("create the database file %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return narrowed, fmt.Errorf("check the mode of %s: %w", p, err)
		}
		if st.Mode().Perm()&^privateMode == 0 {
			continue
		}
		if err := os.Chmod(p, st.Mode().Perm()&privateMode); err != nil {
			return narrowed, fmt.Errorf("make %s private (mode 0600): %w", p, err)
		}
		narrowed = append(narrowed, p)
	}
	return narrowed, nil
}
