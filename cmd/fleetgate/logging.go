package main

import (
	"io"
	"log/slog"
)

// logOptions are the flags of the server log.
type logOptions struct {
	level, format string
}

// logFlags binds --log-level and --log-format.
func logFlags(f *flags, o *logOptions) {
	f.Choice(&o.level, "log-level", "FLEETGATE_LOG_LEVEL", "info", "write log lines of this level and above", "debug", "info", "warn", "error")
	f.Choice(&o.format, "log-format", "FLEETGATE_LOG_FORMAT", "text", "text (key=value) or json, one line per event", "text", "json")
}

// logger writes to w at the chosen level and format.
func (o logOptions) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(o.level))
	opts := &slog.HandlerOptions{Level: level}
	if o.format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
