package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// target is one server under load: a name, its URL, its process id (for
// CPU per request).
type target struct {
	Name  string
	URL   string
	PID   int
	Token string // bearer token sent to it
}

// parseTarget reads name=pid@url.
func parseTarget(s string) (target, error) {
	name, rest, ok1 := strings.Cut(s, "=")
	pid, url, ok2 := strings.Cut(rest, "@")
	n, err := strconv.Atoi(pid)
	if !ok1 || !ok2 || err != nil || name == "" || url == "" {
		return target{}, fmt.Errorf("target %q: want name=pid@url", s)
	}
	return target{Name: name, URL: url, PID: n}, nil
}

type run struct {
	result
	CPUPerReq float64 // µs of server CPU per answered request
	Load      float64 // 1-minute load average when the run started
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func roundsCmd(args []string) error {
	fs := flag.NewFlagSet("rounds", flag.ContinueOnError)
	rounds := fs.Int("rounds", 5, "rounds; each runs every tool against every target once")
	dur := fs.Duration("duration", 10*time.Second, "length of each run")
	warmup := fs.Duration("warmup", 2*time.Second, "unrecorded hey run per target before the first round")
	conns := fs.Int("c", 16, "connections")
	threads := fs.Int("wrk-threads", 2, "wrk threads")
	tools := fs.String("tools", "hey,wrk", "load tools, comma-separated")
	heyExe := fs.String("hey", "hey", "hey executable")
	wrkExe := fs.String("wrk", "wrk", "wrk executable")
	bodyFile := fs.String("body", "", "file holding the request body")
	token := fs.String("token", "", "bearer token sent to every target (the same bytes on the wire for all)")
	var headers, targetSpecs, tokensFor listFlag
	fs.Var(&headers, "H", "request header \"Name: value\" (repeatable)")
	fs.Var(&targetSpecs, "target", "name=pid@url (repeatable); the first is the ceiling")
	fs.Var(&tokensFor, "token-for", "name=token: another bearer token for one target (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	own := map[string]string{}
	for _, s := range tokensFor {
		name, tok, _ := strings.Cut(s, "=")
		own[name] = tok
	}
	var targets []target
	for _, s := range targetSpecs {
		t, err := parseTarget(s)
		if err != nil {
			return err
		}
		t.Token = *token
		if tok, ok := own[t.Name]; ok {
			t.Token = tok
		}
		targets = append(targets, t)
	}
	if len(targets) < 2 {
		return errors.New("need a ceiling and at least one other target")
	}
	dir, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory; leftovers are harmless
	h := hey{exe: *heyExe, conns: *conns, dir: dir}
	req := func(t target) request {
		hs := slices.Clone(headers)
		if t.Token != "" {
			hs = append(hs, "Authorization: Bearer "+t.Token)
		}
		return request{Body: string(body), Headers: hs}
	}
	var runners []loadTool
	for _, name := range strings.Split(*tools, ",") {
		switch strings.TrimSpace(name) {
		case "hey":
			runners = append(runners, h)
		case "wrk":
			runners = append(runners, wrk{exe: *wrkExe, conns: *conns, threads: *threads, dir: dir})
		default:
			return fmt.Errorf("unknown load tool %q", name)
		}
	}

	if *warmup > 0 {
		for _, t := range targets {
			if r, out, err := h.Run(t.URL, req(t), *warmup); err != nil || r.Errors > 0 {
				return fmt.Errorf("warm-up of %s: %v, %d errors\n%s", t.Name, err, r.Errors, out)
			}
		}
	}
	tick := clockTicks()
	// runs[tool][target][round]
	runs := map[string]map[string][]run{}
	for _, lt := range runners {
		runs[lt.Name()] = map[string][]run{}
	}
	for round := 0; round < *rounds; round++ {
		for _, lt := range runners {
			// Rotate the order every round so no target always runs first
			// (or right after the heaviest one).
			for i := range targets {
				t := targets[(i+round)%len(targets)]
				r, err := measure(lt, t, req(t), *dur, tick)
				if err != nil {
					return err
				}
				runs[lt.Name()][t.Name] = append(runs[lt.Name()][t.Name], r)
				fmt.Printf("round %d %s %-16s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %6.1f µs CPU/req  errors %d  load %.2f\n",
					round+1, lt.Name(), t.Name, r.RPS, ms(r.P50), ms(r.P99), r.CPUPerReq, r.Errors, r.Load)
			}
		}
	}
	errs := 0
	for _, lt := range runners {
		errs += summarize(lt.Name(), *conns, *dur, *rounds, targets, runs[lt.Name()])
	}
	if errs > 0 {
		return fmt.Errorf("%d requests failed", errs)
	}
	return nil
}

// measure runs one load run and the server's CPU use during it.
func measure(lt loadTool, t target, req request, d time.Duration, tick float64) (run, error) {
	load := loadAverage()
	before, err := cpuTicks(t.PID)
	if err != nil {
		return run{}, fmt.Errorf("%s: %w", t.Name, err)
	}
	r, out, err := lt.Run(t.URL, req, d)
	if err != nil {
		return run{}, fmt.Errorf("%s against %s: %w\n%s", lt.Name(), t.Name, err, out)
	}
	after, err := cpuTicks(t.PID)
	if err != nil {
		return run{}, fmt.Errorf("%s: %w", t.Name, err)
	}
	cpu := float64(after-before) / tick * 1e6 / float64(max(r.Requests, 1))
	return run{result: r, CPUPerReq: cpu, Load: load}, nil
}

// summarize prints the medians over rounds; each ratio is taken within its
// round (target and ceiling measured minutes apart on a shared machine
// would compare the machine's load, not the servers).
// It returns the number of failed requests.
func summarize(tool string, conns int, d time.Duration, rounds int, targets []target, runs map[string][]run) int {
	fmt.Printf("\n== %s, %d connections, %s per run, median of %d interleaved rounds; ratio = req/s ÷ %s's req/s in the same round\n",
		tool, conns, d, rounds, targets[0].Name)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "target\treq/s\tratio\tp50 ms\tp99 ms\tCPU µs/req\terrors\trequests\tload avg")
	ceiling := runs[targets[0].Name]
	total := 0
	for _, t := range targets {
		rs := runs[t.Name]
		var rps, ratio, p50, p99, cpu, load []float64
		errs, reqs := 0, 0
		for i, r := range rs {
			rps = append(rps, r.RPS)
			ratio = append(ratio, r.RPS/ceiling[i].RPS)
			p50 = append(p50, ms(r.P50))
			p99 = append(p99, ms(r.P99))
			cpu = append(cpu, r.CPUPerReq)
			load = append(load, r.Load)
			errs += r.Errors
			reqs += r.Requests
		}
		_, _ = fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t%d\t%.2f–%.2f\n", t.Name, median(rps), median(ratio),
			median(p50), median(p99), median(cpu), errs, reqs, slices.Min(load), slices.Max(load))
		total += errs
	}
	if err := tw.Flush(); err != nil { // stdout gone: the figures are lost, say so
		fmt.Fprintln(os.Stderr, "bench: writing the summary:", err)
	}
	return total
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
