package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// request is what every load run sends: the same POST to every target.
type request struct {
	Body    string
	Headers []string // "Name: value"
}

// result is one load run as the load tool reported it.
type result struct {
	Requests int           // answers received (any status)
	Errors   int           // non-2xx answers plus transport errors
	RPS      float64       // requests per second
	P50, P99 time.Duration // latency percentiles
}

// loadTool runs one load run against url.
type loadTool interface {
	Name() string
	Run(url string, req request, d time.Duration) (result, string, error)
}

type hey struct {
	exe   string
	conns int
	dir   string
}

func (h hey) Name() string { return "hey" }

// Run posts for duration d (-z) with h.conns workers, each on its own
// keep-alive connection.
func (h hey) Run(url string, req request, d time.Duration) (result, string, error) {
	return h.run(url, req, "-z", d.String())
}

// RunN posts exactly n requests.
func (h hey) RunN(url string, req request, n int) (result, string, error) {
	return h.run(url, req, "-n", strconv.Itoa(n))
}

func (h hey) run(url string, req request, limit ...string) (result, string, error) {
	body := filepath.Join(h.dir, "body.json")
	if err := os.WriteFile(body, []byte(req.Body), 0o600); err != nil {
		return result{}, "", err
	}
	args := append(limit, "-c", strconv.Itoa(h.conns), "-m", "POST", "-D", body)
	for _, hd := range req.Headers {
		args = append(args, "-H", hd)
	}
	out, err := exec.Command(h.exe, append(args, url)...).CombinedOutput()
	if err != nil {
		return result{}, string(out), fmt.Errorf("hey: %v", err)
	}
	r, err := parseHey(string(out))
	return r, string(out), err
}

type wrk struct {
	exe            string
	conns, threads int
	dir            string
}

func (w wrk) Name() string { return "wrk" }

func (w wrk) Run(url string, req request, d time.Duration) (result, string, error) {
	script := filepath.Join(w.dir, "post.lua")
	if err := os.WriteFile(script, []byte(wrkScript(req)), 0o600); err != nil {
		return result{}, "", err
	}
	secs := strconv.Itoa(int(d.Round(time.Second) / time.Second))
	out, err := exec.Command(w.exe, "-t", strconv.Itoa(w.threads), "-c", strconv.Itoa(w.conns),
		"-d", secs+"s", "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		return result{}, string(out), fmt.Errorf("wrk: %v", err)
	}
	r, err := parseWrk(string(out))
	return r, string(out), err
}

// wrkScript is the Lua that makes every wrk request the same POST. Long
// brackets quote the body and headers without escaping.
func wrkScript(req request) string {
	var b strings.Builder
	b.WriteString("wrk.method = \"POST\"\n")
	fmt.Fprintf(&b, "wrk.body = [==[%s]==]\n", req.Body)
	for _, h := range req.Headers {
		name, value, _ := strings.Cut(h, ":")
		fmt.Fprintf(&b, "wrk.headers[ [==[%s]==] ] = [==[%s]==]\n", strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return b.String()
}

var (
	heyRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	heyPct     = regexp.MustCompile(`(?m)^\s+(50|99)% in ([0-9.]+) secs`)
	heyStatus  = regexp.MustCompile(`(?m)^\s+\[(\d{3})\]\s+(\d+) responses`)
	heyErrLine = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\s+\S`)
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkTotal   = regexp.MustCompile(`(\d+) requests in`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseHey reads hey's text report (github.com/rakyll/hey).
func parseHey(out string) (result, error) {
	var r result
	m := heyRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("hey: no Requests/sec in its report")
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range heyPct.FindAllStringSubmatch(out, -1) {
		secs, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(secs * float64(time.Second))
		if m[1] == "50" {
			r.P50 = d
		} else {
			r.P99 = d
		}
	}
	for _, m := range heyStatus.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		r.Requests += n
		if !strings.HasPrefix(m[1], "2") {
			r.Errors += n
		}
	}
	// Transport errors are listed after "Error distribution:", one line each.
	if _, errs, ok := strings.Cut(out, "Error distribution:"); ok {
		sc := bufio.NewScanner(strings.NewReader(errs))
		for sc.Scan() {
			if m := heyErrLine.FindStringSubmatch(sc.Text()); m != nil {
				n, _ := strconv.Atoi(m[1])
				r.Errors += n
			}
		}
	}
	if r.Requests == 0 && r.Errors == 0 {
		return r, fmt.Errorf("hey: no answers and no errors in its report")
	}
	return r, nil
}

// parseWrk reads wrk's report as printed with --latency.
func parseWrk(out string) (result, error) {
	var r result
	m := wrkRPS.FindStringSubmatch(out)
	t := wrkTotal.FindStringSubmatch(out)
	if m == nil || t == nil {
		return r, fmt.Errorf("wrk: no Requests/sec or request count in its report")
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	r.Requests, _ = strconv.Atoi(t[1])
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(v * float64(unit[m[3]]))
		if m[1] == "50" {
			r.P50 = d
		} else {
			r.P99 = d
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.Errors += n
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.Errors += n
		}
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("wrk: no answers")
	}
	return r, nil
}
