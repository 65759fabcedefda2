// Command bench takes the measurements scripts/bench.sh prints; the script
// builds the binaries, starts the processes and calls it. Subcommands:
//
//	bench rounds    interleaved throughput rounds of hey and wrk against
//	                several targets, with ratios to the ceiling measured in
//	                the same round, latency, CPU per request and load average
//	bench coldstart process start to the first 200, median of n starts,
//	                several executables interleaved
//	bench rss       resident memory of a process after each step of requests
//
// Test tooling only; never deployed. BENCHMARKS.md describes the method.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench rounds|coldstart|rss [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "rounds":
		err = roundsCmd(os.Args[2:])
	case "coldstart":
		err = coldstartCmd(os.Args[2:])
	case "rss":
		err = rssCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
