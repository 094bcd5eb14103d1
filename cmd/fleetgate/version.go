package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// Set at build time: go build -ldflags "-X main.version=v1.2.0 -X main.commit=abc123"
// (make build does). Without them the commit comes from the build
// information Go records in a git checkout.
var (
	version = ""
	commit  = ""
)

// versionInfo returns the version and the commit ("" when unknown); a
// commit built from a changed work tree ends in "+modified".
func versionInfo() (v, c string) {
	v, c = version, commit
	bi, ok := debug.ReadBuildInfo()
	if v == "" {
		v = "dev"
		if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	if c == "" && ok {
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				c = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if c != "" && modified {
			c += "+modified"
		}
	}
	return v, c
}

// versionLine is what --version prints.
func versionLine() string {
	v, c := versionInfo()
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("fleetgate %s (commit %s)", v, c)
}

func runVersion(_ context.Context, c *cli) error {
	_, err := fmt.Fprintln(c.out, versionLine())
	return err
}
