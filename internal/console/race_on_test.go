//go:build race

package console_test

// raceEnabled: the race detector slows the browser tests several times over, and
// finds nothing in a test that only reads pages.
const raceEnabled = true
