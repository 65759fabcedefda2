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
// Linux) while the load runs: before it, after its first minute (warm:
// caches filled, pools grown), at the end, and the highest seen.
type memory struct {
	c     *cluster.Cluster
	start time.Time
	stopc chan struct{}
	wg    sync.WaitGroup

	mu                     sync.Mutex
	before, warm, end, max map[string]int64 // kB, by instance name
}

func watchMemory(c *cluster.Cluster, every time.Duration) *memory {
	m := &memory{c: c, start: time.Now(), stopc: make(chan struct{}),
		before: map[string]int64{}, warm: map[string]int64{}, end: map[string]int64{}, max: map[string]int64{}}
	m.sample(m.before)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stopc:
				return
			case <-t.C:
				if len(m.warm) == 0 && time.Since(m.start) >= time.Minute {
					m.sample(m.warm)
				} else {
					m.sample(nil)
				}
			}
		}
	}()
	return m
}

// sample reads every instance's VmRSS into into (if not nil) and max.
func (m *memory) sample(into map[string]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range m.c.Instances() {
		kb := rss(in.Pid)
		if into != nil {
			into[in.Name] = kb
		}
		m.max[in.Name] = max(m.max[in.Name], kb)
	}
}

func (m *memory) stop() {
	close(m.stopc)
	m.wg.Wait()
	m.sample(m.end)
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
	mb := func(kb int64) string {
		if kb == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f MB", float64(kb)/1024)
	}
	out.printf("instances (resident memory: before the load, after its first minute, at the end, highest; goroutines at the end):\n")
	for _, in := range m.c.Instances() {
		g := "?"
		if n, ok := goroutines[in.Name]; ok {
			g = strconv.Itoa(n)
		}
		out.printf("  %s: %s, %s, %s, max %s; goroutines %s\n", in.Name,
			mb(m.before[in.Name]), mb(m.warm[in.Name]), mb(m.end[in.Name]), mb(m.max[in.Name]), g)
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
