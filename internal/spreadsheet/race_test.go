//go:build race

package spreadsheet_test

// slowdown scales the time limits of tests: the race detector makes this code
// several times slower.
const slowdown = 10
