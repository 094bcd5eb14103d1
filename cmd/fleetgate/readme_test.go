package main

import (
	"os"
	"strings"
	"testing"
)

// readmeRow is the line of README's flag table for one flag: flag,
// environment variable, default and meaning, as --help gives them.
func readmeRow(b *binding) string {
	def := ""
	if b.def != "" {
		def = "`" + b.def + "`"
	}
	return "| `--" + b.name + "` | `" + b.env + "` | " + def + " | " + b.usage + " |"
}

// readmeSection returns the lines of README.md's section "Running it yourself".
func readmeSection(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "\n## Running it yourself\n")
	if !ok {
		t.Fatal(`README.md has no section "## Running it yourself"`)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	return strings.Split(section, "\n")
}

// TestReadmeFlagTable: README's table of flags is serve's flags exactly,
// in order, with the variable, default and meaning --help shows; the flags
// of the other commands are named in the same section with their variable.
func TestReadmeFlagTable(t *testing.T) {
	t.Parallel()
	lines := readmeSection(t)
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| `--") {
			rows = append(rows, l)
		}
	}
	f := newFlags("serve", mapEnv(nil))
	serveFlags(f)
	var want []string
	for _, b := range f.list {
		want = append(want, readmeRow(b))
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("README's flag table differs from serve's flags; the rows should be:\n| flag | environment | default | meaning |\n|---|---|---|---|\n%s\n\nREADME has:\n%s",
			strings.Join(want, "\n"), strings.Join(rows, "\n"))
	}
	section := strings.Join(lines, "\n")
	for _, c := range commands {
		if !strings.Contains(section, "fleetgate "+c.name) {
			t.Errorf("README's section does not show the command %s", c.name)
		}
		g := newFlags(c.name, mapEnv(nil))
		c.flags(g)
		for _, b := range g.list {
			if !strings.Contains(section, "`--"+b.name+"`") || !strings.Contains(section, "`"+b.env+"`") {
				t.Errorf("README's section does not name %s's flag --%s with %s", c.name, b.name, b.env)
			}
		}
	}
}
