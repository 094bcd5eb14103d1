// Package static holds the console's hand-written CSS and script and the
// vendored htmx, embedded into the binary.
//
// Each file is also served under a content-hashed name (app.3f2a9c1b.css,
// computed at start from the embedded bytes), which pages reference
// through Path: a browser may keep such a file for good, and a new
// release changes the name of every file whose bytes changed.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

// FS holds the files served under /static/.
//
//go:embed *.css *.js *.svg
var FS embed.FS

var (
	hashed   = map[string]string{} // "app.css" -> "app.3f2a9c1b.css"
	original = map[string]string{} // "app.3f2a9c1b.css" -> "app.css"
)

func init() {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := FS.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		name := hashedName(e.Name(), hex.EncodeToString(sum[:4]))
		hashed[e.Name()], original[name] = name, e.Name()
	}
}

// hashedName puts the hash before the last extension: htmx.min.js
// becomes htmx.min.<hash>.js.
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// Path is the address of an embedded file under its content-hashed name,
// e.g. Path("app.css") = "/static/app.3f2a9c1b.css". An unknown name
// keeps its plain address.
func Path(name string) string {
	if h, ok := hashed[name]; ok {
		return "/static/" + h
	}
	return "/static/" + name
}

// Original is the embedded file a content-hashed name stands for.
func Original(hashedName string) (string, bool) {
	n, ok := original[hashedName]
	return n, ok
}
