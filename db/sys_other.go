//go:build !unix

package db

import "os"

func freeBytes(string) (uint64, bool) { return 0, false }

// flock is not available here: the lock file's presence is all there is.
func flock(*os.File) (bool, error) { return true, nil }

func sameOwner(string, os.FileInfo) {}
