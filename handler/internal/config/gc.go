package config

import "strconv"

// The Go runtime's own settings, set as app settings like the rest.
// GOMEMLIMIT is read by the runtime alone (a malformed value stops the
// process before main with the runtime's message); GOGC is validated here
// because the runtime silently ignores a malformed one.
const (
	EnvGOGC       = "GOGC"
	EnvGOMEMLIMIT = "GOMEMLIMIT"
)

// DefaultGCPercent is the handler's GOGC when the setting is absent. Go's
// default, 100, keeps this small heap at the runtime's 4 MB floor, where
// the collector runs about a dozen times per 1,000 MCP requests and takes a
// seventh of the CPU; 200 halves how often it runs for a few MB more of
// resident memory. BENCHMARKS.md has the figures for 100, 150, 200 and 300.
const DefaultGCPercent = 200

// gcPercent reads GOGC: a positive integer, or "off" (-1) as the runtime
// spells it. Off is only sensible with GOMEMLIMIT, which Bicep sets.
func gcPercent(get func(string, string) string, bad func(string, string, ...any)) int {
	v := get(EnvGOGC, "")
	switch {
	case v == "":
		return DefaultGCPercent
	case v == "off":
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		bad(EnvGOGC, "%q is not a positive integer or off", v)
		return DefaultGCPercent
	}
	return n
}
