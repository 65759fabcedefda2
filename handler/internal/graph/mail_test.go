package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// graphToken gets a Graph token for upn from the Entra emulator through
// On-Behalf-Of, as the handler does.
func graphToken(t *testing.T, e *entraemu.Emulator, upn, scope string) string {
	t.Helper()
	u, _ := e.User(upn)
	assertion, err := e.SignToken(e.DefaultAccessTokenClaims(u, entraemu.DevPublicClientID))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.Client().PostForm(e.BaseURL()+"/"+e.TenantID()+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "client_id": {entraemu.DevAppClientID},
		"client_secret": {entraemu.DevAppClientSecret}, "assertion": {assertion}, "requested_token_use": {"on_behalf_of"}, "scope": {scope},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("On-Behalf-Of %s: %d %v", scope, resp.StatusCode, err)
	}
	return body.AccessToken
}

// TestRecentMessages runs against the emulator's Graph, which refuses any
// query it does not model, so the request shape is checked too.
func TestRecentMessages(t *testing.T) {
	e := entraemu.NewTestServer(t, nil)
	c := &Client{BaseURL: e.BaseURL(), HTTPClient: e.Client()}
	ctx := context.Background()
	adele := "AdeleV@contoso.example"

	msgs, err := c.RecentMessages(ctx, graphToken(t, e, adele, Resource+"/Mail.Read"), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 5, 4, 9, 12, 0, 0, time.UTC)
	if len(msgs) != 2 || msgs[0].Subject != "Quarterly retail review" || msgs[0].From.EmailAddress.Name != "Megan Bowen" ||
		msgs[0].From.EmailAddress.Address != "MeganB@contoso.example" || !msgs[0].ReceivedDateTime.Equal(want) ||
		msgs[1].Subject != "Store opening checklist" {
		t.Fatalf("messages = %+v", msgs)
	}

	_, err = c.RecentMessages(ctx, graphToken(t, e, adele, Resource+"/User.Read"), 2)
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 403 || ge.Code != "ErrorAccessDenied" {
		t.Fatalf("without Mail.Read: %v", err)
	}
	if ge.UserMessage() != "Microsoft Graph answered 403 ErrorAccessDenied." {
		t.Errorf("UserMessage = %q", ge.UserMessage())
	}
	for _, n := range []int{0, -1, MaxMessages + 1} {
		if _, err := c.RecentMessages(ctx, "unused", n); err == nil {
			t.Errorf("RecentMessages(%d) = nil error", n)
		}
	}
}
