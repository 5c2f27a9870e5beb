//go:build !race

package spreadsheet_test

// slowdown scales the time limits of tests (see race_test.go).
const slowdown = 1
