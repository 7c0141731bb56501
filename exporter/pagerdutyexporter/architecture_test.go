package pagerdutyexporter

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// modulePath is this exporter's import path; packages below it are named
// relative to it, as docs/architecture.md names them.
const modulePath = "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

// architectureRow matches a row of the package table of
// docs/architecture.md: | `package` | its job | may import |.
var architectureRow = regexp.MustCompile("^\\| `([^`]+)` \\|[^|]+\\|([^|]+)\\|$")

// documentedPackages reads the package table: each package and the packages
// of the exporter it may import.
func documentedPackages(t *testing.T) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	require.NoError(t, err)
	rows := map[string][]string{}
	for line := range strings.SplitSeq(string(doc), "\n") {
		m := architectureRow.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		allowed := []string{}
		for _, name := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[2], -1) {
			allowed = append(allowed, name[1])
		}
		rows[m[1]] = allowed
	}
	return rows
}

// exporterPackages lists the exporter's packages, relative to it, with the
// exporter's packages their non-test files import.
func exporterPackages(t *testing.T) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		imports := pkgs[dir]
		for _, spec := range f.Imports {
			p, _ := strconv.Unquote(spec.Path.Value)
			if rel, ok := strings.CutPrefix(p, modulePath+"/"); ok && !slices.Contains(imports, rel) {
				imports = append(imports, rel)
			}
		}
		pkgs[dir] = imports
		return nil
	})
	require.NoError(t, err)
	return pkgs
}

// TestArchitectureNamesEveryPackage keeps docs/architecture.md true: it
// names every package of the exporter and no other, and each package
// imports only the exporter's packages its row allows.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	documented := documentedPackages(t)
	actual := exporterPackages(t)
	require.NotEmpty(t, documented, "docs/architecture.md has no package table")
	for pkg := range actual {
		assert.Contains(t, documented, pkg, "package %s exists, but docs/architecture.md does not name it", pkg)
	}
	for pkg := range documented {
		assert.Contains(t, actual, pkg, "docs/architecture.md names package %s, which does not exist", pkg)
	}
	for pkg, imports := range actual {
		allowed, ok := documented[pkg]
		if !ok {
			continue
		}
		for _, imported := range imports {
			assert.Contains(t, allowed, imported, "%s imports %s, which docs/architecture.md does not allow it", pkg, imported)
		}
	}
}
