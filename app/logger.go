package app

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	slgk "github.com/tjhop/slog-gokit"
)

// NewLoggers builds the one go-kit logger of the process and the slog bridge exporter-toolkit needs, so
// both write one stream in one format at one level.
func NewLoggers(w io.Writer, lvl, format string) (log.Logger, *slog.Logger) {
	var logger log.Logger
	if format == "json" {
		logger = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		logger = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	var opt level.Option
	var slvl slog.Level
	switch lvl {
	case "debug":
		opt, slvl = level.AllowDebug(), slog.LevelDebug
	case "warn":
		opt, slvl = level.AllowWarn(), slog.LevelWarn
	case "error":
		opt, slvl = level.AllowError(), slog.LevelError
	default:
		opt, slvl = level.AllowInfo(), slog.LevelInfo
	}
	// ts and caller are bound below the level filter, so that lines read "ts=... caller=... level=info
	// msg=..." like every Prometheus exporter's; depth 5 skips the filter and level wrappers.
	// The slog bridge (for exporter-toolkit) adds its own level, caller and time; classicLine puts them in
	// the same order and shape, so a grep for ts= or a logfmt parser sees one kind of line.
	slogger := slog.New(slgk.NewGoKitHandler(level.NewFilter(classicLine(logger), opt), slvl))
	logger = log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.Caller(5))
	logger = level.NewFilter(logger, opt)
	return logger, slogger
}

// classicLine rewrites the bridge's "level caller time msg ..." into "ts caller level msg ...", with the
// time in UTC like log.DefaultTimestampUTC.
func classicLine(next log.Logger) log.Logger {
	return log.LoggerFunc(func(kv ...any) error {
		var ts, caller, lvl []any
		rest := make([]any, 0, len(kv))
		for i := 0; i+1 < len(kv); i += 2 {
			switch fmt.Sprint(kv[i]) {
			case slog.TimeKey:
				v := kv[i+1]
				if t, ok := v.(time.Time); ok {
					v = t.UTC().Format(time.RFC3339Nano)
				}
				ts = []any{"ts", v}
			case "caller":
				caller = kv[i : i+2]
			case "level":
				lvl = kv[i : i+2]
			default:
				rest = append(rest, kv[i], kv[i+1])
			}
		}
		if len(kv)%2 == 1 {
			rest = append(rest, kv[len(kv)-1])
		}
		out := make([]any, 0, len(kv))
		out = append(append(append(append(out, ts...), caller...), lvl...), rest...)
		return next.Log(out...)
	})
}
