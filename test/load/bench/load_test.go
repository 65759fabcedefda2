package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The parsers read reports captured from hey v0.1.4 and wrk 4.1.0.
func TestParseReports(t *testing.T) {
	for _, tc := range []struct {
		file  string
		parse func(string) (result, error)
		want  result
	}{
		{"hey-ok.txt", parseHey, result{Requests: 48398, RPS: 24141.4492, P50: 600 * time.Microsecond, P99: 3 * time.Millisecond}},
		{"hey-404.txt", parseHey, result{Requests: 200, Errors: 200}},
		{"hey-refused.txt", parseHey, result{Errors: 20, RPS: 14239.2334}},
		{"wrk-ok.txt", parseWrk, result{Requests: 31407, RPS: 28358.82, P50: 394 * time.Microsecond, P99: 36650 * time.Microsecond}},
		{"wrk-404.txt", parseWrk, result{Requests: 32598, Errors: 32598, RPS: 29654.74, P50: 416 * time.Microsecond, P99: 14170 * time.Microsecond}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.parse(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if tc.file == "hey-404.txt" { // latency depends on the run; only counts are checked
				got.RPS, got.P50, got.P99 = 0, 0, 0
			}
			if !near(got.P50, tc.want.P50) || !near(got.P99, tc.want.P99) {
				t.Errorf("latency = %v/%v, want %v/%v", got.P50, got.P99, tc.want.P50, tc.want.P99)
			}
			got.P50, got.P99, tc.want.P50, tc.want.P99 = 0, 0, 0, 0
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func near(a, b time.Duration) bool { d := a - b; return d < time.Microsecond && d > -time.Microsecond }

func TestParseRejectsOtherOutput(t *testing.T) {
	for _, out := range []string{"", "unable to connect to 127.0.0.1:1 Connection refused", "Summary:\n  Total: 1 secs\n"} {
		if _, err := parseHey(out); err == nil {
			t.Errorf("parseHey(%q) = nil error", out)
		}
		if _, err := parseWrk(out); err == nil {
			t.Errorf("parseWrk(%q) = nil error", out)
		}
	}
}

func TestWrkScriptQuotesWithoutEscaping(t *testing.T) {
	got := wrkScript(request{Body: `{"a":"b\"c"}`, Headers: []string{"Authorization: Bearer x.y.z", "Accept: application/json, text/event-stream"}})
	for _, want := range []string{
		`wrk.method = "POST"`,
		`wrk.body = [==[{"a":"b\"c"}]==]`,
		`wrk.headers[ [==[Authorization]==] ] = [==[Bearer x.y.z]==]`,
		`wrk.headers[ [==[Accept]==] ] = [==[application/json, text/event-stream]==]`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %s:\n%s", want, got)
		}
	}
}

func TestMedianAndTarget(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	tg, err := parseTarget("ours=123@http://127.0.0.1:1/mcp")
	if err != nil || tg != (target{Name: "ours", PID: 123, URL: "http://127.0.0.1:1/mcp"}) {
		t.Errorf("parseTarget = %+v, %v", tg, err)
	}
	for _, bad := range []string{"ours", "ours=x@u", "=1@u", "ours=1@"} {
		if _, err := parseTarget(bad); err == nil {
			t.Errorf("parseTarget(%q) = nil error", bad)
		}
	}
}
