// Command soak runs the handler as a scaled-out app for a while under a
// mixed load on loopback and reports what a long run shows and a test does
// not (issue 11; scripts/soak.sh runs it): several handler processes on one
// Table Storage account (Azurite) behind one URL (package cluster), users
// signing in with nobody at the browser (package headless), calling tools
// and refreshing, clients registering, metadata being read. At the end it
// prints requests by endpoint and status, the 5xx count, lost grants (a
// signed-in user whose tokens stopped working before they expired), each
// instance's resident memory over the run and its goroutines, and exits
// non-zero when any 5xx, lost grant or failed sign-in occurred.
//
// It is a development tool, never deployed; TestDeps keeps what it uses
// out of the handler binary.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

type config struct {
	handler   string
	storage   string
	instances int
	duration  time.Duration
	users     int
	think     time.Duration
	logs      string
}

func run(ctx context.Context, args []string, out io.Writer) (bool, error) {
	var cfg config
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.StringVar(&cfg.handler, "handler", "", "the handler binary (go build ./handler)")
	fs.StringVar(&cfg.storage, "storage", os.Getenv("AZURE_TABLES_TEST_CONNECTION"), "Table Storage connection string (Azurite's)")
	fs.IntVar(&cfg.instances, "instances", 3, "handler processes")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Minute, "how long the load runs")
	fs.IntVar(&cfg.users, "users", 6, "users signed in at a time, each calling tools and refreshing")
	fs.DurationVar(&cfg.think, "think", 20*time.Millisecond, "pause between a user's requests")
	fs.StringVar(&cfg.logs, "logs", "", "write the instances' output to this file")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	if cfg.handler == "" || cfg.storage == "" {
		return false, fmt.Errorf("-handler and -storage (or AZURE_TABLES_TEST_CONNECTION) are required")
	}
	logs := io.Discard
	if cfg.logs != "" {
		f, err := os.Create(cfg.logs)
		if err != nil {
			return false, err
		}
		defer func() { _ = f.Close() }() // the log is for reading after the run; a failed close loses its tail
		logs = f
	}
	d := &dumps{w: logs, counts: map[string]int{}}
	c, err := cluster.Start(ctx, cluster.Options{
		Handler: cfg.handler, Instances: cfg.instances, Storage: cfg.storage, Logs: d,
		Env: []string{
			"REGISTRATION_QUOTA=0", // every client comes from 127.0.0.1
			"LOG_LEVEL=warn",
			"GOTRACEBACK=all", // the goroutine count at the end reads SIGQUIT's dump
		},
	})
	if err != nil {
		return false, err
	}
	defer c.Close()
	(&printer{w: out}).printf("soak: %d instances behind %s, one Azurite table, %d users (%v between requests), %v\n",
		cfg.instances, c.URL, cfg.users, cfg.think, cfg.duration)

	s, err := newSoak(c, cfg.users, cfg.think)
	if err != nil {
		return false, err
	}
	mem := watchMemory(c, 10*time.Second)
	lctx, cancel := context.WithTimeout(ctx, cfg.duration)
	s.run(lctx)
	cancel()
	mem.stop()
	time.Sleep(2 * time.Second) // let idle connections and timers settle
	goroutines := countGoroutines(c, d)
	return s.report(out, mem, goroutines), nil
}
