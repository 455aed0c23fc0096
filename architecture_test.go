package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// architectureDoc is the newcomer's entry point; TestArchitectureDocNamesRealCode keeps it honest.
const architectureDoc = "docs/architecture.md"

// externalQualifiers are package names of other modules that the doc may quote as `pkg.Name`; their
// names are not checked. Everything else quoted that way must be a package of this module.
var externalQualifiers = []string{"prometheus", "http", "yaml", "log", "kingpin"}

// TestArchitectureDocNamesRealCode checks that docs/architecture.md names only code that exists, so that
// a rename or a move that forgets the doc fails here instead of misleading the next reader:
//   - every directory path it names ("collector/", "internal/fileread/") and every Go file
//     ("app/server.go", or "expocache.go" alone: then in some package of the module) exists;
//   - every `pkg.Name` or `pkg.Type.Member` it quotes in backticks is an exported identifier of that
//     package of the module (a top-level declaration, a method, a struct field or an interface method);
//   - every Go package of the module is listed in its Packages block, so a new package gets its line.
//
// Nothing runs but go/parser over the module's own source.
func TestArchitectureDocNamesRealCode(t *testing.T) {
	b, err := os.ReadFile(architectureDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	pkgs, err := modulePackages(".")
	if err != nil {
		t.Fatal(err)
	}

	paths := docPaths(doc)
	for _, p := range paths {
		checkDocPath(t, p, pkgs)
	}

	for _, q := range docQualifiedNames(doc) {
		parts := strings.Split(q, ".")
		dirs := pkgs.byName[parts[0]]
		if len(dirs) == 0 {
			if !slices.Contains(externalQualifiers, parts[0]) {
				t.Errorf("%s quotes `%s`: %s is not a package of this module (nor listed in externalQualifiers)", architectureDoc, q, parts[0])
			}
			continue
		}
		found := false
		for _, d := range dirs {
			if pkgs.exported[d].has(parts[1:]) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s quotes `%s`, which package %s (%s) does not declare", architectureDoc, q, parts[0], strings.Join(dirs, ", "))
		}
	}

	t.Logf("checked %d paths and %d quoted names of %s against %d packages", len(paths), len(docQualifiedNames(doc)), architectureDoc, len(pkgs.dirs))

	listed := packagesBlock(doc)
	for _, d := range pkgs.dirs {
		if d == "." {
			continue
		}
		if !slices.Contains(listed, d+"/") {
			t.Errorf("package %s/ is not listed in the Packages block of %s: give it a line", d, architectureDoc)
		}
	}
}

// checkDocPath fails the test when the directory or Go file p named by the doc does not exist.
func checkDocPath(t *testing.T, p string, pkgs *packages) {
	t.Helper()
	if !strings.Contains(strings.TrimSuffix(p, "/"), "/") && strings.HasSuffix(p, ".go") {
		// A bare file name: in some package of the module (globs such as parse_*.go allowed).
		for _, d := range pkgs.dirs {
			if m, _ := filepath.Glob(filepath.Join(d, p)); len(m) > 0 {
				return
			}
		}
		t.Errorf("%s names %s, which no package of the module has", architectureDoc, p)
		return
	}
	if m, _ := filepath.Glob(filepath.FromSlash(strings.TrimSuffix(p, "/"))); len(m) == 0 {
		t.Errorf("%s names %s, which does not exist", architectureDoc, p)
	}
}

var (
	// dirOrFileRE: a relative directory ending in "/" or a Go file, the way the doc writes them.
	dirOrFileRE = regexp.MustCompile(`^(?:[a-z][a-z0-9_-]*/)+$|^(?:[a-z][a-z0-9_-]*/)*[a-z][a-z0-9_*]*\.go$`)
	// qualifiedRE: a backtick span that is exactly `pkg.Name` or `pkg.Type.Member`.
	qualifiedRE = regexp.MustCompile("`([a-z][a-z0-9]*\\.[A-Z][A-Za-z0-9_]*(?:\\.[A-Z][A-Za-z0-9_]*)?)`")
)

// docPaths returns the directory and Go file paths the doc names, each once.
func docPaths(doc string) []string {
	var out []string
	for _, f := range strings.Fields(doc) {
		f = strings.Trim(f, "`*()[],;:.\"'")
		if strings.HasSuffix(f, "go") && !strings.HasSuffix(f, ".go") {
			continue
		}
		if dirOrFileRE.MatchString(f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// docQualifiedNames returns the `pkg.Name` spans of the doc, each once.
func docQualifiedNames(doc string) []string {
	var out []string
	for _, m := range qualifiedRE.FindAllStringSubmatch(doc, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// packagesBlock returns the first column of the code block under "## Packages": the listed paths.
func packagesBlock(doc string) []string {
	_, rest, ok := strings.Cut(doc, "## Packages")
	if !ok {
		return nil
	}
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, _ := strings.Cut(rest, "```")
	var out []string
	for _, line := range strings.Split(block, "\n") {
		if line == "" || line[0] == ' ' {
			continue // a continuation line
		}
		// The first column; a line may list several short entries ("examples/ testdata/ docs/").
		for _, f := range strings.Fields(line) {
			if !strings.HasSuffix(f, "/") && !strings.HasSuffix(f, ".go") {
				break
			}
			out = append(out, f)
		}
	}
	return out
}

// packages are the Go packages of the module rooted at ".", without nested modules and testdata.
type packages struct {
	dirs     []string            // slash-separated, "." for the root
	byName   map[string][]string // package name -> dirs
	exported map[string]names    // dir -> its exported identifiers
}

// names are a package's exported identifiers: top-level ones, and the members (methods, struct fields,
// interface methods) of each exported type.
type names struct {
	top     map[string]bool
	members map[string]map[string]bool
}

func (n names) has(path []string) bool {
	switch len(path) {
	case 1:
		return n.top[path[0]]
	case 2:
		return n.top[path[0]] && n.members[path[0]][path[1]]
	}
	return false
}

func modulePackages(root string) (*packages, error) {
	pkgs := &packages{byName: map[string][]string{}, exported: map[string]names{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root {
			if strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own
			}
		}
		n, pkgName, err := parsePackage(path)
		if err != nil || pkgName == "" {
			return err
		}
		dir := filepath.ToSlash(path)
		pkgs.dirs = append(pkgs.dirs, dir)
		pkgs.byName[pkgName] = append(pkgs.byName[pkgName], dir)
		pkgs.exported[dir] = n
		return nil
	})
	return pkgs, err
}

// parsePackage collects the exported identifiers of the non-test Go files of dir; pkgName is "" when
// dir has no Go file, and that of its tests for a package of tests only (e2e/).
func parsePackage(dir string) (n names, pkgName string, err error) {
	n = names{top: map[string]bool{}, members: map[string]map[string]bool{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return n, "", err
	}
	fset := token.NewFileSet()
	member := func(typ, name string) {
		if n.members[typ] == nil {
			n.members[typ] = map[string]bool{}
		}
		n.members[typ][name] = true
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		if strings.HasSuffix(e.Name(), "_test.go") {
			if pkgName == "" {
				f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.PackageClauseOnly)
				if err != nil {
					return n, "", err
				}
				pkgName = strings.TrimSuffix(f.Name.Name, "_test")
			}
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return n, "", err
		}
		pkgName = f.Name.Name
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					n.top[d.Name.Name] = true
				} else if typ := recvType(d.Recv.List[0].Type); typ != "" {
					member(typ, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						n.top[s.Name.Name] = true
						var fields *ast.FieldList
						switch tt := s.Type.(type) {
						case *ast.StructType:
							fields = tt.Fields
						case *ast.InterfaceType:
							fields = tt.Methods
						}
						if fields != nil {
							for _, fl := range fields.List {
								for _, id := range fl.Names {
									member(s.Name.Name, id.Name)
								}
							}
						}
					case *ast.ValueSpec:
						for _, id := range s.Names {
							n.top[id.Name] = true
						}
					}
				}
			}
		}
	}
	return n, pkgName, nil
}

// recvType is the type name of a method's receiver (T, *T, T[P] or *T[P]).
func recvType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvType(t.X)
	case *ast.IndexExpr:
		return recvType(t.X)
	case *ast.IndexListExpr:
		return recvType(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}
