package funchost

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as the custom handler executable: Start launches the
// test binary with FUNCHOST_TEST_HELPER set, the usual os/exec test trick.
func TestMain(m *testing.M) {
	switch os.Getenv("FUNCHOST_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "serve":
		helperServe()
	case "silent":
		helperSilent()
	case "crash":
		fmt.Fprintln(os.Stderr, "boom: PUBLIC_BASE_URL is not set")
		os.Exit(3)
	}
}

// helperServe listens late (to exercise the readiness wait), answers every
// path with "helper <path> <env>", and exits cleanly on SIGTERM.
func helperServe() {
	time.Sleep(300 * time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "helper %s %s", r.URL.Path, os.Getenv("APP_SETTING"))
	})}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "helper: SIGTERM")
		srv.Close()
	}()
	srv.Serve(ln)
	os.Exit(0)
}

// helperSilent accepts connections and never answers.
func helperSilent() {
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"))
	if err != nil {
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		// Keep it open and say nothing: referenced, so no finalizer
		// closes it.
		heldConns = append(heldConns, c)
	}
}

// heldConns are the connections the silent helper accepts and never answers.
var heldConns []net.Conn

func helperOptions(t *testing.T, mode string) Options {
	return Options{
		AppDir:      writeApp(t, testHostJSON, testFunctions),
		Executable:  os.Args[0],
		Env:         append(os.Environ(), "FUNCHOST_TEST_HELPER="+mode, "APP_SETTING=from-env"),
		StopTimeout: 2 * time.Second,
	}
}

// startBackend runs Start in front of an httptest backend.
func startBackend(t *testing.T, backend http.Handler, keys ...string) *Host {
	t.Helper()
	srv := httptest.NewServer(backend)
	t.Cleanup(srv.Close)
	h, err := Start(context.Background(), Options{
		AppDir:     writeApp(t, testHostJSON, testFunctions),
		BackendURL: srv.URL,
		Keys:       keys,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return do(t, req)
}

// do sends req without following redirects and reads the whole body.
func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestProxyKeepsPathQueryAndHost(t *testing.T) {
	ids := make(chan string, 10)
	h := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			return // readiness ping
		}
		ids <- r.Header.Get("x-ms-invocation-id")
		fmt.Fprintf(w, "%s %s?%s host=%s xfh=%s xfp=%s xff=%s",
			r.Method, r.URL.Path, r.URL.RawQuery, r.Host,
			r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-For"))
	}))
	req, _ := http.NewRequest(http.MethodGet, h.URL()+"/.well-known/oauth-protected-resource/mcp?a=1&b=%2F", nil)
	req.Host = "mcp.example.com"
	req.Header.Set("x-ms-invocation-id", "client-sent")
	// The entry a proxy before it (API Management) wrote is kept and the
	// caller's address appended, as the platform's front end does.
	req.Header.Set("X-Forwarded-For", "198.51.100.4")
	_, body := do(t, req)
	want := "GET /.well-known/oauth-protected-resource/mcp?a=1&b=%2F host=mcp.example.com xfh=mcp.example.com xfp=http xff=198.51.100.4, 127.0.0.1"
	if body != want {
		t.Errorf("backend saw\n %s\nwant\n %s", body, want)
	}
	get(t, h.URL()+"/mcp")
	id1, id2 := <-ids, <-ids
	if id1 == id2 || id1 == "client-sent" || len(id1) != 36 || len(id2) != 36 {
		t.Errorf("invocation ids %q, %q: want two fresh UUIDs, never the client's", id1, id2)
	}
}

func TestProxyPassesRedirects(t *testing.T) {
	h := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://client.example/cb?code=x", http.StatusFound)
	}))
	resp, _ := get(t, h.URL()+"/mcp")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://client.example/cb?code=x" {
		t.Errorf("got %d Location=%q, want the 302 as written", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestProxyStreams(t *testing.T) {
	release := make(chan struct{})
	h := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-release // the second chunk waits until the client saw the first
		fmt.Fprint(w, "data: two\n\n")
	}))
	resp, err := http.Post(h.URL()+"/mcp", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() != "" {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	select {
	case l := <-lines:
		if l != "data: one" {
			t.Fatalf("first chunk %q", l)
		}
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("first chunk did not arrive before the handler finished: response buffered")
	}
	close(release)
	if l := <-lines; l != "data: two" {
		t.Fatalf("second chunk %q", l)
	}
}

func TestRoutingAndKeys(t *testing.T) {
	h := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}), "k1", "k2")
	tests := []struct {
		method, path string
		header       []string
		want         int
	}{
		{"GET", "/nope", nil, 404},
		{"PUT", "/mcp?code=k1", nil, 404}, // method not in function.json
		{"GET", "/mcp", nil, 401},
		{"GET", "/mcp?code=wrong", nil, 401},
		{"GET", "/mcp?code=k1", nil, 418},
		{"POST", "/mcp", []string{"x-functions-key", "k2"}, 418},
		{"GET", "/healthz", nil, 418}, // anonymous
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, h.URL()+tt.path, nil)
		if tt.header != nil {
			req.Header.Set(tt.header[0], tt.header[1])
		}
		resp, body := do(t, req)
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s %v = %d, want %d", tt.method, tt.path, tt.header, resp.StatusCode, tt.want)
		}
		// The host's own refusals are ASP.NET Core's UnauthorizedResult and
		// NotFoundResult: the status alone, no body, no challenge.
		if tt.want != 418 && (body != "" || resp.Header.Get("WWW-Authenticate") != "" || resp.Header.Get("Content-Type") != "") {
			t.Errorf("%s %s: body %q, WWW-Authenticate %q, Content-Type %q; want the bare status",
				tt.method, tt.path, body, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Content-Type"))
		}
	}
}

// TestLaunch runs a real child process: port variable, environment,
// readiness wait on a handler that listens late, SIGTERM on Close.
func TestLaunch(t *testing.T) {
	var stderr strings.Builder
	opts := helperOptions(t, "serve")
	opts.Stderr = &stderr
	h, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, h.URL()+"/mcp")
	if body != "helper /mcp from-env" {
		t.Errorf("body %q", body)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "helper: SIGTERM") {
		t.Errorf("handler did not see SIGTERM; stderr %q", stderr.String())
	}
}

func TestLaunchFailures(t *testing.T) {
	t.Run("never answers", func(t *testing.T) {
		opts := helperOptions(t, "silent")
		opts.StartTimeout = 1 * time.Second
		_, err := Start(context.Background(), opts)
		if err == nil || !strings.Contains(err.Error(), "did not answer GET /") {
			t.Fatalf("Start error = %v", err)
		}
	})
	t.Run("exits", func(t *testing.T) {
		_, err := Start(context.Background(), helperOptions(t, "crash"))
		if err == nil || !strings.Contains(err.Error(), "boom: PUBLIC_BASE_URL is not set") {
			t.Fatalf("Start error = %v, want the handler's stderr", err)
		}
	})
	t.Run("executable is a directory", func(t *testing.T) {
		opts := helperOptions(t, "serve")
		opts.Executable = t.TempDir()
		if _, err := Start(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("Start error = %v", err)
		}
	})
}
