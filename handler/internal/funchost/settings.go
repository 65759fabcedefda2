package funchost

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LocalSettings reads the "Values" of dir/local.settings.json, the app
// settings `func start` exports to the handler. A missing file is no error.
func LocalSettings(dir string) (map[string]string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "local.settings.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s struct {
		Values map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("local.settings.json: %w", err)
	}
	return s.Values, nil
}

// MergeEnv adds values to environ for names environ does not have yet.
// Core Tools does the same: a variable already set in the environment wins
// over local.settings.json ("Skipping '…' from local settings as it's
// already defined in current environment variables").
func MergeEnv(environ []string, values map[string]string) []string {
	have := make(map[string]bool, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		have[name] = true
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	out := environ[:len(environ):len(environ)]
	for _, name := range names {
		if !have[name] {
			out = append(out, name+"="+values[name])
		}
	}
	return out
}
