//go:build race

package db

// raceOn says the race detector is on: the property tests then run fewer
// random rounds (each costs several times more under the detector); a
// run without -race keeps the full number.
const raceOn = true
