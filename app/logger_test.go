package app

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/go-kit/log/level"
)

// Both loggers of the process, ours and the bridge exporter-toolkit logs through, must write the classic
// exporter line, or operators' log parsers see two kinds of line in one stream.
func TestLoggersWriteOneLineShape(t *testing.T) {
	classic := regexp.MustCompile(`^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z caller=logger_test\.go:\d+ level=(info|warn) msg=`)
	var buf bytes.Buffer
	logger, slogger := NewLoggers(&buf, "info", "logfmt")
	level.Info(logger).Log("msg", "from go-kit", "k", "v")
	slogger.Info("from slog", "address", "127.0.0.1:9999")
	slogger.Warn("with attrs", "n", 3)
	slogger.Debug("filtered out")
	level.Debug(logger).Log("msg", "filtered out too")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3 (debug filtered):\n%s", len(lines), buf.String())
	}
	for i, want := range []string{`msg="from go-kit" k=v`, `msg="from slog" address=127.0.0.1:9999`, `msg="with attrs" n=3`} {
		if !classic.MatchString(lines[i]) || !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d = %q, want ts= caller= level= ... ending %q", i, lines[i], want)
		}
	}
}

func TestLoggersJSON(t *testing.T) {
	var buf bytes.Buffer
	logger, slogger := NewLoggers(&buf, "debug", "json")
	level.Debug(logger).Log("msg", "a")
	slogger.Debug("b")
	dec := json.NewDecoder(&buf)
	for _, msg := range []string{"a", "b"} {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("line for %q is not JSON: %v", msg, err)
		}
		if m["msg"] != msg || m["level"] != "debug" || m["ts"] == nil || m["caller"] == nil || m["time"] != nil {
			t.Errorf("line for %q = %v, want msg, level=debug, ts and caller, and no time key", msg, m)
		}
	}
}
