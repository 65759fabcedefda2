package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cluster"
)

// memory samples each instance's resident set (VmRSS in /proc/<pid>/status,
// Linux) while the load runs: before it, at the end of every minute of it,
// at its end, and the highest seen.
type memory struct {
	c     *cluster.Cluster
	stopc chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	samples []map[string]int64 // kB by instance name: before, each minute, the end
	max     map[string]int64
}

func watchMemory(c *cluster.Cluster, every time.Duration) *memory {
	m := &memory{c: c, stopc: make(chan struct{}), max: map[string]int64{}}
	m.sample(true)
	start := time.Now()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		minutes := 0
		for {
			select {
			case <-m.stopc:
				return
			case <-t.C:
				full := time.Since(start) >= time.Duration(minutes+1)*time.Minute
				if full {
					minutes++
				}
				m.sample(full)
			}
		}
	}()
	return m
}

// sample reads every instance's VmRSS into max and, if keep, into a new
// sample.
func (m *memory) sample(keep bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	got := map[string]int64{}
	for _, in := range m.c.Instances() {
		kb := rss(in.Pid)
		got[in.Name] = kb
		m.max[in.Name] = max(m.max[in.Name], kb)
	}
	if keep {
		m.samples = append(m.samples, got)
	}
}

func (m *memory) stop() {
	close(m.stopc)
	m.wg.Wait()
	m.sample(true)
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

func (m *memory) print(out *printer, goroutines map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out.printf("instances (resident memory before the load, after each minute, at the end; highest; goroutines at the end):\n")
	for _, in := range m.c.Instances() {
		var series []string
		for _, s := range m.samples {
			series = append(series, fmt.Sprintf("%.1f", float64(s[in.Name])/1024))
		}
		g := "?"
		if n, ok := goroutines[in.Name]; ok {
			g = strconv.Itoa(n)
		}
		out.printf("  %s: %s MB; max %.1f MB; goroutines %s\n", in.Name, strings.Join(series, " → "), float64(m.max[in.Name])/1024, g)
	}
}

// dumps passes the instances' output on to w and counts the goroutines
// in a stack dump, by instance: lines "<name>| goroutine <n> [<state>]:".
type dumps struct {
	w      io.Writer
	mu     sync.Mutex
	counts map[string]int
}

func (d *dumps) Write(p []byte) (int, error) {
	if name, rest, ok := strings.Cut(string(p), "| "); ok && strings.HasPrefix(rest, "goroutine ") && strings.Contains(rest, " [") {
		d.mu.Lock()
		d.counts[name]++
		d.mu.Unlock()
	}
	return d.w.Write(p)
}

// countGoroutines asks every instance for a stack dump of all its
// goroutines (SIGQUIT with GOTRACEBACK=all, which also ends it) and
// returns how many each had.
func countGoroutines(c *cluster.Cluster, d *dumps) map[string]int {
	for _, in := range c.Instances() {
		_ = syscall.Kill(in.Pid, syscall.SIGQUIT)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, in := range c.Instances() {
		for !in.Exited() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.counts {
		out[k] = v
	}
	return out
}
