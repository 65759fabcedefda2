package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Instance is one handler process.
type Instance struct {
	// Name is the instance's letter (A, B, C, …); URL where it listens.
	Name, URL string
	// Pid is the process id (for its resident memory in /proc).
	Pid int

	url        *url.URL
	cmd        *exec.Cmd
	done       chan struct{} // closed when the process has exited
	exitErr    error
	inRotation bool
	inFlight   atomic.Int64 // requests the front is proxying to it
}

// Start starts instance i (again, if it ran before: drain and stop it
// first) with env added to the cluster's, on a fresh port, waits until it
// answers /healthz and puts it in rotation.
func (c *Cluster) Start(ctx context.Context, i int, env ...string) error {
	name := string(rune('A' + i))
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(c.opts.Handler)
	cmd.Env = append(append(append([]string(nil), c.env...), env...), "PORT="+strconv.Itoa(port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cluster: start %s: %w", name, err)
	}
	u := &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	in := &Instance{Name: name, URL: u.String(), Pid: cmd.Process.Pid, url: u, cmd: cmd, done: make(chan struct{})}
	go func() {
		copyLines(c.opts.Logs, name, out)
		in.exitErr = cmd.Wait()
		close(in.done)
	}()
	if err := in.waitReady(ctx, 20*time.Second); err != nil {
		_, _ = in.Stop(time.Second)
		return fmt.Errorf("cluster: %s: %w", name, err)
	}
	c.mu.Lock()
	in.inRotation = true
	c.insts[i] = in
	c.mu.Unlock()
	return nil
}

// waitReady polls /healthz until it answers 200.
func (in *Instance) waitReady(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.URL+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-in.done:
			return fmt.Errorf("exited before it was ready: %v", in.exitErr)
		case <-ctx.Done():
			return errNotReady
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM, as the platform does when it removes an instance,
// and waits for the process to exit; after timeout it kills it. It returns
// how long the exit took and the process's exit error (nil: exit status 0).
func (in *Instance) Stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	select {
	case <-in.done:
		return 0, in.exitErr
	default:
	}
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, err
	}
	select {
	case <-in.done:
		return time.Since(start), in.exitErr
	case <-time.After(timeout):
		_ = in.cmd.Process.Kill()
		<-in.done
		return time.Since(start), fmt.Errorf("cluster: %s did not exit within %v of SIGTERM", in.Name, timeout)
	}
}

// Exited reports whether the process has exited.
func (in *Instance) Exited() bool {
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}

// copyLines copies r to w line by line, each prefixed with name.
func copyLines(w io.Writer, name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		_, _ = fmt.Fprintf(w, "%s| %s\n", name, sc.Text()) // best effort, like every log line
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}
