package testutil

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is the -update flag of every test binary that compares golden
// files: go test ./... -update rewrites them from what the code produces.
var update = flag.Bool("update", false, "rewrite golden files from the current output")

// GoldenJSON compares the JSON document got, indented with two spaces, with
// the file at path (relative to the test's package directory); with
// -update it writes the file first. Indenting makes the files reviewable
// and their diffs readable.
func GoldenJSON(t testing.TB, path string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("%s: the document is not JSON: %v", path, err)
	}
	pretty.WriteByte('\n')
	Golden(t, path, pretty.Bytes())
}

// Golden compares got with the file at path; with -update it writes the
// file first.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got); run with -update if the change is intended:\n%s", path, diff)
	}
}

// GoldenSection is Golden for the part of a document between the line
// holding begin and the line holding end (both kept), so that a table in
// the docs is held to what the code measures; with -update it rewrites
// that part.
func GoldenSection(t testing.TB, path, begin, end, got string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no section between %q and %q", path, begin, end)
	}
	i = strings.Index(s[i:], "\n") + i + 1
	j = strings.LastIndex(s[:j], "\n") + 1
	if *update {
		s = s[:i] + got + s[j:]
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(s[i:j], got); diff != "" {
		t.Errorf("%s, between %q and %q, does not match (-doc +measured); run with -update if the change is intended:\n%s", path, begin, end, diff)
	}
}
