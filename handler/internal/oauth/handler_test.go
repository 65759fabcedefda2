package oauth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/memory"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testSigningKey is one RSA key for the package's tests: generating a
// 2048-bit key per handler would cost tens of milliseconds each.
var testSigningKey = sync.OnceValues(tokens.GenerateSigningKey)

// newTestHandler builds a Handler on the memory store with the test signing
// key, a fixed clock and a CIMD fetcher; mutate adjusts it before use.
func newTestHandler(t *testing.T, mutate func(*Handler)) *Handler {
	t.Helper()
	h := &Handler{
		Options: Options{
			PublicBaseURL: "https://apim-mcp.azure-api.net",
			ResourceURL:   "https://apim-mcp.azure-api.net/mcp",
			MCPScope:      "mcp:tools",
			Scopes: []Scope{
				{Name: "mcp:tools", Description: "use the tools as you", Permissions: []string{"https://graph.microsoft.com/User.Read"}},
				{Name: "mail.read", Description: "use Recent mail as you", Permissions: []string{"https://graph.microsoft.com/Mail.Read"}},
			},
		},
		Now:    func() time.Time { return t0 },
		Logger: slog.New(slog.DiscardHandler),
	}
	// One clock for everything: the handler's, whatever mutate sets it to.
	clock := func() time.Time { return h.now() }
	sk, err := testSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	h.Issuer, err = tokens.NewIssuer(tokens.IssuerOptions{Issuer: h.Options.PublicBaseURL, Audience: h.Options.ResourceURL, TTL: time.Hour, Now: clock}, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	sk2, err := tokens.GenerateSealingKey()
	if err != nil {
		t.Fatal(err)
	}
	h.Sealer, err = tokens.NewSealer(sk2, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Store = memory.New(memory.WithClock(clock))
	h.Metadata = NewCIMDFetcher(CIMDOptions{Now: clock, Logger: slog.New(slog.DiscardHandler)})
	if mutate != nil {
		mutate(h)
	}
	return h
}

// flakyStore fails the client operations as a storage outage would.
type flakyStore struct{ store.Store }

func (flakyStore) CreateClient(context.Context, store.Client) error {
	return errors.Join(store.ErrUnavailable, errors.New("table endpoint timed out"))
}

func (flakyStore) GetClient(context.Context, string) (store.Client, error) {
	return store.Client{}, errors.Join(store.ErrUnavailable, errors.New("table endpoint timed out"))
}

func TestHandlerClient(t *testing.T) {
	h := newTestHandler(t, nil)
	ctx := context.Background()
	reg := store.Client{ID: "abc_DEF-123", RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"}}
	if err := h.Store.CreateClient(ctx, reg); err != nil {
		t.Fatal(err)
	}
	if c, err := h.Client(ctx, reg.ID); err != nil || c.ID != reg.ID {
		t.Fatalf("Client(registered) = %+v, %v", c, err)
	}
	tests := []struct {
		name, id string
		wantCode string
	}{
		{"empty", "", CodeInvalidRequest},
		{"unknown", "nope", CodeInvalidClient},
		{"http URL", "http://example.com/client.json", CodeInvalidClient},
		{"urn", "urn:example:client", CodeInvalidClient},
		{"https without path", "https://example.com", CodeInvalidClient},
		{"https with userinfo", "https://u@example.com/c.json", CodeInvalidClient},
		{"too long", string(make([]byte, maxClientIDLen+1)), CodeInvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Client(ctx, tt.id)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Errorf("Client(%q) error = %v, want %s", tt.id, err, tt.wantCode)
			}
		})
	}

	noCIMD := newTestHandler(t, func(h *Handler) { h.Metadata = nil })
	if _, err := noCIMD.Client(ctx, "https://vscode.dev/oauth/client-metadata.json"); AsError(err).Code != CodeInvalidClient {
		t.Errorf("CIMD disabled: error = %v, want invalid_client", err)
	}
	down := newTestHandler(t, func(h *Handler) { h.Store = flakyStore{h.Store} })
	if _, err := down.Client(ctx, "abc"); !errors.Is(err, store.ErrUnavailable) || AsError(err).StatusCode() != 503 {
		t.Errorf("store down: error = %v, want ErrUnavailable (503)", err)
	}
}
