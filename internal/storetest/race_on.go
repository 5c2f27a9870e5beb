//go:build race

package storetest

// raceDetector: this binary was built with -race.
const raceDetector = true
