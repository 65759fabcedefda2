package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.0/me" || r.URL.Query().Get("$select") == "" {
			http.NotFound(w, r)
			return
		}
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			_, _ = w.Write([]byte(`{"id":"u1","displayName":"Adele Vance","mail":"a@x","userPrincipalName":"a@x","jobTitle":"Retail Manager"}`))
		case "Bearer broken":
			_, _ = w.Write([]byte(`{"id":`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}`))
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, HTTPClient: srv.Client()}

	p, err := c.Me(context.Background(), "good")
	if err != nil || p.DisplayName != "Adele Vance" || p.JobTitle != "Retail Manager" {
		t.Fatalf("Me = %+v, %v", p, err)
	}
	_, err = c.Me(context.Background(), "bad")
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 401 || ge.Code != "InvalidAuthenticationToken" {
		t.Fatalf("Me(bad) err = %v", err)
	}
	if _, err := c.Me(context.Background(), "broken"); err == nil {
		t.Fatal("Me(broken JSON) = nil error")
	}
}
