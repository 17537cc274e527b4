package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEverySetting keeps the README's configuration table and
// the settings in step: each flag's row names its variable and default.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `--") {
			flag := strings.Trim(strings.Split(line, "|")[1], " `-")
			rows[flag] = line
		}
	}
	for _, s := range settings {
		row, ok := rows[s.flag]
		if !ok {
			t.Errorf("README's configuration table has no row for --%s (%s)", s.flag, s.env)
			continue
		}
		if !strings.Contains(row, "`"+s.env+"`") {
			t.Errorf("README's row for --%s does not name %s: %s", s.flag, s.env, row)
		}
		if s.def != "" && !strings.Contains(row, "`"+s.def+"`") {
			t.Errorf("README's row for --%s does not give the default %q: %s", s.flag, s.def, row)
		}
	}
}
