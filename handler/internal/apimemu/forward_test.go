package apimemu

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var plainPolicy = testPolicy("<base />", "<base />", "<base />", "<base />")

// TestForwardAsAPIM: path and query unchanged (the API sits at the root),
// Host is the backend's, the caller's address is appended to
// X-Forwarded-For, the API policy's set-header overrides a client's
// x-functions-key, and operations without a policy get the API policy.
func TestForwardAsAPIM(t *testing.T) {
	echo := newEcho(t)
	dir := testInfra{
		ops: []Operation{
			{Name: "get-things", Method: "GET", URLTemplate: "/things/list", Policy: "plain"},
			{Name: "post-bare", Method: "POST", URLTemplate: "/bare"},
		},
		policies: map[string]string{"plain": plainPolicy},
	}.write(t)
	gw, _ := startGateway(t, Config{InfraDir: dir}, echo.URL)

	resp, body := do(t, newReq(t, "GET", gw+"/things/list?a=1&b=%2F&a=2", "x-functions-key", "client-chosen", "X-Forwarded-For", "203.0.113.7"))
	var got echoed
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	backendHost := strings.TrimPrefix(echo.URL, "http://")
	if got.Path != "/things/list" || got.RawQuery != "a=1&b=%2F&a=2" || got.Host != backendHost {
		t.Errorf("backend saw path %q query %q host %q", got.Path, got.RawQuery, got.Host)
	}
	if k := got.Header.Values("X-Functions-Key"); len(k) != 1 || k[0] != "host-key" {
		t.Errorf("x-functions-key %v, want the named value only", k)
	}
	if xff := got.Header.Get("X-Forwarded-For"); xff != "203.0.113.7, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q", xff)
	}

	req := newReq(t, "POST", gw+"/bare")
	req.Body = nopBody("hello")
	req.ContentLength = 5
	if resp, body = do(t, req); resp.StatusCode != 200 || !strings.Contains(body, `"Body":"hello"`) {
		t.Errorf("POST without an operation policy: %d %s", resp.StatusCode, body)
	}
}

// TestUnmatchedIs404: no operation for the method or path gives APIM's 404.
func TestUnmatchedIs404(t *testing.T) {
	echo := newEcho(t)
	dir := testInfra{ops: []Operation{{Name: "get-a", Method: "GET", URLTemplate: "/a", Policy: "plain"}},
		policies: map[string]string{"plain": plainPolicy}}.write(t)
	gw, _ := startGateway(t, Config{InfraDir: dir}, echo.URL)
	for _, req := range []*http.Request{newReq(t, "POST", gw+"/a"), newReq(t, "GET", gw+"/b"), newReq(t, "OPTIONS", gw+"/a"), newReq(t, "GET", gw+"/a/")} {
		resp, body := do(t, req)
		if resp.StatusCode != 404 || body != `{"statusCode":404,"message":"Resource not found"}` || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, newReq(t, "GET", gw+"/A")); resp.StatusCode != 200 {
		t.Errorf("GET /A: %d, want the /a operation (templates match case-insensitively)", resp.StatusCode)
	}
}

// TestStreamingPassthrough: with buffer-response="false" each chunk reaches
// the caller while the backend is still writing; with the default
// buffering, a small chunk waits for 8 KB or the end of the stream.
func TestStreamingPassthrough(t *testing.T) {
	release := make(chan struct{})
	backendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.Write([]byte("data: first\n\n"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		w.Write([]byte("data: second\n\n"))
	}))
	t.Cleanup(backendSrv.Close)
	dir := testInfra{
		ops: []Operation{
			{Name: "stream", Method: "GET", URLTemplate: "/stream", Policy: "stream"},
			{Name: "buffered", Method: "GET", URLTemplate: "/buffered", Policy: "plain"},
		},
		policies: map[string]string{
			"stream": testPolicy("<base />", `<forward-request timeout="230" buffer-response="false" fail-on-error-status-code="false" />`, "<base />", "<base />"),
			"plain":  plainPolicy,
		},
	}.write(t)
	gw, _ := startGateway(t, Config{InfraDir: dir}, backendSrv.URL)

	firstLine := func(path string) (string, time.Duration) {
		resp, err := http.Get(gw + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		start := time.Now()
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		return line, time.Since(start)
	}
	done := make(chan string, 1)
	go func() { l, _ := firstLine("/stream"); done <- l }()
	select {
	case l := <-done:
		if l != "data: first\n" {
			t.Fatalf("first line %q", l)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("buffer-response=false: the first event did not arrive while the backend held the stream open")
	}

	go func() { l, _ := firstLine("/buffered"); done <- l }()
	select {
	case l := <-done:
		t.Fatalf("default buffering passed %q before 8 KB or the end of the stream", l)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if l := <-done; l != "data: first\n" {
		t.Fatalf("buffered first line %q", l)
	}
}

// TestForwardFailures: an unreachable backend, a timeout, and
// fail-on-error-status-code, each reaching on-error with the documented
// source and reason.
func TestForwardFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(slow.Close)
	dir := testInfra{
		ops: []Operation{
			{Name: "slow", Method: "GET", URLTemplate: "/slow", Policy: "timeout"},
			{Name: "fail", Method: "GET", URLTemplate: "/fail", Policy: "fail"},
			{Name: "pass", Method: "GET", URLTemplate: "/pass", Policy: "plain"},
		},
		policies: map[string]string{
			"timeout": testPolicy("<base />", `<forward-request timeout="1" />`, "<base />", "<base />"),
			"fail": testPolicy("<base />", `<forward-request fail-on-error-status-code="true" />`, "<base />",
				`<base /><return-response><set-status code="502" reason="Bad Gateway" /></return-response>`),
			"plain": plainPolicy,
		},
	}.write(t)
	gw, g := startGateway(t, Config{InfraDir: dir}, slow.URL)

	if resp, body := do(t, newReq(t, "GET", gw+"/slow")); resp.StatusCode != 500 || !strings.Contains(body, "did not answer in time") {
		t.Errorf("timeout: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, newReq(t, "GET", gw+"/fail")); resp.StatusCode != 502 {
		t.Errorf("fail-on-error-status-code: %d, want on-error's 502", resp.StatusCode)
	}
	if resp, _ := do(t, newReq(t, "GET", gw+"/pass")); resp.StatusCode != http.StatusTeapot {
		t.Errorf("default: %d, want the backend's 418 passed through", resp.StatusCode)
	}
	slow.Close()
	g.Close()
	if resp, body := do(t, newReq(t, "GET", gw+"/pass")); resp.StatusCode != 500 || !strings.Contains(body, `"statusCode":500`) {
		t.Errorf("backend down: %d %s", resp.StatusCode, body)
	}
}

// TestHeadHasNoBody: HEAD goes to the backend and comes back without a body.
func TestHeadHasNoBody(t *testing.T) {
	echo := newEcho(t)
	dir := testInfra{ops: []Operation{{Name: "head", Method: "HEAD", URLTemplate: "/h", Policy: "plain"}}, policies: map[string]string{"plain": plainPolicy}}.write(t)
	gw, _ := startGateway(t, Config{InfraDir: dir}, echo.URL)
	resp, body := do(t, newReq(t, "HEAD", gw+"/h"))
	if resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD: %d %q", resp.StatusCode, body)
	}
}

type stringBody struct{ *strings.Reader }

func (stringBody) Close() error { return nil }

func nopBody(s string) stringBody { return stringBody{strings.NewReader(s)} }
