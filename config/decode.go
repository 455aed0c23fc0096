package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// ErrEmpty is returned for a configuration with no content (nothing, only comments, or null).
var ErrEmpty = errors.New("empty config")

// Decode reads a configuration, strictly: unknown and duplicate keys are errors. Defaults apply to keys left
// out; the result is validated (and normalised, see Validate).
//
// Decoding is in two steps over one parse. check walks yaml.v3's node tree beside the Go types and
// reports every problem with its field path and line, in the user's words ("line 6:
// projects[0].discovery.cts.intervall: unknown field (valid: ...)"), since yaml.v3's own errors carry
// Go type names and no path. Only a document that passes is decoded, by yaml.v3 with KnownFields: the
// same rules, enforced by the library too in case check has a gap. prometheus/common's types (Secret,
// URL, TLSConfig, model.Duration) implement yaml.v2's UnmarshalYAML(func(any) error), which yaml.v3
// still calls (its "obsolete unmarshaler"); TestLoadGood and TestStringHidesSecrets hold us to that.
func Decode(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == nullTag {
		return nil, ErrEmpty
	}
	var ch checker
	ch.value(doc.Content[0], reflect.TypeFor[Config](), "")
	if len(ch.problems) > 0 {
		return nil, errors.New(strings.Join(ch.problems, "; "))
	}
	c := defaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// String is the configuration as YAML with every secret shown as <secret>, for the /config page.
func (c *Config) String() string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2) // the indent of the examples in README and of most Prometheus configs
	if err := enc.Encode(c); err != nil {
		return fmt.Sprintf("<error marshalling config: %s>", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Sprintf("<error marshalling config: %s>", err)
	}
	return b.String()
}

const (
	nullTag  = "!!null"
	mergeTag = "!!merge"
)

var (
	// The two UnmarshalYAML signatures yaml.v3 honours: its own and yaml.v2's.
	unmarshalerType   = reflect.TypeFor[yaml.Unmarshaler]()
	v2UnmarshalerType = reflect.TypeFor[interface {
		UnmarshalYAML(unmarshal func(any) error) error
	}]()
)

// checker collects the problems of a document, each as "line N: path: what is wrong".
type checker struct {
	problems []string
	// aliased are the anchored values already checked as a type: each is checked once, under the path
	// of its first alias, which keeps a "billion laughs" document linear and a self-referring one finite.
	aliased map[aliasUse]bool
}

type aliasUse struct {
	n *yaml.Node
	t reflect.Type
}

func (ch *checker) addf(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	ch.problems = append(ch.problems, fmt.Sprintf("line %d: %s", n.Line, msg))
}

// value checks node n, which decodes into a value of type t at path.
func (ch *checker) value(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
		if ch.aliased[aliasUse{n, t}] {
			return
		}
		if ch.aliased == nil {
			ch.aliased = map[aliasUse]bool{}
		}
		ch.aliased[aliasUse{n, t}] = true
	}
	if n.ShortTag() == nullTag {
		return // null leaves the zero value (or the default), in yaml.v3 as in yaml.v2
	}
	before := len(ch.problems)
	custom := reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(v2UnmarshalerType)
	switch {
	case t.Kind() == reflect.Interface:
		return
	case t.Kind() == reflect.Struct && (!custom || hasYAMLTags(t)):
		if n.Kind != yaml.MappingNode {
			ch.addf(n, path, "expected a mapping, got %s", nodeWords(n))
			return
		}
		ch.mapping(n, t, path)
		if !custom || len(ch.problems) > before {
			return
		}
	case t.Kind() == reflect.Map && !custom:
		if n.Kind != yaml.MappingNode {
			ch.addf(n, path, "expected a mapping, got %s", nodeWords(n))
			return
		}
		ch.mapping(n, t, path)
		return
	case t.Kind() == reflect.Slice && !custom:
		if n.Kind != yaml.SequenceNode {
			ch.addf(n, path, "expected a list, got %s", nodeWords(n))
			return
		}
		for i, v := range n.Content {
			ch.value(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
		return
	case !custom && n.Kind != yaml.ScalarNode:
		ch.addf(n, path, "expected %s, got %s", typeWords(t), nodeWords(n))
		return
	}
	// A scalar, or a value with its own UnmarshalYAML whose parts are fine: decode it alone, which runs
	// the type's own checks (a duration's syntax, TLSConfig's "at most one of ca, ca_file").
	err := n.Decode(reflect.New(t).Interface())
	var typeErr *yaml.TypeError
	switch {
	case err == nil:
	case errors.As(err, &typeErr):
		// The value itself is never quoted: a secret put on the wrong line would be shown in the log and
		// in the answer of /-/reload.
		ch.addf(n, path, "expected %s, got %s", typeWords(t), nodeWords(n))
	default:
		// The type's own words, e.g. not a valid duration string, with what it quotes left out.
		ch.addf(n, path, "%s", withoutQuoted(err.Error()))
	}
}

// mapping checks the keys and values of mapping n, which decodes into struct or map type t.
func (ch *checker) mapping(n *yaml.Node, t reflect.Type, path string) {
	var fields map[string]yamlField
	if t.Kind() == reflect.Struct {
		fields = yamlFields(t)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == mergeTag {
			// "<<: *defaults": the merged keys belong to this mapping and may be overridden here.
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					ch.value(m, t, path)
				}
			} else {
				ch.value(v, t, path)
			}
			continue
		}
		p := join(path, k.Value)
		if seen[k.Value] {
			ch.addf(k, p, "set twice")
			continue
		}
		seen[k.Value] = true
		if fields == nil {
			ch.value(v, t.Elem(), p)
			continue
		}
		f, ok := fields[k.Value]
		if !ok {
			ch.addf(k, p, "unknown field (valid: %s)", strings.Join(fieldNames(fields), ", "))
			continue
		}
		ch.value(v, f.typ, p)
	}
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

// yamlFields maps the YAML keys of struct t to their types, with inline structs flattened, by the rules
// of yaml.v3 (yaml.go, getStructInfo): the tag's name, else the lower-cased field name.
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

func fieldNames(fields map[string]yamlField) []string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return fields[a].index - fields[b].index })
	return names
}

// hasYAMLTags says whether struct t is decoded field by field (it names its keys in yaml tags), as
// opposed to a struct that stands for one scalar, like config.URL (a wrapped *url.URL).
func hasYAMLTags(t reflect.Type) bool {
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") != "" {
			return true
		}
	}
	return false
}

// typeWords says in YAML's terms what a value of Go type t must be.
func typeWords(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[model.Duration]():
		return "a duration"
	case reflect.TypeFor[config.URL]():
		return "a URL"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a string"
}

// quotedRE matches the quoted text of an unmarshaler's message: `time: invalid duration "1x"`, a URL.
var quotedRE = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`|'[^']*'")

// withoutQuoted replaces each quoted value of msg by <value>: the messages of prometheus/common's types
// and of time and net/url quote what they could not parse, which may be a secret on the wrong line.
func withoutQuoted(msg string) string {
	return quotedRE.ReplaceAllString(msg, "<value>")
}

// nodeWords says what node n is, in YAML's terms.
func nodeWords(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	switch n.ShortTag() {
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case nullTag:
		return "nothing"
	}
	return "a string"
}
