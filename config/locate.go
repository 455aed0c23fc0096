package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	// yaml.v2 decodes (prometheus/common's types are written for it) but keeps no positions; yaml.v3's
	// node tree has a line for every key and value, so it is used only to say where an error is.
	yaml3 "go.yaml.in/yaml/v3"
	"gopkg.in/yaml.v2"
)

// The messages of yaml.v2's TypeError (decode.go), after typeSuffix is removed.
var (
	unknownFieldRE    = regexp.MustCompile(`^line (\d+): field (.+) not found$`)
	duplicateRE       = regexp.MustCompile(`^line (\d+): field (.+) already set$`)
	duplicateMapRE    = regexp.MustCompile(`^line (\d+): key "(.*)" already set in map$`)
	cannotDecodeRE    = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	v2UnmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// located is a decoding problem with the field path and line it belongs to.
type located struct {
	path string
	line int
	msg  string
}

func (l located) String() string {
	switch {
	case l.path == "" && l.line == 0:
		return l.msg
	case l.path == "":
		return fmt.Sprintf("line %d: %s", l.line, l.msg)
	case l.line == 0:
		return fmt.Sprintf("%s: %s", l.path, l.msg)
	}
	return fmt.Sprintf("line %d: %s: %s", l.line, l.path, l.msg)
}

// locateErrors rewrites an error of yaml.UnmarshalStrict(data, &Config{}) so that each problem names its
// field path and line: "line 4: projects[0].discovery.cts.enable: unknown field (valid: ...)". yaml.v2
// gives type errors a line but no path, and the errors of custom unmarshalers (durations, URLs,
// prometheus/common's TLS settings) neither; both are looked up in a yaml.v3 parse of the same bytes.
func locateErrors(data []byte, err error) error {
	var doc yaml3.Node
	if yaml3.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return err // v2 parsed what v3 cannot: keep v2's words rather than guess
	}
	root := doc.Content[0]
	t := reflect.TypeFor[Config]()

	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		// A custom unmarshaler failed and stopped the decoder: find the value that fails on its own.
		if l, ok := failingValue(root, t); ok {
			l.msg = withoutQuoted(err.Error())
			return errors.New(l.String())
		}
		return errors.New(withoutQuoted(err.Error()))
	}
	msgs := make([]string, len(typeErr.Errors))
	for i, m := range typeErr.Errors {
		msgs[i] = locateTypeError(root, t, typeSuffix.ReplaceAllString(m, "")).String()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// quotedRE matches the quoted text of an unmarshaler's message: `time: invalid duration "1x"`, a URL.
var quotedRE = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`|'[^']*'")

// withoutQuoted replaces each quoted value of msg by <value>: the messages of prometheus/common's types
// and of time and net/url quote what they could not parse, which may be a secret on the wrong line.
func withoutQuoted(msg string) string {
	return quotedRE.ReplaceAllString(msg, "<value>")
}

func locateTypeError(root *yaml3.Node, t reflect.Type, m string) located {
	if g := unknownFieldRE.FindStringSubmatch(m); g != nil {
		line, _ := strconv.Atoi(g[1])
		if l, fields, ok := findKey(root, t, line, g[2]); ok {
			l.msg = "unknown field"
			if len(fields) > 0 {
				l.msg += " (valid: " + strings.Join(fields, ", ") + ")"
			}
			return l
		}
		return located{line: line, msg: fmt.Sprintf("unknown field %s", g[2])}
	}
	// A key set twice, in a struct or in a map: the same place to find, different words without one.
	for _, d := range []struct {
		re       *regexp.Regexp
		fallback string
	}{{duplicateRE, "field %s set twice"}, {duplicateMapRE, "key %q set twice"}} {
		if g := d.re.FindStringSubmatch(m); g != nil {
			line, _ := strconv.Atoi(g[1])
			if l, _, ok := findKey(root, t, line, g[2]); ok {
				l.msg = "set twice"
				return l
			}
			return located{line: line, msg: fmt.Sprintf(d.fallback, g[2])}
		}
	}
	if g := cannotDecodeRE.FindStringSubmatch(m); g != nil {
		line, _ := strconv.Atoi(g[1])
		// The value itself is never quoted: a secret put on the wrong line would be shown in the log, and
		// in the answer of /-/reload (issue 22).
		msg := fmt.Sprintf("expected %s, got %s", kindWords(g[4]), tagWords(g[2]))
		if l, ok := findValue(root, t, line, g[2], g[3]); ok {
			l.msg = msg
			return l
		}
		return located{line: line, msg: msg}
	}
	return located{msg: m}
}

// kindWords says in YAML's terms what a Go type named in a yaml.v2 message expects.
func kindWords(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "config."), strings.HasPrefix(goType, "*config."):
		return "a mapping"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	}
	return "a string"
}

func tagWords(tag string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	}
	return "a string"
}

// child is one value below a mapping or list, with the Go type it decodes into (nil for a key the type
// does not know) and, below a struct, the keys that struct accepts.
type child struct {
	key, val *yaml3.Node
	typ      reflect.Type
	path     string
	fields   []string
}

// children lists the values directly below n, which decodes into t.
func children(n *yaml3.Node, t reflect.Type, path string) []child {
	for n.Kind == yaml3.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return nil
	}
	var out []child
	switch {
	case n.Kind == yaml3.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		slices.SortFunc(names, func(a, b string) int { return fields[a].index - fields[b].index })
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var ft reflect.Type
			if f, ok := fields[k.Value]; ok {
				ft = f.typ
			}
			out = append(out, child{k, v, ft, join(path, k.Value), names})
		}
	case n.Kind == yaml3.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			out = append(out, child{k, v, t.Elem(), join(path, k.Value), nil})
		}
	case n.Kind == yaml3.SequenceNode && t.Kind() == reflect.Slice:
		for i, v := range n.Content {
			out = append(out, child{nil, v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), nil})
		}
	}
	return out
}

// visit calls fn for every value of the document, depth first, until fn returns true.
func visit(n *yaml3.Node, t reflect.Type, path string, fn func(c child) bool) bool {
	for _, c := range children(n, t, path) {
		if fn(c) || visit(c.val, c.typ, c.path, fn) {
			return true
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

type yamlField struct {
	typ   reflect.Type
	index int // declaration order, so "valid:" lists read like the docs
}

// yamlFields maps the YAML keys of struct t to their types, with inline structs flattened.
func yamlFields(t reflect.Type) map[string]yamlField {
	out := map[string]yamlField{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			name, opts, _ := strings.Cut(tag, ",")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
				add(f.Type)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			out[name] = yamlField{f.Type, len(out)}
		}
	}
	add(t)
	return out
}

// findKey finds the key named name on line, and the keys its mapping accepts.
func findKey(root *yaml3.Node, t reflect.Type, line int, name string) (located, []string, bool) {
	var l located
	var fields []string
	found := visit(root, t, "", func(c child) bool {
		if c.key != nil && c.key.Line == line && c.key.Value == name {
			l, fields = located{path: c.path, line: line}, c.fields
			return true
		}
		return false
	})
	return l, fields, found
}

// findValue finds the value on line that yaml.v2 could not decode: tag is its YAML tag and prefix its
// text, which yaml.v2 shortens to 7 characters and "..." past 10.
func findValue(root *yaml3.Node, t reflect.Type, line int, tag, text string) (located, bool) {
	prefix := strings.TrimSuffix(text, "...")
	var l located
	found := visit(root, t, "", func(c child) bool {
		v := c.val
		if v.Line != line {
			return false
		}
		switch {
		case tag == "!!map" && v.Kind == yaml3.MappingNode,
			tag == "!!seq" && v.Kind == yaml3.SequenceNode,
			v.Kind == yaml3.ScalarNode && strings.HasPrefix(v.Value, prefix):
			l = located{path: c.path, line: line}
			return true
		}
		return false
	})
	return l, found
}

// failingValue finds the deepest value whose Go type has its own UnmarshalYAML and that fails to decode
// on its own: the cause of a custom unmarshaler's error, which yaml.v2 reports without any position.
func failingValue(root *yaml3.Node, t reflect.Type) (located, bool) {
	var l located
	var deepest func(n *yaml3.Node, t reflect.Type, path string) bool
	deepest = func(n *yaml3.Node, t reflect.Type, path string) bool {
		// Children first: a bad duration inside a cts block is the duration's fault, not the block's.
		for _, c := range children(n, t, path) {
			if c.typ != nil && deepest(c.val, c.typ, c.path) {
				return true
			}
		}
		if path == "" {
			return false
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if !reflect.PointerTo(t).Implements(v2UnmarshalerType) {
			return false
		}
		b, err := yaml3.Marshal(n)
		if err != nil {
			return false
		}
		err = yaml.Unmarshal(b, reflect.New(t).Interface())
		var typeErr *yaml.TypeError
		if err == nil || errors.As(err, &typeErr) {
			return false
		}
		l = located{path: path, line: n.Line}
		return true
	}
	return l, deepest(root, t, "")
}
