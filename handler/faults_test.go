package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// TestStorageDown: with Table Storage unreachable, every endpoint that
// needs state answers 503 temporarily_unavailable quickly (bounded waits),
// never a 500 or a hang; the browser gets an HTML page.
func TestStorageDown(t *testing.T) {
	dead := testutil.FreeAddr(t) // nothing listens here
	ts := newTestServer(t, func(env map[string]string) {
		env["STORAGE_CONNECTION_STRING"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
			"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
			"TableEndpoint=http://" + dead + "/devstoreaccount1;"
	})
	base := ts.BaseURL
	jsonError := func(t *testing.T, resp *http.Response) string {
		t.Helper()
		defer resp.Body.Close()
		var e struct{ Error string }
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &e)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d, body %s", resp.StatusCode, b)
		}
		return e.Error
	}

	t.Run("register", func(t *testing.T) {
		resp, err := http.Post(base+"/register", "application/json", strings.NewReader(`{"redirect_uris":["http://127.0.0.1/cb"]}`))
		if err != nil {
			t.Fatal(err)
		}
		if e := jsonError(t, resp); e != "temporarily_unavailable" {
			t.Fatalf("error %q", e)
		}
	})
	t.Run("token", func(t *testing.T) {
		resp, err := http.PostForm(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {"some-client"}})
		if err != nil {
			t.Fatal(err)
		}
		if e := jsonError(t, resp); e != "temporarily_unavailable" {
			t.Fatalf("error %q", e)
		}
	})
	t.Run("authorize shows an HTML page", func(t *testing.T) {
		resp, err := http.Get(base + "/authorize?client_id=some-client&response_type=code")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
	t.Run("mcp with a well-signed token whose grant cannot be read", func(t *testing.T) {
		c, _, err := ts.issuer.Mint(tokensClaims())
		if err != nil {
			t.Fatal(err)
		}
		if code := mcpStatus(t, ts.stack, c); code != 503 {
			t.Fatalf("/mcp = %d, want 503", code)
		}
	})
}

func tokensClaims() tokens.AccessClaims {
	return tokens.AccessClaims{Subject: "s", ClientID: "c", Scope: "mcp:tools", GrantID: "g"}
}
