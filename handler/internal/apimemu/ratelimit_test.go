package apimemu

import (
	"net/http"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// TestLimiterSlidingWindow: calls per key in a sliding window; refused
// calls do not count; Retry-After is when the oldest call leaves.
func TestLimiterSlidingWindow(t *testing.T) {
	l := newLimiter()
	t0 := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if _, ok := l.take("k", 3, time.Minute, t0.Add(time.Duration(i)*10*time.Second)); !ok {
			t.Fatalf("call %d refused", i)
		}
	}
	retry, ok := l.take("k", 3, time.Minute, t0.Add(25*time.Second))
	if ok || retry != 35*time.Second {
		t.Fatalf("4th call: ok=%v retry=%s, want refused, retry 35s", ok, retry)
	}
	if _, ok := l.take("other", 3, time.Minute, t0.Add(25*time.Second)); !ok {
		t.Fatal("another key shares the counter")
	}
	if _, ok := l.take("k", 3, time.Minute, t0.Add(60*time.Second)); !ok {
		t.Fatal("after the first call left the window, a call is allowed")
	}
	if _, ok := l.take("k", 3, time.Minute, t0.Add(61*time.Second)); ok {
		t.Fatal("calls at 10 s, 20 s and 60 s are still in the window at 61 s")
	}
}

// TestRateLimitPolicy: over the limit, 429 with Retry-After and APIM's
// message; the counter key is per operation and client address, as in the
// real policy files, and one counter serves every policy with that key.
func TestRateLimitPolicy(t *testing.T) {
	clock := testutil.NewClock(time.Unix(5000, 0))
	limit := `<base /><rate-limit-by-key calls="2" renewal-period="30" counter-key='@(context.Operation.Id + ":" + context.Request.IpAddress)' />`
	dir := testInfra{
		ops: []Operation{
			{Name: "post-a", Method: "POST", URLTemplate: "/a", Policy: "limited"},
			{Name: "post-b", Method: "POST", URLTemplate: "/b", Policy: "limited"},
		},
		policies: map[string]string{"limited": testPolicy(limit, "<base />", "<base />", "<base />")},
	}.write(t)
	gw, _ := startGateway(t, Config{InfraDir: dir, Now: clock.Now}, newEcho(t).URL)
	post := func(path string) *http.Response {
		resp, _ := do(t, newReq(t, "POST", gw+path))
		return resp
	}
	for i := range 2 {
		if post("/a").StatusCode != 200 {
			t.Fatalf("call %d of 2 must pass", i+1)
		}
	}
	resp, body := do(t, newReq(t, "POST", gw+"/a"))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" ||
		body != `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 30 seconds."}` {
		t.Fatalf("third call: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if post("/b").StatusCode != 200 {
		t.Fatal("/b has its own counter (the key holds the operation id)")
	}
	clock.Advance(30 * time.Second)
	if post("/a").StatusCode != 200 {
		t.Fatal("after the renewal period the call passes again")
	}
}
