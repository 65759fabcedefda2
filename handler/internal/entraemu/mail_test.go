package entraemu

import (
	"net/http"
	"net/url"
	"testing"
)

// graphToken gets a Graph token for upn with scope through On-Behalf-Of.
func graphToken(t *testing.T, e *Emulator, upn, scope string) string {
	t.Helper()
	status, body := obo(t, e, appToken(t, e, upn), scope)
	if status != 200 {
		t.Fatalf("On-Behalf-Of %s for %s: %d %v", scope, upn, status, body)
	}
	return body["access_token"].(string)
}

func TestMessages(t *testing.T) {
	e := NewTestServer(t, nil)
	adeleMail := graphToken(t, e, adele, mailRead)

	status, body := getJSON(t, e, "/v1.0/me/messages?"+url.Values{
		"$top": {"3"}, "$select": {"subject,from,receivedDateTime"}, "$orderby": {"receivedDateTime desc"},
	}.Encode(), adeleMail)
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	values := body["value"].([]any)
	if len(values) != 3 {
		t.Fatalf("value has %d messages, want 3", len(values))
	}
	first := values[0].(map[string]any)
	from := first["from"].(map[string]any)["emailAddress"].(map[string]any)
	if first["subject"] != "Quarterly retail review" || from["name"] != "Megan Bowen" || from["address"] != "MeganB@contoso.example" ||
		first["receivedDateTime"] != "2026-05-04T09:12:00Z" || first["id"] == nil {
		t.Fatalf("first message = %v", first)
	}
	if _, ok := first["bodyPreview"]; ok {
		t.Error("$select did not limit the properties")
	}
	if last := values[2].(map[string]any); last["subject"] != "Re: Holiday staffing" {
		t.Errorf("not sorted newest first: %v", last)
	}
	if body["@odata.nextLink"] == nil {
		t.Error("five messages, three returned, but no @odata.nextLink")
	}

	// Ascending order and the default page size of 10.
	_, asc := getJSON(t, e, "/v1.0/me/messages?$orderby=receivedDateTime+asc", adeleMail)
	if v := asc["value"].([]any); len(v) != 5 || v[0].(map[string]any)["subject"] != "Welcome to Contoso" || asc["@odata.nextLink"] != nil {
		t.Errorf("ascending = %v", asc)
	}
}

// TestMessagesOwnMailbox: with tenant-wide admin consent to Mail.Read,
// every user reads their own mailbox and only theirs.
func TestMessagesOwnMailbox(t *testing.T) {
	e := NewTestServer(t, func(c *Config) { c.App.GraphScopes = append(c.App.GraphScopes, "Mail.Read") })
	for upn, newest := range map[string]string{adele: "Quarterly retail review", megan: "Re: Quarterly retail review", "AlexW@contoso.example": "Campaign assets"} {
		status, body := getJSON(t, e, "/v1.0/me/messages?$top=1", graphToken(t, e, upn, mailRead))
		if v, _ := body["value"].([]any); status != 200 || len(v) != 1 || v[0].(map[string]any)["subject"] != newest {
			t.Errorf("%s: %d %v, want %q first", upn, status, body, newest)
		}
	}
}

func TestMessagesRefused(t *testing.T) {
	e := NewTestServer(t, nil)
	mail := graphToken(t, e, adele, mailRead)
	userRead := graphToken(t, e, adele, graphUser)
	tests := []struct {
		name, query, token string
		status             int
		code               string
	}{
		{"no token", "", "", http.StatusUnauthorized, "InvalidAuthenticationToken"},
		{"token without a mail permission", "", userRead, http.StatusForbidden, "ErrorAccessDenied"},
		{"an API app token", "", appToken(t, e, adele), http.StatusUnauthorized, "InvalidAuthenticationToken"},
		{"$top 0", "$top=0", mail, http.StatusBadRequest, "BadRequest"},
		{"$top 1001", "$top=1001", mail, http.StatusBadRequest, "BadRequest"},
		{"$top not a number", "$top=ten", mail, http.StatusBadRequest, "BadRequest"},
		{"unknown property", "$select=subject,secret", mail, http.StatusBadRequest, "BadRequest"},
		{"unmodelled $filter", "$filter=isRead+eq+false", mail, http.StatusBadRequest, "BadRequest"},
		{"unmodelled $orderby", "$orderby=subject", mail, http.StatusBadRequest, "BadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := getJSON(t, e, "/v1.0/me/messages?"+tt.query, tt.token)
			if status != tt.status || body["error"].(map[string]any)["code"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
}
