package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// rssCmd sends requests to one process in steps (hey -n) and prints its
// resident memory (VmRSS) and peak (VmHWM) after each step.
func rssCmd(args []string) error {
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	pid := fs.Int("pid", 0, "process to watch")
	url := fs.String("url", "", "URL to post to")
	steps := fs.String("steps", "100000,200000", "cumulative request counts after which memory is read")
	conns := fs.Int("c", 16, "connections")
	heyExe := fs.String("hey", "hey", "hey executable")
	bodyFile := fs.String("body", "", "file holding the request body")
	name := fs.String("name", "handler", "name to print")
	var headers listFlag
	fs.Var(&headers, "H", "request header \"Name: value\" (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory; leftovers are harmless
	h := hey{exe: *heyExe, conns: *conns, dir: dir}
	req := request{Body: string(body), Headers: headers}
	rss, err := statusKB(*pid, "VmRSS")
	if err != nil {
		return err
	}
	fmt.Printf("memory %-16s after %7d requests: resident %5.1f MB\n", *name, 0, mb(rss))
	done, errs := 0, 0
	for _, s := range strings.Split(*steps, ",") {
		total, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || total <= done {
			return fmt.Errorf("steps %q: want increasing counts", *steps)
		}
		r, out, err := h.RunN(*url, req, total-done)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
		done, errs = total, errs+r.Errors
		rss, err1 := statusKB(*pid, "VmRSS")
		hwm, err2 := statusKB(*pid, "VmHWM")
		if err1 != nil || err2 != nil {
			return fmt.Errorf("process %d: %v %v", *pid, err1, err2)
		}
		fmt.Printf("memory %-16s after %7d requests: resident %5.1f MB  peak %5.1f MB  errors %d  (%.0f req/s)\n",
			*name, done, mb(rss), mb(hwm), errs, r.RPS)
	}
	if errs > 0 {
		return fmt.Errorf("%d requests failed", errs)
	}
	return nil
}

func mb(kb int64) float64 { return float64(kb) / 1024 }
