package entra

import (
	"context"
	"net/http"
	"net/http/httptest"
)

type discard struct{}

func (discard) WarnContext(context.Context, string, ...any) {}

func serve(h http.Handler, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
