package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// coldstartCmd starts each executable n times, interleaved, the way the
// Functions host starts a custom handler (FUNCTIONS_CUSTOMHANDLER_PORT set,
// the rest of the environment inherited), and measures process start to
// the first 200 on path. It prints each executable's median and the
// difference to the first one's.
func coldstartCmd(args []string) error {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	n := fs.Int("n", 20, "starts per executable")
	path := fs.String("path", "/.well-known/oauth-protected-resource/mcp", "path polled until it answers 200")
	poll := fs.Duration("poll", 250*time.Microsecond, "pause between polls")
	if err := fs.Parse(args); err != nil {
		return err
	}
	type exe struct{ name, path string }
	var exes []exe
	for _, a := range fs.Args() {
		name, p, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("argument %q: want name=executable", a)
		}
		exes = append(exes, exe{name, p})
	}
	if len(exes) == 0 {
		return fmt.Errorf("no executables")
	}
	times := make([][]float64, len(exes))
	for i := 0; i < *n; i++ {
		for j := range exes {
			k := (j + i) % len(exes) // alternate which one starts first
			d, err := startOnce(exes[k].path, *path, *poll)
			if err != nil {
				return fmt.Errorf("%s: %w", exes[k].name, err)
			}
			times[k] = append(times[k], ms(d))
		}
	}
	base := median(times[0])
	for j, e := range exes {
		m := median(times[j])
		fmt.Printf("cold start %-12s median %6.1f ms  min %6.1f  max %6.1f  (%d starts)  %+.1f ms vs %s\n",
			e.name, m, minOf(times[j]), maxOf(times[j]), len(times[j]), m-base, exes[0].name)
	}
	return nil
}

func startOnce(exe, path string, poll time.Duration) (time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "FUNCTIONS_CUSTOMHANDLER_PORT="+port)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	url := "http://127.0.0.1:" + port + path
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		if time.Since(start) > 10*time.Second {
			return 0, fmt.Errorf("no 200 on %s after 10 s (last error %v)\n%s", path, err, stderr.String())
		}
		time.Sleep(poll)
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	_, port, err := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close() // only its port was wanted; a close error changes nothing
	return port, err
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
