//go:build !race

package db

// raceOn says the race detector is on (see race_on_internal_test.go).
const raceOn = false
