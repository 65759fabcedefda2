// Package graph calls Microsoft Graph v1.0 with a delegated token obtained
// through On-Behalf-Of. Only what the tools need: the signed-in user's
// profile (/me) and their newest messages (/me/messages).
package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Resource is Microsoft Graph's resource (App ID URI); its delegated
// permissions are written Resource + "/" + name, e.g. Resource+"/Mail.Read".
const Resource = "https://graph.microsoft.com"

// Profile is the subset of the Graph user resource the whoami tool shows.
type Profile struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail,omitempty"`
	UserPrincipalName string `json:"userPrincipalName"`
	JobTitle          string `json:"jobTitle,omitempty"`
	Department        string `json:"department,omitempty"`
	OfficeLocation    string `json:"officeLocation,omitempty"`
}

// Client calls Graph. BaseURL is configuration (https://graph.microsoft.com,
// or the emulator locally).
type Client struct {
	BaseURL    string
	HTTPClient *http.Client
}

// Error is a Graph error answer.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("graph: %d %s: %s", e.Status, e.Code, e.Message)
}

// UserMessage says what failed without Graph's message, which may carry
// request detail that does not belong in a model's context.
func (e *Error) UserMessage() string {
	return fmt.Sprintf("Microsoft Graph answered %d %s.", e.Status, e.Code)
}

const meSelect = "id,displayName,mail,userPrincipalName,jobTitle,department,officeLocation"

// Me returns the signed-in user's profile (GET /me; delegated User.Read).
func (c *Client) Me(ctx context.Context, token string) (Profile, error) {
	var p Profile
	err := c.get(ctx, token, "/v1.0/me?$select="+meSelect, &p)
	return p, err
}

// get calls GET path with token and decodes the JSON answer into out; a
// non-200 answer becomes *Error. Bodies are read up to 1 MiB.
func (c *Client) get(ctx context.Context, token, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 1<<20)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.NewDecoder(body).Decode(&e)
		return &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fmt.Errorf("graph: decode %s: %w", req.URL.Path, err)
	}
	return nil
}
